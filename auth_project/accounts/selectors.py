"""Reads of the auth service."""

from types import SimpleNamespace

from rest_framework.exceptions import APIException

from accounts.models import User
from common.auth import service_tokens
from common.auth.authentication import UserTokenAuthentication

READ_USERS_SCOPE = "users:read"


class TokenInvalid(Exception):
    """The access token is not valid, or its user no longer exists or is inactive."""


class CallerRefused(Exception):
    """The caller may not read this; `anonymous` when it gave no credentials at all."""

    def __init__(self, message: str, *, anonymous: bool = False):
        super().__init__(message)
        self.anonymous = anonymous


def user_get(*, user_id: int) -> User | None:
    if not 0 < user_id < 2**63:
        return None
    return User.objects.filter(id=user_id).first()


def user_get_active(*, user_id) -> User | None:
    try:
        return User.objects.filter(id=int(user_id), is_active=True).first()
    except (TypeError, ValueError):
        return None


def token_verify(*, token: str) -> User:
    """Return the user of a valid access token, verified exactly as every other service does
    (common.auth: signature, expiry, issuer, audience, no network) and then against this
    database: a deleted or deactivated user's token is no longer valid here."""
    token = token.strip()
    if not token:
        raise TokenInvalid("Invalid token: no token given")
    if any(c.isspace() for c in token):
        raise TokenInvalid("Invalid token: malformed (contains whitespace)")
    request = SimpleNamespace(META={"HTTP_AUTHORIZATION": f"Bearer {token}".encode()})
    try:
        result = UserTokenAuthentication().authenticate(request)
    except APIException as exc:
        raise TokenInvalid(_message(exc.detail)) from exc
    if result is None:
        raise TokenInvalid("Invalid token: no token given")
    token_user, _claims = result
    user = user_get_active(user_id=token_user.id)
    if user is None:
        raise TokenInvalid("Invalid token: the user no longer exists or is inactive")
    return user


def profile_reader_check(*, authorization: str, user_id: int) -> None:
    """A profile is read by a service holding `users:read`, by its own user, or by staff."""
    scheme, _, credential = authorization.strip().partition(" ")
    if not credential:
        raise CallerRefused(
            "authorization metadata required: 'Service <token>' or 'Bearer <token>'",
            anonymous=True,
        )
    if scheme.lower() == "service":
        try:
            principal = service_tokens.verify(credential.strip())
        except service_tokens.ServiceTokenError as exc:
            raise CallerRefused(f"Invalid service token: {exc}") from exc
        if not principal.has_scope(READ_USERS_SCOPE):
            raise CallerRefused(f"service token lacks scope {READ_USERS_SCOPE}")
        return
    if scheme.lower() == "bearer":
        try:
            caller = token_verify(token=credential.strip())
        except TokenInvalid as exc:
            raise CallerRefused(str(exc)) from exc
        if caller.id != user_id and not caller.is_staff:
            raise CallerRefused("a user may read only their own profile")
        return
    raise CallerRefused(f"unsupported authorization scheme {scheme!r}")


def _message(detail) -> str:
    if isinstance(detail, dict):
        detail = detail.get("detail", "Invalid token")
    return str(detail)
