"""Calling gRPC: one cached channel per target, and `call`, which always sets a deadline."""

from functools import cache

import grpc
from django.conf import settings

from common.breakers.failures import TRANSIENT_GRPC_CODES


@cache
def channel_to(target: str) -> grpc.Channel:
    """One channel per target per process: a channel multiplexes calls and reconnects itself.

    A target may name several replicas (`ipv4:10.0.0.5:50052,10.0.0.6:50052`, or a DNS name
    with several addresses, such as a Kubernetes headless Service): calls go round robin over
    those that are connected. The breaker stays one per service (`video-grpc`).
    """
    return grpc.insecure_channel(target, options=[("grpc.lb_policy_name", "round_robin")])


def default_timeout() -> float:
    return settings.GRPC_TIMEOUT


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
