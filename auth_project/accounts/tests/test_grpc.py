"""auth.AuthService through a real gRPC server on a free port (in this process)."""

import grpc
import jwt
import pytest
from django.db import connection
from grpc_health.v1 import health_pb2, health_pb2_grpc

from accounts.grpc import SERVICE_NAME, add_servicers, auth_pb2, auth_pb2_grpc
from accounts.models import User
from accounts.tests.factories import make_user
from accounts.tests.grpc_helpers import call_by_reflection, reflected_services
from accounts.tokens import token_pair_for
from common.auth import service_tokens
from common.rpc.client import GrpcCallError, call
from common.rpc.server import serve, stop
from common.testing.processes import free_port
from common.testing.tokens import user_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server_channel(monkeypatch):
    # Servicer threads open their own connections; max age 0 makes the per-call hygiene
    # close them, so the test database can be dropped afterwards.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    port = free_port()
    server = serve(
        add_servicers=add_servicers, service_names=[SERVICE_NAME], port=port, max_workers=4
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield channel
    channel.close()
    stop(server, grace=1)


@pytest.fixture
def stub(server_channel):
    return auth_pb2_grpc.AuthServiceStub(server_channel)


def test_verify_token_valid_returns_the_user(stub):
    user = make_user(email="grpc@example.com", first_name="Grace", last_name="Hopper")
    token = token_pair_for(user).access

    reply = stub.VerifyToken(auth_pb2.VerifyTokenRequest(token=token), timeout=5)

    assert reply.valid is True
    assert (reply.user_id, reply.email, reply.first_name, reply.last_name, reply.is_staff) == (
        user.id,
        "grpc@example.com",
        "Grace",
        "Hopper",
        False,
    )
    assert reply.error == ""


def test_verify_token_reports_deleted_and_deactivated_users_invalid(stub):
    gone, inactive = make_user(), make_user()
    gone_token, inactive_token = token_pair_for(gone).access, token_pair_for(inactive).access
    gone.delete()
    User.objects.filter(id=inactive.id).update(is_active=False)

    for token in (gone_token, inactive_token):
        reply = stub.VerifyToken(auth_pb2.VerifyTokenRequest(token=token), timeout=5)
        assert reply.valid is False
        assert "no longer exists or is inactive" in reply.error
        assert reply.user_id == 0


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: user_token(1, expires_in=-5), "expired"),
        (lambda: jwt.encode({"user_id": 1, "token_type": "access"}, None, "none"), "Invalid token"),
        (lambda: "garbage", "Invalid token"),
        (lambda: "", "no token"),
        (lambda: "x" * 10_000, "too long"),
    ],
)
def test_verify_token_refuses_bad_tokens_with_a_reason(stub, token, reason):
    reply = stub.VerifyToken(auth_pb2.VerifyTokenRequest(token=token()), timeout=5)

    assert reply.valid is False
    assert reason.lower() in reply.error.lower()


def test_get_user_profile_for_itself_staff_and_services(stub):
    user, other = make_user(first_name="Alan"), make_user()
    staff = make_user()
    User.objects.filter(id=staff.id).update(is_staff=True)
    staff.refresh_from_db()
    request = auth_pb2.GetUserProfileRequest(user_id=user.id)
    service = service_tokens.authorization_header(audience="auth", scopes=["users:read"])

    for authorization in (
        f"Bearer {token_pair_for(user).access}",
        f"Bearer {token_pair_for(staff).access}",
        service,
    ):
        reply = stub.GetUserProfile(request, metadata=[("authorization", authorization)], timeout=5)
        assert (reply.id, reply.email, reply.first_name, reply.is_active) == (
            user.id,
            user.email,
            "Alan",
            True,
        )
        assert reply.created_at.startswith(str(user.created_at.year))

    with pytest.raises(grpc.RpcError) as denied:
        stub.GetUserProfile(
            request,
            metadata=[("authorization", f"Bearer {token_pair_for(other).access}")],
            timeout=5,
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_get_user_profile_refuses_anonymous_and_wrong_scope(stub):
    user = make_user()
    request = auth_pb2.GetUserProfileRequest(user_id=user.id)
    wrong_scope = service_tokens.authorization_header(audience="auth", scopes=["users:delete"])

    with pytest.raises(grpc.RpcError) as anonymous:
        stub.GetUserProfile(request, timeout=5)
    with pytest.raises(grpc.RpcError) as scoped:
        stub.GetUserProfile(request, metadata=[("authorization", wrong_scope)], timeout=5)

    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert scoped.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_get_user_profile_of_missing_user_is_not_found(stub):
    service = service_tokens.authorization_header(audience="auth", scopes=["users:read"])

    for user_id in (424242, 0, -1):
        with pytest.raises(grpc.RpcError) as missing:
            stub.GetUserProfile(
                auth_pb2.GetUserProfileRequest(user_id=user_id),
                metadata=[("authorization", service)],
                timeout=5,
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_health_check_rpc_and_grpc_health_v1(stub, server_channel):
    reply = stub.HealthCheck(auth_pb2.HealthCheckRequest(), timeout=5)
    health = health_pb2_grpc.HealthStub(server_channel)

    assert (reply.status, reply.service) == ("ok", "auth")
    for name in ("", "auth.AuthService"):
        status = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_services_and_serves_a_call_without_generated_code(server_channel):
    services = reflected_services(server_channel)
    reply = call_by_reflection(server_channel, "auth.AuthService/HealthCheck")

    assert {"auth.AuthService", "grpc.health.v1.Health"} <= set(services)
    assert type(reply).__module__ != auth_pb2.__name__
    assert reply.status == "ok" and reply.service == "auth"


def test_call_helper_sets_a_deadline_and_translates_errors(stub):
    reply = call(stub.HealthCheck, auth_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == "ok"

    with pytest.raises(GrpcCallError) as missing:
        call(
            stub.GetUserProfile,
            auth_pb2.GetUserProfileRequest(user_id=1),
        )
    assert missing.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert not missing.value.transient
    assert "GetUserProfile" in str(missing.value)
