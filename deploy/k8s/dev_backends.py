"""The dev overlay's backends: PostgreSQL per service, RabbitMQ, Redis and MinIO (media) in the
cluster, with the Job that makes the media bucket."""

from common.media_storage import MEDIA_SERVICES
from common.service_registry import SERVICES
from deploy.k8s.network import ingress_policy, pods_of
from deploy.k8s.objects import PART_OF, resources, service

BACKEND = {"app.kubernetes.io/part-of": "streamify-backends"}
BUCKET_JOB = {**BACKEND, "app.kubernetes.io/name": "media-bucket"}
MEDIA_BUCKET = "streamify-media"


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


def _secret_key(secret: str, key: str) -> dict:
    return {"secretKeyRef": {"name": secret, "key": key}}


def backends() -> list[dict]:
    """Each database reachable only from its own service's pods; the broker and Redis from any
    Streamify pod."""
    made = []
    for name in SERVICES:
        postgres = {
            "env": [
                {"name": "POSTGRES_DB", "value": f"streamify_{name}"},
                {
                    "name": "POSTGRES_PASSWORD",
                    "valueFrom": _secret_key(f"postgres-{name}", "password"),
                },
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
            ],
            "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "postgres"]}},
            "resources": resources("50m", "64Mi", "256Mi"),
        }
        made += _backend(
            f"postgres-{name}",
            "postgres:16",
            5432,
            postgres,
            pods_of(name),
            disk="/var/lib/postgresql/data",
        )
    rabbitmq = {
        "env": [
            {"name": "RABBITMQ_DEFAULT_USER", "value": "streamify"},
            {"name": "RABBITMQ_DEFAULT_PASS", "valueFrom": _secret_key("rabbitmq", "password")},
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
            {"name": "MINIO_ROOT_USER", "valueFrom": _secret_key("minio", "user")},
            {"name": "MINIO_ROOT_PASSWORD", "valueFrom": _secret_key("minio", "password")},
        ],
        "readinessProbe": {"httpGet": {"path": "/minio/health/ready", "port": "main"}},
        "resources": resources("50m", "128Mi", "512Mi"),
    }
    made += _backend(
        "minio", "minio/minio", 9000, minio, [*pods_of(*MEDIA_SERVICES), BUCKET_JOB], disk="/data"
    )
    made.append(_bucket_job())
    return made


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
            {"name": "MINIO_USER", "valueFrom": _secret_key("minio", "user")},
            {"name": "MINIO_PASSWORD", "valueFrom": _secret_key("minio", "password")},
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
