"""The JWT key pair: auth signs with the private key, every service verifies with the public key."""

import fcntl
import os
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from common.env import dev_mode
from common.paths import var_dir


def _from_env(name: str) -> str | None:
    value = os.environ.get(name)
    if value:
        return value.replace("\\n", "\n")
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path) as handle:
            return handle.read()
    return None


@cache
def private_key() -> str:
    """PEM of the signing key; only the auth service asks for it."""
    return _from_env("JWT_PRIVATE_KEY") or _dev_pair("private")


@cache
def public_key() -> str:
    return _from_env("JWT_PUBLIC_KEY") or _dev_pair("public")


def _dev_pair(which: str) -> str:
    if not dev_mode():
        name = "JWT_PRIVATE_KEY" if which == "private" else "JWT_PUBLIC_KEY"
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) must be set outside STREAMIFY_DEV=1")
    folder = var_dir() / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / "jwt_private.pem", folder / "jwt_public.pem"
    # Services start together: one of them makes the pair while the others wait on the lock.
    with open(folder / ".jwt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not public_path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            private_path.write_bytes(pem)
            private_path.chmod(0o600)
            public_path.write_bytes(
                key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
    return (private_path if which == "private" else public_path).read_text()
