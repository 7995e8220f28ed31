"""Who may reach which pods: a NetworkPolicy per workload (its callers, or Prometheus on its
metrics port) and the gateway's Ingress, the one way in from outside."""

from deploy.k8s.objects import PART_OF

# Who calls whom inside the cluster (HTTP and gRPC: the gateway's proxy, GraphQL, saga and
# health; streaming's metadata reads and charges); the gateway is also reached from outside,
# and Flower from nowhere but `kubectl port-forward`.
CALLERS = {
    "auth": ("gateway",),
    "video": ("gateway", "streaming"),
    "streaming": ("gateway",),
    "billing": ("gateway", "streaming"),
    "analytics": ("gateway",),
}


def pods_of(*owners: str) -> list[dict]:
    return [{**PART_OF, "streamify/service": owner} for owner in owners]


def ingress_policy(name: str, selector: dict, ports: list[dict], sources) -> dict:
    """Traffic to these pods' ports from `sources` (pod label sets), from anywhere (None), or
    from nobody (empty: `kubectl port-forward` enters the pod from inside, not through this)."""
    rule: dict = {"ports": [{"port": p["containerPort"], "protocol": "TCP"} for p in ports]}
    if sources is not None:
        rule["from"] = [{"podSelector": {"matchLabels": match}} for match in sources]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": selector},
        "spec": {
            "podSelector": {"matchLabels": selector},
            "policyTypes": ["Ingress"],
            # An empty `from` would admit everyone: "nobody" is no rule at all.
            "ingress": [rule] if sources is None or sources else [],
        },
    }


def scrape_policy(name: str, selector: dict, port: int) -> dict:
    """Prometheus may read these pods' metrics port from a namespace (or a pod of this one)
    labelled `streamify/metrics-scraper: "true"`; the service's own policy admits only its
    callers."""
    scraper = {"streamify/metrics-scraper": "true"}
    policy = ingress_policy(f"{name}-metrics", selector, [{"containerPort": port}], ())
    policy["spec"]["ingress"] = [
        {
            "ports": [{"port": port, "protocol": "TCP"}],
            "from": [
                {"namespaceSelector": {"matchLabels": scraper}},
                {"podSelector": {"matchLabels": scraper}},
            ],
        }
    ]
    return policy


def gateway_ingress() -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "gateway",
            "labels": PART_OF,
            # Bodies are buffered before they reach the gateway (README, "Configuration").
            "annotations": {
                "nginx.ingress.kubernetes.io/proxy-body-size": "2g",
                "nginx.ingress.kubernetes.io/proxy-request-buffering": "on",
            },
        },
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": "gateway", "port": {"name": "http"}}
                                },
                            }
                        ]
                    }
                }
            ]
        },
    }
