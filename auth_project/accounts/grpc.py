"""gRPC adapter of `auth.AuthService`: proto <-> selectors; errors become status codes here only."""

import grpc
from django.utils import timezone

from accounts import selectors
from common.rpc.protos import proto_modules
from common.rpc.server import serving_status
from common.rpc.status import status_codes

auth_pb2, auth_pb2_grpc = proto_modules("auth")

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
MAX_TOKEN_CHARS = 8192


def _refusal(exc: Exception, request):
    if not isinstance(exc, selectors.CallerRefused):
        return None
    code = grpc.StatusCode.UNAUTHENTICATED if exc.anonymous else grpc.StatusCode.PERMISSION_DENIED
    return code, str(exc)


_status_codes = status_codes(_refusal)


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    @_status_codes
    def VerifyToken(self, request, context):
        if len(request.token) > MAX_TOKEN_CHARS:
            return auth_pb2.VerifyTokenResponse(valid=False, error="Invalid token: too long")
        try:
            user = selectors.token_verify(token=request.token)
        except selectors.TokenInvalid as exc:
            return auth_pb2.VerifyTokenResponse(valid=False, error=str(exc))
        return auth_pb2.VerifyTokenResponse(
            valid=True,
            user_id=user.id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            is_staff=user.is_staff,
        )

    @_status_codes
    def GetUserProfile(self, request, context):
        metadata = dict(context.invocation_metadata())
        selectors.profile_reader_check(
            authorization=metadata.get("authorization", ""), user_id=request.user_id
        )
        user = selectors.user_get(user_id=request.user_id)
        if user is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"user {request.user_id} not found")
        return auth_pb2.GetUserProfileResponse(
            id=user.id,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            is_active=user.is_active,
            created_at=user.created_at.isoformat(),
            updated_at=user.updated_at.isoformat(),
        )

    def HealthCheck(self, request, context):
        return auth_pb2.HealthCheckResponse(
            status=serving_status(),
            service="auth",
            timestamp=timezone.now().isoformat(),
        )


def add_servicers(server: grpc.Server) -> None:
    auth_pb2_grpc.add_AuthServiceServicer_to_server(AuthServicer(), server)
