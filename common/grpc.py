"""gRPC mechanics shared by the services that speak it (auth, video) and their callers.

    from common import grpc as streamify_grpc
    auth_pb2, auth_pb2_grpc = streamify_grpc.proto_modules("auth")

Generated code comes from `protos/*.proto` into `build/protos/` (outside git): it is regenerated
whenever a generated module is missing or older than its .proto, so a fresh clone needs no extra
step. A server made by `serve` also answers `grpc.health.v1` and server reflection, so
`grpcurl -plaintext host:port <pkg.Service>/<Method>` works without the .proto file.
Clients get one cached channel per target and `call`, which always sets a deadline.
"""

import fcntl
import importlib
import logging
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from functools import cache, wraps
from pathlib import Path

import grpc

from common.breakers.failures import TRANSIENT_GRPC_CODES
from common.env import DEFAULT_GRPC_PORTS
from common.paths import REPO_ROOT

logger = logging.getLogger(__name__)

PROTO_DIR = REPO_ROOT / "protos"
BUILD_DIR = REPO_ROOT / "build" / "protos"
DEFAULT_TIMEOUT_SECONDS = 2.0


# --- generated code ---------------------------------------------------------------------------


def _outputs(proto: Path) -> tuple[Path, Path]:
    return BUILD_DIR / f"{proto.stem}_pb2.py", BUILD_DIR / f"{proto.stem}_pb2_grpc.py"


_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)\.proto"\s*;', re.MULTILINE)


def _with_dependencies(names: Iterable[str]) -> list[Path]:
    """The .proto files of `names` plus the ones of protos/ they import, transitively."""
    seen: dict[str, Path] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        path = PROTO_DIR / f"{name}.proto"
        if name in seen or not path.exists():
            continue
        seen[name] = path
        pending.extend(_IMPORT.findall(path.read_text()))
    return sorted(seen.values())


def _stale_protos(protos: Iterable[Path] | None = None) -> list[Path]:
    stale = []
    for proto in sorted(PROTO_DIR.glob("*.proto")) if protos is None else protos:
        source_time = proto.stat().st_mtime
        if any(
            not output.exists() or output.stat().st_mtime < source_time
            for output in _outputs(proto)
        ):
            stale.append(proto)
    return stale


def generate_all(*, force: bool = False, names: Iterable[str] | None = None) -> list[Path]:
    """Compile the `protos/*.proto` whose modules are missing or older (all if `force`).

    `names` limits the work to those protos and their imports, so one service's broken
    .proto never stops another service from starting. Return the modules written.
    Processes that start together take turns on a lock file; each module is written aside
    and renamed into place, so a reader never imports half of one.
    """
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    scope = sorted(PROTO_DIR.glob("*.proto")) if names is None else _with_dependencies(names)
    with open(BUILD_DIR / ".generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _compile(scope if force else _stale_protos(scope))


def _compile(protos: list[Path]) -> list[Path]:
    from grpc_tools import protoc

    if not protos:
        return []
    well_known = Path(protoc.__file__).parent / "_proto"
    written = []
    with tempfile.TemporaryDirectory(dir=BUILD_DIR, prefix=".gen-") as scratch:
        argv = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--python_out={scratch}",
            f"--grpc_python_out={scratch}",
            *(str(p) for p in protos),
        ]
        if protoc.main(argv) != 0:
            raise RuntimeError(f"protoc failed for {', '.join(p.name for p in protos)}")
        for proto in protos:
            for output in _outputs(proto):
                os.replace(Path(scratch) / output.name, output)
                written.append(output)
    logger.info("generated gRPC modules: %s", ", ".join(p.name for p in written))
    return written


