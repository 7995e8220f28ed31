"""Kubernetes manifests from the same facts as `make run` and docker-compose.

    python -m deploy.k8s                  # write deploy/k8s/base/ and the dev overlay's backends
    python -m deploy.k8s --check          # the files in the tree are what this writes
    python -m deploy.k8s secrets --overlay dev | kubectl apply -n streamify -f -
                                          # Secrets with fresh keys and passwords (never in git)

The workloads are `deploy.processes`' programs: the same command, port and environment names
as under `make run` with STREAMIFY_WORKERS_APART=1, one Deployment each: per service its web
process and its worker, and for auth and video a gRPC server, so each scales apart.
Migrations and the broker topology run as one Job per service (`manage.py prepare_service`),
never in a serving command. The overlays (`deploy/k8s/overlays/`) are written by hand: `dev`
adds PostgreSQL (one per service), RabbitMQ, Redis and MinIO (media) in the cluster; `prod`
expects them outside, named by the Secrets.
"""

import argparse
import os
import sys
from pathlib import Path

import yaml

from common.media_storage import MEDIA_SERVICES
from common.paths import REPO_ROOT
from common.service_registry import DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORTS, SERVICES
from deploy import processes

K8S = REPO_ROOT / "deploy" / "k8s"
IMAGE = "streamify:latest"
PART_OF = {"app.kubernetes.io/part-of": "streamify"}
FLOWER_PORT = 5555
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
# Where a worker running apart serves its counters (common.metrics.exposition).
WORKER_METRICS_PORT = 9100
HEADER = "# Written by `python -m deploy.k8s` from deploy/processes.py: change that, then rerun.\n"


def labels(owner: str, component: str) -> dict:
    return {**PART_OF, "streamify/service": owner, "app.kubernetes.io/component": component}


def command(argv: list[str]) -> list[str]:
    """An argv of `make run` as the image runs it: the virtualenv's tools are on its PATH."""
    first = "python" if argv[0] == sys.executable else Path(argv[0]).name
    return [first, *argv[1:]]


def env_from(owner: str) -> list[dict]:
    """Settings every process shares, the owner's own Secret (its database, its keys) and, for
    video and streaming, the media bucket's."""
    sources = [
        {"configMapRef": {"name": "streamify-config"}},
        {"secretRef": {"name": "streamify-shared"}},
        {"secretRef": {"name": f"streamify-{owner}"}},
    ]
    if owner in MEDIA_SERVICES:
        sources.append({"secretRef": {"name": "streamify-media"}})
    return sources


def resources(cpu: str, memory: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


def waits_for_prepare(owner: str) -> dict:
    """An init container holding a service's pods until its prepare Job has migrated its
    database: `migrate --check` fails while a migration is unapplied or the database is away."""
    return {
        "name": "wait-for-prepare",
        "image": IMAGE,
        "workingDir": f"/app/{owner}_project",
        "command": [
            "sh", "-c",
            f"until python manage.py migrate --check >/dev/null 2>&1; "
            f"do echo 'waiting for {owner}-prepare'; sleep 3; done",
        ],
        "envFrom": env_from(owner),
        "resources": resources("50m", "128Mi", "512Mi"),
    }  # fmt: skip


def deployment(
    program: processes.Program, owner: str, component: str, *, scraped_on: int = 0, **container
) -> dict:
    """`scraped_on`: the port whose /metrics Prometheus reads (its usual pod annotations)."""
    spec: dict = {
        # No `<SERVICE>_PORT=tcp://...` variables from Kubernetes' service links: the
        # platform reads `<SERVICE>_PORT` as its own port number (and Flower `FLOWER_PORT`).
        "enableServiceLinks": False,
        **({"initContainers": [waits_for_prepare(owner)]} if owner in SERVICES else {}),
        "containers": [
            {
                "name": program.name,
                "image": IMAGE,
                "command": command(program.argv),
                "env": [{"name": k, "value": v} for k, v in sorted(program.env.items())],
                "envFrom": env_from(owner),
                **container,
            }
        ],
    }
    selector = labels(owner, component)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": program.name, "labels": selector},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": selector, **scraped(scraped_on)}, "spec": spec},
        },
    }


