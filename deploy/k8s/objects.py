"""The objects every workload and backend builds alike: labels, resources, a Service, a
disruption budget and an autoscaler."""

PART_OF = {"app.kubernetes.io/part-of": "streamify"}


def labels(owner: str, component: str) -> dict:
    return {**PART_OF, "streamify/service": owner, "app.kubernetes.io/component": component}


def resources(cpu: str, memory: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


def service(name: str, selector: dict, ports: list[dict], *, headless: bool = False) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": selector},
        "spec": {
            **({"clusterIP": "None"} if headless else {}),
            "selector": selector,
            "ports": [
                {"name": p["name"], "port": p["containerPort"], "targetPort": p["name"]}
                for p in ports
            ],
        },
    }


def budget(name: str, selector: dict) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "labels": selector},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
    }


def autoscaler(name: str, selector: dict) -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": selector},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 1,
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }
