"""Every process of the platform as `make run` starts it: one list, read by the supervisor's
configuration (`deploy.supervise`) and checked against docker-compose and Kubernetes by the tests.

Under `make run` one process per service serves its HTTP API (and, for auth and video, its gRPC
API too: the same Django code, one process instead of two) and runs its Celery worker on a
thread beside it, as each service of the original system consumed its queue in its own process;
and Flower. STREAMIFY_WORKERS_APART=1 starts the workers and the gRPC servers as processes of
their own instead, as compose and Kubernetes always do, where each scales apart.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from common.env import flag, secret
from common.service_registry import DEFAULT_GRPC_PORTS, SERVICES

BIN = Path(sys.executable).parent
WORKER_THREADS = {"video": 2}  # ffmpeg is the work there; two at a time is plenty on 2 cores
FLOWER_USER = "admin"


@dataclass(frozen=True)
class Program:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


def web(service: str, *, with_worker: bool = False) -> Program:
    """The service's HTTP API; `with_worker` (how `make run` starts it) adds its worker and,
    for auth and video, its gRPC API."""
    env = {"STREAMIFY_PROCESS": service}
    if with_worker and service in DEFAULT_GRPC_PORTS:
        env["STREAMIFY_GRPC_IN_WEB"] = "1"
    if with_worker:
        env["STREAMIFY_WORKER_IN_WEB"] = "1"
        env["STREAMIFY_WORKER_THREADS"] = str(WORKER_THREADS.get(service, 4))
    return Program(service, [sys.executable, "-m", "deploy.web", service], env)


def worker(service: str) -> Program:
    argv = [
        str(BIN / "celery"), "--workdir", f"{service}_project", "-A", f"{service}_project",
        "worker", "-n", f"{service}@%h", "--pool", "threads",
        "--concurrency", str(WORKER_THREADS.get(service, 4)),
        "--without-gossip", "--without-mingle", "-E", "-l", "INFO",
    ]  # fmt: skip
    return Program(f"{service}-worker", argv, {"STREAMIFY_PROCESS": f"{service}-worker"})


def grpc_server(service: str) -> Program:
    """The service's gRPC API alone (grpc.health.v1 and reflection beside it)."""
    argv = [sys.executable, f"{service}_project/manage.py", "run_grpc_server"]
    return Program(f"{service}-grpc", argv, {"STREAMIFY_PROCESS": f"{service}-grpc"})


def flower_credentials() -> str:
    """`user:password` of Flower's basic auth: from the environment, else made up in dev."""
    return f"{FLOWER_USER}:{secret('FLOWER_PASSWORD', length=18)}"


def flower_argv(port: int, host: str) -> list[str]:
    # Workers send task events on their own (worker_send_task_events): Flower need not
    # broadcast enable_events to every worker every 5 s.
    return [
        str(BIN / "celery"), "-A", "deploy.flower_app", "flower",
        f"--address={host}", f"--port={port}", "--enable_events=False",
    ]  # fmt: skip


def flower(port: int, host: str) -> Program:
    return Program("flower", flower_argv(port, host), {"FLOWER_BASIC_AUTH": flower_credentials()})


def platform(*, flower_port: int = 5555, host: str = "127.0.0.1") -> list[Program]:
    if flag("STREAMIFY_WORKERS_APART"):
        programs = [
            *(web(s) for s in SERVICES),
            *(worker(s) for s in SERVICES),
            *(grpc_server(s) for s in DEFAULT_GRPC_PORTS),
        ]
    else:
        programs = [web(service, with_worker=True) for service in SERVICES]
    return [*programs, flower(flower_port, host)]


def names() -> list[str]:
    """The programs' names, without building them (no secret is read)."""
    return [
        *SERVICES,
        *(f"{service}-worker" for service in SERVICES),
        *(f"{service}-grpc" for service in DEFAULT_GRPC_PORTS),
        "flower",
    ]
