"""What a servicer raises becomes one status code, the same way in every service
(common.rpc.status), through a real gRPC server and channel."""

from concurrent import futures

import grpc
import pytest
from django.db import OperationalError

from common.rpc.status import status_codes
from common.testing.processes import free_port


class Refused(Exception):
    pass


def _refusal(exc: Exception, request):
    if isinstance(exc, Refused):
        return grpc.StatusCode.PERMISSION_DENIED, f"refused: {request.decode()}"
    return None


class Servicer:
    @status_codes(_refusal)
    def call(self, request: bytes, context):
        outcome = request.decode()
        if outcome == "refused":
            raise Refused()
        if outcome == "database":
            raise OperationalError("connection refused")
        if outcome == "bug":
            raise KeyError("a bug")
        if outcome == "aborted":
            context.abort(grpc.StatusCode.NOT_FOUND, "not here")
        return b"ok " + request


@pytest.fixture
def call():
    port = free_port()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(Servicer().call)
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("test.Status", {"Call": handler})]
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel.unary_unary("/test.Status/Call")
    finally:
        channel.close()
        server.stop(grace=0)


def _status(call, outcome: str) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as failed:
        call(outcome.encode(), timeout=5)
    return failed.value.code(), failed.value.details()


def test_refusals_databases_and_bugs_each_get_their_own_status(call):
    assert call(b"fine", timeout=5) == b"ok fine"
    assert _status(call, "refused") == (grpc.StatusCode.PERMISSION_DENIED, "refused: refused")
    # Callers' breakers count UNAVAILABLE as the service being down, and only that.
    assert _status(call, "database") == (
        grpc.StatusCode.UNAVAILABLE,
        "database unavailable: OperationalError",
    )
    # A bug is not a refusal: it stays gRPC's own UNKNOWN.
    assert _status(call, "bug")[0] == grpc.StatusCode.UNKNOWN
    # A status the method sets itself passes through untouched.
    assert _status(call, "aborted") == (grpc.StatusCode.NOT_FOUND, "not here")
