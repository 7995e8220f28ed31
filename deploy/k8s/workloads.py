"""The workloads: one Deployment per program of `deploy.processes` (a service's web process,
its worker and, for auth and video, its gRPC server; Flower), each with the Service, budget,
autoscaler and policies it needs, and per service the Job that prepares its database."""

import sys
from pathlib import Path

from common.media_storage import MEDIA_SERVICES
from common.service_registry import DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORTS, SERVICES
from deploy import processes
from deploy.k8s.network import CALLERS, ingress_policy, pods_of, scrape_policy
from deploy.k8s.objects import autoscaler, budget, labels, resources, service

IMAGE = "streamify:latest"
FLOWER_PORT = 5555
# Where a worker running apart serves its counters (common.metrics.exposition).
WORKER_METRICS_PORT = 9100


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
