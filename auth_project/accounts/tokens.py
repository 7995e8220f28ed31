"""The tokens auth issues: an RS256 access token every service verifies locally, and a refresh
token that only auth accepts, recorded (outstanding) so it can be rotated and revoked."""

from dataclasses import dataclass

from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def user_claims(user: User) -> dict:
    """Claims other services read without calling auth (names as the REST API spells them)."""
    return {
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "is_staff": user.is_staff,
    }


def token_pair_for(user: User) -> TokenPair:
    """A new refresh token (recorded as outstanding) and its access token, both with user claims."""
    refresh = RefreshToken.for_user(user)
    # simplejwt writes the id as a string; the platform's contract (and events) use integers.
    refresh[jwt_settings.USER_ID_CLAIM] = user.id
    for claim, value in user_claims(user).items():
        refresh[claim] = value
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))
