"""Serving gRPC: a server with health and reflection beside the service's own servicers.

A server made by `serve` also answers `grpc.health.v1` and server reflection, so
`grpcurl -plaintext host:port <pkg.Service>/<Method>` works without the .proto file.
"""

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from functools import wraps

import grpc

from common.env import bind_host, grpc_port

logger = logging.getLogger(__name__)


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
    port = grpc_port(service)
    server = serve(
        add_servicers=import_string(f"{module}.add_servicers"),
        service_names=[import_string(f"{module}.SERVICE_NAME")],
        port=port,
    )
    on_worker_exit(stop, server, grace=2.0)
    return server


def add_server_arguments(parser, *, service: str) -> None:
    """`--port` (default `<SERVICE>_GRPC_PORT` or the platform port) and `--max-workers`."""
    parser.add_argument("--port", type=int, default=grpc_port(service))
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
