"""What counts against a breaker: the upstream being down or broken, never the caller's mistake."""

from django.http import JsonResponse

# gRPC status codes that mean "the server is not serving" (the same list for breakers and for
# `common.rpc.client`'s transient errors). By name, so this module never imports grpc itself.
TRANSIENT_GRPC_CODES = frozenset(
    {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "INTERNAL", "UNKNOWN", "DATA_LOSS"}
)


class UpstreamUnavailable(Exception):
    """`service` cannot answer now: its breaker is open or the call failed.

    Callers answer 503 `{"error", "service", "retryAfter"}` (`as_response`). `response` holds
    the upstream's own 5xx response when there was one. `reached` is False only when the
    request surely never got to the upstream (the breaker refused it, or no connection was
    made); otherwise the upstream may have acted on it (a timeout, a 5xx, a dropped answer).
    """

    def __init__(
        self, service: str, retry_after: int, reason: str = "", response=None, *, reached=True
    ):
        self.service = service
        self.retry_after = retry_after
        self.reason = reason
        self.response = response
        self.reached = reached
        super().__init__(f"{service} unavailable: {reason}" if reason else f"{service} unavailable")

    def error_body(self) -> dict:
        return {
            "error": f"Service {self.service} is unavailable",
            "service": self.service,
            "retryAfter": self.retry_after,
            "details": [{"message": self.reason}] if self.reason else [],
        }

    def as_response(self) -> JsonResponse:
        """The 503 every service answers with; Retry-After is when the breaker tries again."""
        response = JsonResponse(self.error_body(), status=503)
        response["Retry-After"] = str(self.retry_after)
        return response


class UpstreamServerError(Exception):
    """The upstream answered with a 5xx: counted as a failure by its breaker."""

    def __init__(self, service: str, response):
        self.service = service
        self.response = response
        super().__init__(f"{service} answered {response.status_code}")


def _grpc_code_name(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    code = code() if callable(code) else code
    return getattr(code, "name", None)


def is_upstream_failure(exc: BaseException) -> bool:
    """True when `exc` says the upstream is down or broken, not that the request was wrong."""
    import requests
    import urllib3.exceptions

    network = (ConnectionError, TimeoutError, urllib3.exceptions.HTTPError)
    if isinstance(exc, UpstreamServerError | requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(exc, network):
        return True
    if getattr(exc, "transient", False):  # common.rpc.client.GrpcUnavailable and its kind
        return True
    return _grpc_code_name(exc) in TRANSIENT_GRPC_CODES


def never_connected(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) is a connection that could not be made at all."""
    import urllib3.exceptions

    unconnected = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    while exc is not None:
        if isinstance(exc, unconnected) or isinstance(getattr(exc, "reason", None), unconnected):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def describe(exc: BaseException) -> str:
    """A short reason for an upstream failure, fit for an error body or the stats page."""
    import requests
    import urllib3.exceptions

    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    # urllib3 files a refused connection under its timeouts (NewConnectionError subclasses
    # ConnectTimeoutError): name it first.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection failed"

    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
        return "timed out"
    network = (requests.ConnectionError, urllib3.exceptions.HTTPError, ConnectionError)
    if isinstance(exc, network):
        return "connection failed"
    if isinstance(exc, UpstreamServerError):
        return str(exc)
    name = _grpc_code_name(exc)
    if name:
        return f"gRPC {name}"
    return f"{type(exc).__name__}: {exc}"[:300]