def scraped(port: int) -> dict:
    if not port:
        return {}
    annotations = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }
    return {"annotations": annotations}


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


def pods_of(*owners: str) -> list[dict]:
    return [{**PART_OF, "streamify/service": owner} for owner in owners]


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


def web(name: str) -> list[dict]:
    ports = [{"name": "http", "containerPort": DEFAULT_HTTP_PORTS[name]}]
    probes = {
        "readinessProbe": {
            "httpGet": {"path": "/health/ready", "port": "http"},
            "periodSeconds": 10,
        },
        "livenessProbe": {"httpGet": {"path": "/health/live", "port": "http"}, "periodSeconds": 20},
    }
    selector = labels(name, "web")
    return [
        deployment(
            processes.web(name),
            name,
            "web",
            ports=ports,
            resources=resources("100m", "160Mi", "512Mi"),
            scraped_on=DEFAULT_HTTP_PORTS[name],
            **probes,
        ),
        service(name, selector, ports),
        autoscaler(name, selector),
        budget(name, selector),
        ingress_policy(
            name, selector, ports, None if name == "gateway" else pods_of(*CALLERS[name])
        ),
        scrape_policy(name, selector, DEFAULT_HTTP_PORTS[name]),
    ]


def grpc_server(name: str) -> list[dict]:
    program = processes.grpc_server(name)
    port = DEFAULT_GRPC_PORTS[name]
    ports = [{"name": "grpc", "containerPort": port}]
    # grpc.health.v1 answers NOT_SERVING while the server drains: out of the endpoints then.
    probes = {
        "readinessProbe": {"grpc": {"port": port}, "periodSeconds": 10},
        "livenessProbe": {"grpc": {"port": port}, "periodSeconds": 20},
    }
    selector = labels(name, "grpc")
    return [
        deployment(
            program,
            name,
            "grpc",
            ports=ports,
            resources=resources("100m", "160Mi", "512Mi"),
            **probes,
        ),
        # gRPC keeps one connection open per server: behind a ClusterIP every call would go to
        # the pod that connection reached. A headless Service gives clients every pod's address,
        # and their round_robin policy (common.rpc.client.channel_to) spreads calls over them.
        service(program.name, selector, ports, headless=True),
        autoscaler(program.name, selector),
        budget(program.name, selector),
        ingress_policy(program.name, selector, ports, pods_of(*CALLERS[name])),
    ]


def worker(name: str) -> list[dict]:
    program = processes.worker(name)
    memory = "384Mi" if name == "video" else "160Mi"  # ffmpeg runs in the video worker
    ports = [{"name": "metrics", "containerPort": WORKER_METRICS_PORT}]
    made = deployment(
        program, name, "worker", ports=ports, resources=resources("50m", memory, "1Gi"),
        scraped_on=WORKER_METRICS_PORT,
    )  # fmt: skip
    selector = labels(name, "worker")
    return [
        made,
        budget(program.name, selector),
        scrape_policy(program.name, selector, WORKER_METRICS_PORT),
    ]


def prepare_job(name: str) -> dict:
    selector = labels(name, "prepare")
    container = {
        "name": "prepare",
        "image": IMAGE,
        "workingDir": f"/app/{name}_project",
        "command": ["python", "manage.py", "prepare_service"],
        "envFrom": env_from(name),
        "resources": resources("100m", "160Mi", "512Mi"),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"{name}-prepare", "labels": selector},
        "spec": {
            "backoffLimit": 10,
            # A Job's pod template cannot change once created: a finished Job goes away after
            # ten minutes, so the next `kubectl apply` (a new image) creates and runs it again.
            "ttlSecondsAfterFinished": 600,
            "template": {
                "metadata": {"labels": selector},
                "spec": {
                    "enableServiceLinks": False,
                    "restartPolicy": "OnFailure",
                    "containers": [container],
                },
            },
        },
    }