def proto_modules(name: str):
    """Return `(<name>_pb2, <name>_pb2_grpc)` for `protos/<name>.proto`, generating if needed."""
    if not (PROTO_DIR / f"{name}.proto").exists():
        raise FileNotFoundError(f"no protos/{name}.proto")
    if _stale_protos(_with_dependencies([name])):
        generate_all(names=[name])
    # protoc's modules import their siblings by top-level name (`import auth_pb2`).
    if str(BUILD_DIR) not in sys.path:
        sys.path.insert(0, str(BUILD_DIR))
    return importlib.import_module(f"{name}_pb2"), importlib.import_module(f"{name}_pb2_grpc")


# --- server -----------------------------------------------------------------------------------


def _closing_django_connections(behavior, *, streams: bool):
    from django.db import close_old_connections

    # Like Django's request_started/finished: drop connections that are broken or too old,
    # so a long-running server outlives a database restart.
    if streams:

        @wraps(behavior)
        def stream(request, context):
            close_old_connections()
            try:
                yield from behavior(request, context)
            finally:
                close_old_connections()

        return stream

    @wraps(behavior)
    def unary(request, context):
        close_old_connections()
        try:
            return behavior(request, context)
        finally:
            close_old_connections()

    return unary


class DjangoConnectionsInterceptor(grpc.ServerInterceptor):
    """Give every call the database connection hygiene of a Django request."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        changes = {}
        for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
            behavior = getattr(handler, kind)
            if behavior is not None:
                changes[kind] = _closing_django_connections(
                    behavior, streams=kind.endswith("_stream")
                )
        return handler._replace(**changes)


# server id -> its health servicer, so `stop` can announce NOT_SERVING first.
_health_servicers: dict = {}


def bind_host() -> str:
    return os.environ.get("BIND_HOST", "127.0.0.1")


def serve(
    *,
    add_servicers: Callable[[grpc.Server], None],
    service_names: Iterable[str],
    port: int,
    max_workers: int = 8,
    host: str | None = None,
    django_connections: bool = True,
) -> grpc.Server:
    """Start a server with the given servicers plus health (all SERVING) and reflection.

    `service_names` are the full names (`auth.AuthService`) that health and reflection report.
    """
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection

    names = list(service_names)
    interceptors = [DjangoConnectionsInterceptor()] if django_connections else []
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        interceptors=interceptors,
    )
    add_servicers(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ["", *names]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        [*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    address = f"{host or bind_host()}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise OSError(f"cannot bind gRPC server to {address}: {exc}") from exc
    server.start()
    _health_servicers[id(server)] = health_servicer
    logger.info("gRPC %s serving on %s:%d", ", ".join(names), host or bind_host(), bound)
    return server


def stop(server: grpc.Server, *, grace: float = 5.0) -> None:
    """Report NOT_SERVING, let in-flight calls finish within `grace` seconds, then close."""
    health_servicer = _health_servicers.pop(id(server), None)
    if health_servicer is not None:
        health_servicer.enter_graceful_shutdown()
    server.stop(grace).wait()


def run_until_signalled(
    *,
    add_servicers: Callable[[grpc.Server], None],
    service_names: Iterable[str],
    port: int,
    max_workers: int = 8,
    grace: float = 5.0,
    write: Callable[[str], None] = print,
) -> None:
    """The body of every `manage.py run_grpc_server`: serve until SIGTERM/SIGINT, stop cleanly."""
    names = list(service_names)
    server = serve(
        add_servicers=add_servicers, service_names=names, port=port, max_workers=max_workers
    )
    write(f"gRPC {', '.join(names)} listening on {bind_host()}:{port}")
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping.wait(timeout=1.0):
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        write("gRPC server stopping")
        stop(server, grace=grace)
        write("gRPC server stopped")


def serve_beside_web() -> grpc.Server | None:
    """Serve this service's gRPC API from the web process too (`common.serving`).

    Every web worker binds the same port: gRPC servers set SO_REUSEPORT, so the kernel shares
    the connections between them. None for a service without a gRPC API.
    """
    from django.conf import settings
    from django.utils.module_loading import import_string

    from common.serving import on_worker_exit

    module = getattr(settings, "GRPC_SERVICERS", None)
    if not module:
        return None
    service = settings.SERVICE_NAME
    port = int(os.environ.get(f"{service.upper()}_GRPC_PORT", DEFAULT_GRPC_PORTS[service]))
    server = serve(
        add_servicers=import_string(f"{module}.add_servicers"),
        service_names=[import_string(f"{module}.SERVICE_NAME")],
        port=port,
    )
    on_worker_exit(stop, server, grace=2.0)
    return server


def add_server_arguments(parser, *, service: str) -> None:
    """`--port` (default `<SERVICE>_GRPC_PORT` or the platform port) and `--max-workers`."""
    fallback = DEFAULT_GRPC_PORTS.get(service, 0)
    default_port = int(os.environ.get(f"{service.upper()}_GRPC_PORT", fallback))
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--max-workers", type=int, default=8)


def serving_status() -> str:
    """What a service's own HealthCheck RPC reports: "ok" while its database answers (the
    original system's word; grpc.health.v1 beside it says SERVING / NOT_SERVING)."""
    from django.db import DatabaseError

    from common.health import check_database

    try:
        check_database()
    except DatabaseError:
        return "unavailable"
    return "ok"


