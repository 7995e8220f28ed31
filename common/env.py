"""Reading the environment: the only place that decides embedded vs real backends."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from common.paths import var_dir
from common.service_registry import DEFAULT_HTTP_PORTS


def flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def dev_mode() -> bool:
    """Embedded developer mode: the only mode in which secrets may be made up locally."""
    return flag("STREAMIFY_DEV")


def database_url(service: str) -> str | None:
    """`<SERVICE>_DATABASE_URL`, else `STREAMIFY_POSTGRES_URL`/streamify_<service>, else None."""
    own = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if own:
        return own
    server = os.environ.get("STREAMIFY_POSTGRES_URL")
    if server:
        return f"{server.rstrip('/')}/streamify_{service}"
    return None


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL", "filesystem://")


def service_urls(service: str) -> tuple[str, ...]:
    """Base URLs at which `service` answers HTTP: `<SERVICE>_URL`, one URL or several
    comma-separated (replicas), e.g. AUTH_URL=http://127.0.0.1:3001,http://127.0.0.1:3011."""
    port = os.environ.get(f"{service.upper()}_PORT", DEFAULT_HTTP_PORTS[service])
    listed = os.environ.get(f"{service.upper()}_URL", f"http://127.0.0.1:{port}").split(",")
    return tuple(url.strip().rstrip("/") for url in listed if url.strip())


def service_url(service: str) -> str:
    """The first of `service_urls`: where a single-instance client (a banner, a link) points."""
    return service_urls(service)[0]


def secret(name: str, *, length: int = 50) -> str:
    """Return secret `name` from the environment; in dev mode make one up once, under var/."""
    value = os.environ.get(name)
    if value:
        return value
    if not dev_mode():
        raise ImproperlyConfigured(f"{name} must be set (only STREAMIFY_DEV=1 may generate it)")
    path = var_dir() / "secrets" / name.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(length))
    return path.read_text().strip()


def _write_private(path: Path, text: str) -> None:
    # Several processes start at once: write aside, then link into place so the first wins whole.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