def flower() -> list[dict]:
    program = processes.Program("flower", processes.flower_argv(FLOWER_PORT, "0.0.0.0"))
    ports = [{"name": "http", "containerPort": FLOWER_PORT}]
    selector = labels("flower", "web")
    made = deployment(
        program, "flower", "web", ports=ports, resources=resources("20m", "96Mi", "256Mi")
    )
    # Its basic-auth login comes from its own Secret (`streamify-flower`), like every secret.
    return [made, service("flower", selector, ports), ingress_policy("flower", selector, ports, ())]


def config() -> dict:
    data = {
        "BIND_HOST": "0.0.0.0",
        "STREAMIFY_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
        **{f"{s.upper()}_URL": f"http://{s}:{DEFAULT_HTTP_PORTS[s]}" for s in SERVICES},
        **{
            f"{s.upper()}_GRPC_TARGET": f"dns:///{s}-grpc:{port}"
            for s, port in DEFAULT_GRPC_PORTS.items()
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "streamify-config", "labels": PART_OF},
        "data": data,
    }


def shared() -> list[dict]:
    gateway = {
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
    return [config(), gateway]


def base() -> dict[str, list[dict]]:
    """The base's files and the objects in each."""
    files = {"shared.yaml": shared()}
    for name in SERVICES:
        grpc = grpc_server(name) if name in DEFAULT_GRPC_PORTS else []
        files[f"{name}.yaml"] = [prepare_job(name), *web(name), *grpc, *worker(name)]
    files["flower.yaml"] = flower()
    return files


# --- the dev overlay's backends: PostgreSQL per service, RabbitMQ, Redis ------------------------

BACKEND = {"app.kubernetes.io/part-of": "streamify-backends"}


def _backend(name: str, image: str, port: int, container: dict, sources, *, disk: str = "") -> list:
    selector = {**BACKEND, "app.kubernetes.io/name": name}
    ports = [{"name": "main", "containerPort": port}]
    spec = {
        "serviceName": name,
        "replicas": 1,
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {"labels": selector},
            "spec": {"containers": [{"name": name, "image": image, "ports": ports, **container}]},
        },
    }
    if disk:
        spec["template"]["spec"]["containers"][0]["volumeMounts"] = [
            {"name": "data", "mountPath": disk}
        ]
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "2Gi"}},
                },
            }
        ]
    policy = ingress_policy(name, selector, ports, sources)
    stateful = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": spec,
    }
    return [stateful, service(name, selector, ports), policy]


