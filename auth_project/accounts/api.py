"""REST adapters of the auth service: parse, call one service or selector, shape the answer."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import ActiveUserTokenAuthentication
from accounts.responses import (
    LoggedInSerializer,
    LoggedOutSerializer,
    PendingCredentialHeldSerializer,
    ProfileUpdatedSerializer,
    RegisteredSerializer,
    TokenPairSerializer,
    UserDeletedSerializer,
    UserProfileSerializer,
    UserSerializer,
)
from accounts.serializers import (
    LoginSerializer,
    PendingCredentialSerializer,
    ProfileUpdateSerializer,
    RefreshTokenSerializer,
    RegisterSerializer,
)
from common.auth.views import InternalView
from common.openapi import (
    BODY_TOO_LARGE,
    INTERNAL,
    SERVICE_TOKEN_ERRORS,
    USER_TOKEN_ERRORS,
    error_responses,
)
from common.payloads import MAX_BIGINT, parsed

DELETE_USERS_SCOPE = "users:delete"
CREATE_USERS_SCOPE = "users:create"


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class UserView(APIView):
    authentication_classes = [ActiveUserTokenAuthentication]
    permission_classes = [IsAuthenticated]


class RegisterView(PublicView):
    @extend_schema(
        summary="Create an account",
        request=RegisterSerializer,
        responses={
            201: RegisteredSerializer,
            **error_responses(
                {400: "Invalid body", 409: "Email already registered", **BODY_TOO_LARGE}
            ),
        },
    )
    def post(self, request):
        data = parsed(RegisterSerializer, request.data)
        user = services.user_register(
            email=data["email"],
            password=data["password"],
            first_name=data["firstName"],
            last_name=data["lastName"],
        )
        return Response(RegisteredSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(PublicView):
    @extend_schema(
        summary="Exchange email and password for a token pair",
        request=LoginSerializer,
        responses={
            200: LoggedInSerializer,
            **error_responses(
                {400: "Invalid body", 401: "Invalid email or password", **BODY_TOO_LARGE}
            ),
        },
    )
    def post(self, request):
        data = parsed(LoginSerializer, request.data)
        pair = services.user_login(email=data["email"], password=data["password"])
        return Response(LoggedInSerializer(pair).data)


class TokenRefreshView(PublicView):
    @extend_schema(
        summary="Rotate a refresh token into a new token pair",
        request=RefreshTokenSerializer,
        responses={
            200: TokenPairSerializer,
            **error_responses(
                {
                    400: "Invalid body",
                    401: "Refresh token invalid, expired, revoked or already used",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def post(self, request):
        data = parsed(RefreshTokenSerializer, request.data)
        pair = services.token_refresh(refresh_token=data["refreshToken"])
        return Response(TokenPairSerializer(pair).data)


class LogoutView(PublicView):
    @extend_schema(
        summary="Revoke a refresh token",
        request=RefreshTokenSerializer,
        responses={
            200: LoggedOutSerializer,
            **error_responses(
                {
                    400: "Invalid body",
                    401: "Refresh token invalid, expired or already revoked",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def post(self, request):
        data = parsed(RefreshTokenSerializer, request.data)
        services.token_revoke(refresh_token=data["refreshToken"])
        return Response(LoggedOutSerializer({}).data)


_ACTIVE_USER_ERRORS = error_responses(
    {**USER_TOKEN_ERRORS, 403: "Token invalid or expired, or its user no longer active"}
)


class VerifyView(UserView):
    @extend_schema(
        summary="Check an access token and return its user",
        request=None,
        responses={
            200: UserSerializer,
            **_ACTIVE_USER_ERRORS,
        },
    )
    def post(self, request):
        return Response(UserSerializer(request.user).data)

    get = post


class ProfileView(UserView):
    @extend_schema(
        summary="The signed-in user's profile",
        responses={200: UserProfileSerializer, **_ACTIVE_USER_ERRORS},
    )
    def get(self, request):
        return Response(UserProfileSerializer(request.user).data)

    @extend_schema(
        summary="Change the signed-in user's first and/or last name",
        request=ProfileUpdateSerializer,
        responses={
            200: ProfileUpdatedSerializer,
            **_ACTIVE_USER_ERRORS,
            **error_responses({400: "Invalid body, or neither name given", **BODY_TOO_LARGE}),
        },
    )
    def put(self, request):
        data = parsed(ProfileUpdateSerializer, request.data)
        user = services.user_update_profile(
            user=request.user, first_name=data.get("firstName"), last_name=data.get("lastName")
        )
        return Response(ProfileUpdatedSerializer(user).data)

    patch = put


class InternalUserView(InternalView):
    """Saga compensation: only the gateway (the saga's orchestrator) holding `users:delete` may
    delete an account."""

    service_scope = DELETE_USERS_SCOPE
    service_callers = {"gateway"}

    @extend_schema(
        summary="Delete an account (saga compensation)",
        tags=[INTERNAL],
        responses={
            200: UserDeletedSerializer,
            **error_responses({**SERVICE_TOKEN_ERRORS, 404: "The id is out of range"}),
        },
    )
    def delete(self, request, user_id: int):
        if user_id > MAX_BIGINT:
            raise NotFound("No such user")
        deleted = services.user_delete(user_id=user_id)
        message = "User deleted successfully (compensation)" if deleted else "No such user"
        answer = {"message": message, "userId": user_id, "deleted": deleted}
        return Response(UserDeletedSerializer(answer).data)


class PendingCredentialView(InternalView):
    """Registration saga: the gateway hands over the password once; its steps carry the ref."""

    service_scope = CREATE_USERS_SCOPE
    service_callers = {"gateway"}

    @extend_schema(
        summary="Hold a registration saga's password for its create_user step",
        description=(
            "The password is hashed (Argon2id) and held until the saga's `auth.saga.create_user`"
            " step takes it by `credentialRef`, or until `expiresAt`; the saga's messages carry"
            " only the reference, never the password or a hash."
        ),
        tags=[INTERNAL],
        request=PendingCredentialSerializer,
        responses={
            201: PendingCredentialHeldSerializer,
            **error_responses(
                {
                    **SERVICE_TOKEN_ERRORS,
                    400: "Invalid body",
                    409: "This saga already handed over its password",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def post(self, request):
        data = parsed(PendingCredentialSerializer, request.data)
        pending = services.pending_credential_stage(
            saga_id=data["sagaId"], password=data["password"]
        )
        return Response(
            PendingCredentialHeldSerializer(pending).data, status=status.HTTP_201_CREATED
        )
