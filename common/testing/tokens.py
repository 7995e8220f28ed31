"""Tokens for tests, signed the way the platform signs them (with the dev keys).

User tokens as auth issues them; service tokens as any one service mints them, so a test can
speak as the gateway, as streaming, or as a compromised video service.
"""

import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization

from common.auth import keys
from common.service_registry import SERVICES

ISSUER = "streamify-auth"
AUDIENCE = "streamify"


def user_claims(user_id: int, *, is_staff: bool = False, expires_in: int = 300, **extra) -> dict:
    now = int(time.time())
    return {
        "token_type": "access",
        "user_id": user_id,
        "email": extra.pop("email", f"user{user_id}@example.com"),
        "is_staff": is_staff,
        "iat": now,
        "exp": now + expires_in,
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
        **extra,
    }


def user_token(user_id: int, **options) -> str:
    return jwt.encode(user_claims(user_id, **options), keys.private_key(), algorithm="RS256")


def bearer(user_id: int, **options) -> dict:
    """Request headers (for requests / DRF's APIClient) carrying a valid user token."""
    return {"Authorization": f"Bearer {user_token(user_id, **options)}"}


def service_claims(
    issuer: str, *, audience: str, scopes: Iterable[str], expires_in: int = 60, **extra
) -> dict:
    """The claims `issuer` puts in a token for `audience` (common.auth.service_tokens.mint)."""
    now = int(time.time())
    return {
        "iss": f"service:{issuer}",
        "sub": f"service:{issuer}",
        "aud": f"service:{audience}",
        "scope": " ".join(scopes),
        "token_type": "service",
        "iat": now,
        "exp": now + expires_in,
        "jti": uuid.uuid4().hex,
        **extra,
    }


def service_token(
    issuer: str,
    *,
    audience: str,
    scopes: Iterable[str],
    key=None,
    algorithm: str = "EdDSA",
    kid: str | None = None,
    **claims,
) -> str:
    """A token naming `issuer`, signed with `key` (default: the issuer's own dev key).

    `key` may be another service's key (a forgery), a PEM read from a booted platform's var
    dir (`platform_service_key`), or anything PyJWT signs with `algorithm`.
    """
    signing_key = keys.service_private_key(issuer) if key is None else key
    return jwt.encode(
        service_claims(issuer, audience=audience, scopes=scopes, **claims),
        signing_key,
        algorithm=algorithm,
        headers={"kid": issuer if kid is None else kid},
    )


def service_header(issuer: str, **options) -> dict:
    """Request headers carrying a service token (see `service_token` for the options)."""
    return {"Authorization": f"Service {service_token(issuer, **options)}"}


def platform_service_key(var_dir: Path, service: str) -> bytes:
    """The private key `service` generated under a booted platform's var dir (dev mode)."""
    return (var_dir / "secrets" / f"service_{service}_private.pem").read_bytes()


def service_key_env() -> dict[str, str]:
    """Environment giving processes a test starts this test process's service keys (every
    service's own key and every public key), so the tokens the test mints are accepted."""
    env = {}
    for service in SERVICES:
        private = keys.service_private_key(service)
        env[f"{service.upper()}_SERVICE_PRIVATE_KEY"] = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        env[f"{service.upper()}_SERVICE_PUBLIC_KEY"] = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
    return env
