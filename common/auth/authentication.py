"""DRF authentication classes shared by every service. No network call: all checks are local."""

import time

from rest_framework import status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from common import logs
from common.auth import service_tokens
from common.lru import LRU


class TokenRejected(APIException):
    """A token was presented but is forged, expired or malformed (the seed answered 403)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Invalid or expired token"
    default_code = "token_rejected"


class UserTokenAuthentication(JWTStatelessUserAuthentication):
    """`Authorization: Bearer <access token>` signed by auth (RS256, issuer and audience checked).

    No token: anonymous (401 where a view requires a user). A bad token: 403 with the reason.
    A token this process has already verified is not verified again until it expires: the
    RSA signature check was a fifth of a cheap read's CPU, and its answer cannot change.
    """

    def authenticate(self, request):
        header = self.get_header(request)
        raw = self.get_raw_token(header) if header is not None else None
        if raw is None:
            return None
        found = _verified.get(raw)
        if found is None:
            try:
                found = super().authenticate(request)
            except InvalidToken as exc:
                raise TokenRejected(_reason(exc)) from exc
            _verified.put(raw, found, expires_at=found[1]["exp"])
        logs.set_user(found[0].id)
        return found


class VerifiedTokens:
    """The last `size` verified tokens of this process and whom they name, until they expire."""

    def __init__(self, size: int = 4096):
        self._entries: LRU[tuple[tuple, float]] = LRU(max_entries=size)

    def get(self, raw: bytes):
        entry = self._entries.get(raw)
        if entry is None:
            return None
        if entry[1] <= time.time():
            self._entries.pop(raw)
            return None
        return entry[0]

    def put(self, raw: bytes, found: tuple, *, expires_at: float) -> None:
        self._entries.put(raw, (found, expires_at))


_verified = VerifiedTokens()


def caller_id(request) -> int:
    """The signed-in caller's user id (the token's `user_id` claim), as the services use it."""
    return int(request.user.id)


def token_user(request):
    """The user a Django request's bearer token names, or None (no token, or a rejected one).

    The same local check the services make, for a caller outside DRF (the gateway).
    """
    try:
        found = UserTokenAuthentication().authenticate(request)
    except APIException:
        return None
    return found[0] if found else None


def _reason(exc: InvalidToken) -> str:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    for message in detail.get("messages", []):
        if message.get("message"):
            return f"Invalid token: {message['message']}"
    return f"Invalid token: {detail.get('detail', 'not a valid access token')}"


class ServiceTokenAuthentication(BaseAuthentication):
    """`Authorization: Service <token>`: another Streamify service calling an internal endpoint,
    verified with that service's own public key (`IsInternalService` then checks the route
    accepts it)."""

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
