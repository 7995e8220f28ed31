"""Service credentials: short-lived HS256 tokens minted by one service for another, with scopes.

A user's access token can never pass as one: different scheme, algorithm, key and token type.
"""

import time
import uuid
from dataclasses import dataclass, field

import jwt
from django.conf import settings

ALGORITHM = "HS256"
TOKEN_TYPE = "service"
LIFETIME_SECONDS = 120


class ServiceTokenError(Exception):
    pass


@dataclass(frozen=True)
class ServicePrincipal:
    """The caller of an internal endpoint; DRF sees it as `request.user` and `request.auth`."""

    name: str
    scopes: frozenset = field(default_factory=frozenset)
    is_authenticated = True
    is_service = True
    is_staff = False
    id = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def mint(*, audience: str, scopes: list[str] | tuple[str, ...]) -> str:
    """A token by which this service may call `audience` for the given scopes."""
    now = int(time.time())
    claims = {
        "iss": f"service:{settings.SERVICE_NAME}",
        "sub": f"service:{settings.SERVICE_NAME}",
        "aud": f"service:{audience}",
        "scope": " ".join(scopes),
        "token_type": TOKEN_TYPE,
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.SERVICE_TOKEN_SECRET, algorithm=ALGORITHM)


def authorization_header(*, audience: str, scopes: list[str] | tuple[str, ...]) -> str:
    return f"Service {mint(audience=audience, scopes=scopes)}"


def verify(token: str) -> ServicePrincipal:
    try:
        claims = jwt.decode(
            token,
            settings.SERVICE_TOKEN_SECRET,
            algorithms=[ALGORITHM],
            audience=f"service:{settings.SERVICE_NAME}",
            options={"require": ["exp", "iat", "sub", "aud", "token_type"]},
        )
    except jwt.PyJWTError as exc:
        raise ServiceTokenError(str(exc)) from exc
    if claims.get("token_type") != TOKEN_TYPE or not str(claims["sub"]).startswith("service:"):
        raise ServiceTokenError("not a service token")
    return ServicePrincipal(
        name=claims["sub"].removeprefix("service:"),
        scopes=frozenset(str(claims.get("scope", "")).split()),
    )