# --- client -----------------------------------------------------------------------------------


def target(service: str) -> str:
    """Where `service` answers gRPC: `<SERVICE>_GRPC_TARGET`, else 127.0.0.1:<SERVICE>_GRPC_PORT."""
    explicit = os.environ.get(f"{service.upper()}_GRPC_TARGET")
    if explicit:
        return explicit
    port = os.environ.get(f"{service.upper()}_GRPC_PORT", DEFAULT_GRPC_PORTS[service])
    return f"127.0.0.1:{port}"


@cache
def channel(target: str) -> grpc.Channel:
    """One channel per target per process: a channel multiplexes calls and reconnects itself.

    A target may name several replicas (`ipv4:10.0.0.5:50052,10.0.0.6:50052`, or a DNS name
    with several addresses, such as a Kubernetes headless Service): calls go round robin over
    those that are connected. The breaker stays one per service (`video-grpc`).
    """
    return grpc.insecure_channel(target, options=[("grpc.lb_policy_name", "round_robin")])


def default_timeout() -> float:
    return float(os.environ.get("STREAMIFY_GRPC_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))


# Failures of the peer rather than answers about the request: these are what trip a breaker.
TRANSIENT_CODES = frozenset(getattr(grpc.StatusCode, name) for name in TRANSIENT_GRPC_CODES)


class GrpcCallError(Exception):
    """A failed gRPC call, with its status code; `transient` failures should count in a breaker."""

    def __init__(self, code: grpc.StatusCode, details: str, method: str = ""):
        super().__init__(f"{method or 'gRPC call'} failed: {code.name}: {details}")
        self.code, self.details, self.method = code, details, method

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT_CODES


class GrpcUnavailable(GrpcCallError):
    """The peer is down, overloaded, too slow or failing (see TRANSIENT_CODES)."""


def call(method, request, *, timeout: float | None = None, metadata=None, breaker=None):
    """Invoke stub `method` with a deadline (default 2 s, env STREAMIFY_GRPC_TIMEOUT).

    grpc errors become `GrpcCallError` (or its subclass `GrpcUnavailable` for transient ones).
    `breaker`: anything with pybreaker's `call(func, *args)`, e.g. the caller's breaker from
    `common.breakers`; give it `exclude=[lambda e: isinstance(e, GrpcCallError) and not
    e.transient]` so a NOT_FOUND answer does not trip it.
    """
    seconds = default_timeout() if timeout is None else timeout
    name = getattr(method, "_method", b"")
    name = name.decode() if isinstance(name, bytes) else str(name)

    def invoke():
        try:
            return method(request, timeout=seconds, metadata=metadata)
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
            error = GrpcUnavailable if code in TRANSIENT_CODES else GrpcCallError
            raise error(code, details, name) from exc

    return breaker.call(invoke) if breaker is not None else invoke()
