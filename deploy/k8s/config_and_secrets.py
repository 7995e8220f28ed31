"""The settings pods read from outside their own `env`: the shared ConfigMap (in the base) and
the Secrets, made fresh for `kubectl apply` and never written into the tree."""

from common.service_registry import DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORTS, SERVICES
from deploy import processes
from deploy.k8s.dev_backends import MEDIA_BUCKET
from deploy.k8s.objects import PART_OF
from deploy.k8s.workloads import WORKER_METRICS_PORT


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