def _password(secret: str) -> dict:
    return {"valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}


def backends() -> list[dict]:
    """Each database reachable only from its own service's pods; the broker and Redis from any
    Streamify pod."""
    made = []
    for name in SERVICES:
        postgres = {
            "env": [
                {"name": "POSTGRES_DB", "value": f"streamify_{name}"},
                {"name": "POSTGRES_PASSWORD", **_password(f"postgres-{name}")},
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
            ],
            "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "postgres"]}},
            "resources": resources("50m", "64Mi", "256Mi"),
        }
        callers = [{**PART_OF, "streamify/service": name}]
        made += _backend(
            f"postgres-{name}",
            "postgres:16",
            5432,
            postgres,
            callers,
            disk="/var/lib/postgresql/data",
        )
    rabbitmq = {
        "env": [
            {"name": "RABBITMQ_DEFAULT_USER", "value": "streamify"},
            {"name": "RABBITMQ_DEFAULT_PASS", **_password("rabbitmq")},
        ],
        "readinessProbe": {"exec": {"command": ["rabbitmq-diagnostics", "-q", "ping"]}},
        "resources": resources("100m", "256Mi", "512Mi"),
    }
    made += _backend(
        "rabbitmq", "rabbitmq:3.13", 5672, rabbitmq, [PART_OF], disk="/var/lib/rabbitmq"
    )
    redis = {"args": ["--save", ""], "resources": resources("20m", "32Mi", "128Mi")}
    made += _backend("redis", "redis:7", 6379, redis, [PART_OF])
    minio = {
        "args": ["server", "/data"],
        "env": [
            {"name": "MINIO_ROOT_USER", "valueFrom": _minio_key("user")},
            {"name": "MINIO_ROOT_PASSWORD", "valueFrom": _minio_key("password")},
        ],
        "readinessProbe": {"httpGet": {"path": "/minio/health/ready", "port": "main"}},
        "resources": resources("50m", "128Mi", "512Mi"),
    }
    made += _backend(
        "minio", "minio/minio", 9000, minio, [*pods_of(*MEDIA_SERVICES), BUCKET_JOB], disk="/data"
    )
    made.append(_bucket_job())
    return made


BUCKET_JOB = {**BACKEND, "app.kubernetes.io/name": "media-bucket"}
MEDIA_BUCKET = "streamify-media"


def _minio_key(key: str) -> dict:
    return {"secretKeyRef": {"name": "minio", "key": key}}


def _bucket_job() -> dict:
    """Make the media bucket once MinIO answers (the services refuse to be ready without it)."""
    script = (
        'until mc alias set local http://minio:9000 "$MINIO_USER" "$MINIO_PASSWORD"; '
        f"do sleep 2; done && mc mb --ignore-existing local/{MEDIA_BUCKET}"
    )
    container = {
        "name": "media-bucket",
        "image": "minio/mc",
        "command": ["sh", "-c", script],
        "env": [
            {"name": "MINIO_USER", "valueFrom": _minio_key("user")},
            {"name": "MINIO_PASSWORD", "valueFrom": _minio_key("password")},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "media-bucket", "labels": BUCKET_JOB},
        "spec": {
            "backoffLimit": 10,
            "template": {
                "metadata": {"labels": BUCKET_JOB},
                "spec": {"restartPolicy": "OnFailure", "containers": [container]},
            },
        },
    }


# --- Secrets, made fresh for `kubectl apply`; never written into the tree ----------------------


def _pem_pair(key) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization

    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _secret(name: str, data: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": PART_OF},
        "type": "Opaque",
        "stringData": data,
    }


def secrets(
    *, overlay: str, database_url: str, broker_url: str, redis_url: str, media: dict
) -> list[dict]:
    """Every Secret the overlay reads. For dev, the backends' passwords are made here too and
    the URLs point at the in-cluster backends; for prod the URLs and the bucket
    (`STREAMIFY_MEDIA_*`, `AWS_*` names) are the caller's."""
    import secrets as random

    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    made = []
    if overlay == "dev":
        rabbit = random.token_urlsafe(24)
        made.append(_secret("rabbitmq", {"password": rabbit}))
        broker_url = f"amqp://streamify:{rabbit}@rabbitmq:5672//"
        redis_url = "redis://redis:6379/0"
        minio = random.token_urlsafe(24)
        made.append(_secret("minio", {"user": "streamify", "password": minio}))
        media = {
            "STREAMIFY_MEDIA_BUCKET": MEDIA_BUCKET,
            "STREAMIFY_MEDIA_ENDPOINT_URL": "http://minio:9000",
            "AWS_ACCESS_KEY_ID": "streamify",
            "AWS_SECRET_ACCESS_KEY": minio,
        }
    made.append(_secret("streamify-media", {k: v for k, v in media.items() if v}))
    jwt_private, jwt_public = _pem_pair(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    service_keys = {name: _pem_pair(ed25519.Ed25519PrivateKey.generate()) for name in SERVICES}
    shared_data = {
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": redis_url,
        "JWT_PUBLIC_KEY": jwt_public,
    }
    shared_data |= {f"{n.upper()}_SERVICE_PUBLIC_KEY": keys[1] for n, keys in service_keys.items()}
    made.append(_secret("streamify-shared", shared_data))
    for name in SERVICES:
        url = database_url.format(service=name)
        if overlay == "dev":
            password = random.token_urlsafe(24)
            made.append(_secret(f"postgres-{name}", {"password": password}))
            url = f"postgresql://postgres:{password}@postgres-{name}:5432/streamify_{name}"
        own = {
            f"{name.upper()}_DATABASE_URL": url,
            f"{name.upper()}_SECRET_KEY": random.token_urlsafe(50),
            f"{name.upper()}_SERVICE_PRIVATE_KEY": service_keys[name][0],
        }
        if name == "auth":
            own["JWT_PRIVATE_KEY"] = jwt_private
        if name == "streaming":
            own["STREAMING_MEDIA_URL_SECRET"] = random.token_urlsafe(50)
        made.append(_secret(f"streamify-{name}", own))
    login = f"{processes.FLOWER_USER}:{random.token_urlsafe(18)}"
    made.append(_secret("streamify-flower", {"FLOWER_BASIC_AUTH": login}))
    return made


# --- files -----------------------------------------------------------------------------------


def dump(objects: list[dict]) -> str:
    return HEADER + "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objects)


def files() -> dict[Path, str]:
    made = {K8S / "base" / name: dump(objects) for name, objects in base().items()}
    resources_list = {"resources": sorted(name for name in base())}
    made[K8S / "base" / "kustomization.yaml"] = HEADER + yaml.safe_dump(
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"} | resources_list,
        sort_keys=False,
    )
    made[K8S / "overlays" / "dev" / "backends.yaml"] = dump(backends())
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", nargs="?", choices=["write", "secrets"], default="write")
    parser.add_argument("--check", action="store_true", help="fail if the tree differs")
    parser.add_argument("--overlay", choices=["dev", "prod"], default="dev")
    parser.add_argument(
        "--database-url-template",
        default="",
        help="prod: each service's database, {service} replaced, e.g. "
        "postgresql://streamify:PASSWORD@db.example:5432/streamify_{service}",
    )
    parser.add_argument("--broker-url", default="", help="prod: amqp://user:password@host:5672//")
    parser.add_argument("--redis-url", default="", help="prod: redis://host:6379/0")
    parser.add_argument("--media-bucket", default="", help="prod: the S3 bucket for media")
    parser.add_argument("--media-endpoint-url", default="", help="prod: unless AWS S3 itself")
    parser.add_argument("--media-region", default="", help="prod: the bucket's region")
    args = parser.parse_args()
    if args.action == "secrets":
        if args.overlay == "prod" and not (
            "{service}" in args.database_url_template
            and args.broker_url
            and args.redis_url
            and args.media_bucket
        ):
            parser.error(
                "prod needs --database-url-template (with {service}), --broker-url, "
                "--redis-url and --media-bucket (credentials: AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY in the environment)"
            )
        media = {
            "STREAMIFY_MEDIA_BUCKET": args.media_bucket,
            "STREAMIFY_MEDIA_ENDPOINT_URL": args.media_endpoint_url,
            "STREAMIFY_MEDIA_REGION": args.media_region,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", ""),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
        }
        made = secrets(
            overlay=args.overlay,
            database_url=args.database_url_template,
            broker_url=args.broker_url,
            redis_url=args.redis_url,
            media=media,
        )
        sys.stdout.write("---\n".join(yaml.safe_dump(o, sort_keys=False) for o in made))
        return 0
    stale = []
    for path, text in files().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(REPO_ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        print(
            f"out of date (run python -m deploy.k8s): {', '.join(map(str, stale))}", file=sys.stderr
        )
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
