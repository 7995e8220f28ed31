"""DRF authentication classes shared by every service. No network call: all checks are local."""

from rest_framework import status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from common.auth import service_tokens


class TokenRejected(APIException):
    """A token was presented but is forged, expired or malformed (the seed answered 403)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Invalid or expired token"
    default_code = "token_rejected"


class UserTokenAuthentication(JWTStatelessUserAuthentication):
    """`Authorization: Bearer <access token>` signed by auth (RS256, issuer and audience checked).

    No token: anonymous (401 where a view requires a user). A bad token: 403 with the reason.
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except InvalidToken as exc:
            raise TokenRejected(_reason(exc)) from exc


def _reason(exc: InvalidToken) -> str:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    for message in detail.get("messages", []):
        if message.get("message"):
            return f"Invalid token: {message['message']}"
    return f"Invalid token: {detail.get('detail', 'not a valid access token')}"


class ServiceTokenAuthentication(BaseAuthentication):
    """`Authorization: Service <token>`: another Streamify service calling an internal endpoint."""

    keyword = b"service"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Service authorization header must be 'Service <token>'")
        try:
            principal = service_tokens.verify(parts[1].decode("ascii", "replace"))
        except service_tokens.ServiceTokenError as exc:
            raise TokenRejected(f"Invalid service token: {exc}") from exc
        return principal, principal

    def authenticate_header(self, request):
        return "Service"
