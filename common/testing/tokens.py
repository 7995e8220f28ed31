"""Access tokens for tests, signed the way auth signs them (with the dev key pair)."""

import time
import uuid

import jwt

from common.auth import keys

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
