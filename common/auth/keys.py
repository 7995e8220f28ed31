"""Signing keys: auth's RS256 pair for user tokens, and one Ed25519 pair per service.

User tokens: auth signs with `JWT_PRIVATE_KEY`, every service verifies with `JWT_PUBLIC_KEY`.
Service tokens: each service signs with its own `<SERVICE>_SERVICE_PRIVATE_KEY` and a receiving
service verifies with the caller's `<SERVICE>_SERVICE_PUBLIC_KEY`; holding one service's private
key lets a process speak as that service only. In dev mode (`STREAMIFY_DEV=1`) every missing
pair is generated once under `var/secrets/`; outside it nothing is made up.
"""

import fcntl
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.exceptions import ImproperlyConfigured

from common.env import dev_mode, pem, var_dir
from common.service_registry import SERVICES


@cache
def private_key() -> str:
    """PEM of the signing key; only the auth service asks for it."""
    return pem("JWT_PRIVATE_KEY") or _dev_jwt_pair("private")


@cache
def public_key() -> str:
    return pem("JWT_PUBLIC_KEY") or _dev_jwt_pair("public")


def _dev_jwt_pair(which: str) -> str:
    name = "JWT_PRIVATE_KEY" if which == "private" else "JWT_PUBLIC_KEY"
    private_path, public_path = _dev_pair(
        "jwt", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), name
    )
    return (private_path if which == "private" else public_path).read_text()


@cache
def service_private_key(service: str) -> ed25519.Ed25519PrivateKey:
    """Return `service`'s own signing key, parsed once per process.

    Only the process running `service` asks for it (a test may ask for any, to mint as that
    service); outside dev mode it must come from `<SERVICE>_SERVICE_PRIVATE_KEY` or `_FILE`.
    """
    if service not in SERVICES:
        raise ImproperlyConfigured(f"{service!r} is not one of the services {SERVICES}")
    name = f"{service.upper()}_SERVICE_PRIVATE_KEY"
    text = pem(name)
    if text is None:
        private_path, _ = _dev_pair(f"service_{service}", ed25519.Ed25519PrivateKey.generate, name)
        text = private_path.read_text()
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a PEM private key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{name} must be an Ed25519 key")
    return key


def service_public_key(service: str) -> ed25519.Ed25519PublicKey | None:
    """Return the key that verifies tokens signed by `service`, or None if it is not known.

    `service` comes from an unverified token header: only the platform's own service names are
    looked up, so a caller can neither touch the disk nor grow the per-process key cache.
    """
    if service not in SERVICES:
        return None
    return _service_public_key(service)


@cache
def _service_public_key(service: str) -> ed25519.Ed25519PublicKey | None:
    name = f"{service.upper()}_SERVICE_PUBLIC_KEY"
    text = pem(name)
    if text is None:
        if not dev_mode():
            # A peer nobody configured here: its tokens are refused, never trusted by default.
            return None
        _, public_path = _dev_pair(f"service_{service}", ed25519.Ed25519PrivateKey.generate, name)
        text = public_path.read_text()
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a PEM public key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ImproperlyConfigured(f"{name} must be an Ed25519 key")
    return key


def _dev_pair(stem: str, generate: Callable, variable: str) -> tuple[Path, Path]:
    """Return the paths of dev pair `stem` under var/secrets/, generating it the first time."""
    if not dev_mode():
        raise ImproperlyConfigured(
            f"{variable} (or {variable}_FILE) must be set outside STREAMIFY_DEV=1"
        )
    folder = var_dir() / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / f"{stem}_private.pem", folder / f"{stem}_public.pem"
    # Services start together: one of them makes the pair while the others wait on the lock.
    with open(folder / f".{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not public_path.exists():
            key = generate()
            private_pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(private_pem)
            public_path.write_bytes(
                key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
    return private_path, public_path
