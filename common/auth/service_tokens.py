"""Service credentials: short-lived tokens one service mints to call another, with scopes.

Each service signs with its own Ed25519 key (`EdDSA`) and names itself in the header's `kid`
and in `iss`/`sub`; the receiver verifies with that service's public key (common.auth.keys).
So a service can speak only as itself: a token naming another issuer fails that issuer's key,
and which callers a route accepts is the route's decision (`IsInternalService`), not the
minting service's.

Ed25519 rather than RS256: a token is minted on every internal call and Ed25519 signs about
six times faster than RSA-2048; its keys are a few lines of PEM; it has no parameters to get
wrong (key size, padding) and signatures are deterministic. And it is not the user tokens'
algorithm, so neither kind of token can pass for the other by its algorithm alone.

A user's access token can never pass as one: different scheme, algorithm, keys and token type.
"""

import time
import uuid
from dataclasses import dataclass, field

import jwt
from django.conf import settings

from common.auth import keys

ALGORITHM = "EdDSA"
TOKEN_TYPE = "service"
LIFETIME_SECONDS = 120
# Minting and receiving hosts' clocks differ a little; without it a token whose `iat` is a
# fraction of a second ahead of the receiver's clock would be "not yet valid".
CLOCK_SKEW_SECONDS = 5
REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "aud", "scope", "token_type"]


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
    """Return a token by which this service may call `audience` for `scopes`, signed with its
    own key: the receiving route still decides whether this service may call it."""
    issuer = settings.SERVICE_NAME
    now = int(time.time())
    claims = {
        "iss": f"service:{issuer}",
        "sub": f"service:{issuer}",
        "aud": f"service:{audience}",
        "scope": " ".join(scopes),
        "token_type": TOKEN_TYPE,
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, keys.service_private_key(issuer), algorithm=ALGORITHM, headers={"kid": issuer}
    )


def authorization_header(*, audience: str, scopes: list[str] | tuple[str, ...]) -> str:
    return f"Service {mint(audience=audience, scopes=scopes)}"


def verify(token: str) -> ServicePrincipal:
    """Return the calling service of a token addressed to this one.

    Refuse it unless it is signed by the key of the service it names, for this audience, not
    expired and not longer-lived than any service mints.
    """
    try:
        issuer = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise ServiceTokenError(str(exc)) from exc
    key = keys.service_public_key(issuer) if isinstance(issuer, str) else None
    if key is None:
        raise ServiceTokenError(f"unknown issuer {issuer!r}")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=f"service:{settings.SERVICE_NAME}",
            issuer=f"service:{issuer}",
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise ServiceTokenError(str(exc)) from exc
    if claims["token_type"] != TOKEN_TYPE or claims["sub"] != claims["iss"]:
        raise ServiceTokenError("not a service token")
    if not isinstance(claims["scope"], str):
        raise ServiceTokenError("scope must be a space-separated string")
    # PyJWT has checked that both are integers.
    if int(claims["exp"]) - int(claims["iat"]) > LIFETIME_SECONDS:
        raise ServiceTokenError(f"lifetime over {LIFETIME_SECONDS} s")
    return ServicePrincipal(name=issuer, scopes=frozenset(claims["scope"].split()))
