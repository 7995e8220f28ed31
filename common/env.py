"""The one reader of the environment (django-environ), and the only place that decides
embedded vs real backends.

Service settings read their knobs through `ENV` here and hand them to the code as Django
settings. What a process needs before (or without) Django settings — its log format, where its
spans go, where it listens, where another service answers — is read by the functions below,
each named for what it tells, with the service registry's defaults.
"""

import os
import re
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from common.paths import REPO_ROOT
from common.service_registry import DEFAULT_GRPC_PORTS, DEFAULT_HTTP_PORTS

ENV = environ.Env()

DEFAULT_POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"


def flag(name: str, default: bool = False) -> bool:
    return ENV.bool(name, default=default)


def dev_mode() -> bool:
    """Embedded developer mode: the only mode in which secrets may be made up locally."""
    return flag("STREAMIFY_DEV")


def verbatim(name: str) -> str:
    """A value exactly as set, "" if unset: for secrets. django-environ reads a leading `$` as
    the name of another variable, and a random secret may well begin with one."""
    return ENV.ENVIRON.get(name, "")


def names(name: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [item.strip() for item in ENV.list(name, default=[]) if item.strip()]


# --- where things are ---------------------------------------------------------------------------


def var_dir() -> Path:
    """The runtime folder (databases, broker files, dev secrets), outside git; tests move it."""
    path = Path(ENV.str("STREAMIFY_VAR_DIR", default=str(REPO_ROOT / "var")))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str | None:
    """`<SERVICE>_DATABASE_URL`, else `STREAMIFY_POSTGRES_URL`/streamify_<service>, else None."""
    own = ENV.str(f"{service.upper()}_DATABASE_URL", default="")
    if own:
        return own
    server = ENV.str("STREAMIFY_POSTGRES_URL", default="")
    if server:
        return f"{server.rstrip('/')}/streamify_{service}"
    return None


def postgres_server() -> str:
    """The PostgreSQL server that `make run --real` and the database scripts talk to."""
    return ENV.str("STREAMIFY_POSTGRES_URL", default=DEFAULT_POSTGRES_SERVER)


def broker_url() -> str:
    return ENV.str("CELERY_BROKER_URL", default="filesystem://")


def redis_url() -> str | None:
    """Shared breaker state and rate limits live in Redis when it is given, else per process."""
    return ENV.str("REDIS_URL", default="") or None


def bind_host() -> str:
    """The address every server of this process listens on (HTTP, gRPC, metrics)."""
    return ENV.str("BIND_HOST", default="127.0.0.1")


def http_port(service: str) -> int:
    return ENV.int(f"{service.upper()}_PORT", default=DEFAULT_HTTP_PORTS[service])


def grpc_port(service: str) -> int:
    return ENV.int(f"{service.upper()}_GRPC_PORT", default=DEFAULT_GRPC_PORTS.get(service, 0))


def service_urls(service: str) -> tuple[str, ...]:
    """Base URLs at which `service` answers HTTP: `<SERVICE>_URL`, one URL or several
    comma-separated (replicas), e.g. AUTH_URL=http://127.0.0.1:3001,http://127.0.0.1:3011."""
    listed = names(f"{service.upper()}_URL") or [f"http://127.0.0.1:{http_port(service)}"]
    return tuple(url.rstrip("/") for url in listed)


def service_url(service: str) -> str:
    """The first of `service_urls`: where a single-instance client (a banner, a link) points."""
    return service_urls(service)[0]


def grpc_target(service: str) -> str:
    """Where `service` answers gRPC: `<SERVICE>_GRPC_TARGET`, else 127.0.0.1:<its gRPC port>."""
    return ENV.str(f"{service.upper()}_GRPC_TARGET", default="") or (
        f"127.0.0.1:{grpc_port(service)}"
    )


def breaker_setting(name: str, knob: str, default: float) -> float:
    """`STREAMIFY_BREAKER_<NAME>_<KNOB>` for breaker `name`, else `STREAMIFY_BREAKER_<KNOB>` for
    every breaker, else `default` (knobs: FAIL_MAX, RESET_SECONDS)."""
    own = re.sub(r"[^A-Z0-9]", "_", name.upper())
    for variable in (f"STREAMIFY_BREAKER_{own}_{knob}", f"STREAMIFY_BREAKER_{knob}"):
        if ENV.str(variable, default=""):
            return ENV.float(variable)
    return default


# --- the process itself -------------------------------------------------------------------------


def process_name(default: str = "") -> str:
    """The name `make run` gives this process (`auth-web`, `video-worker`), for logs and spans."""
    return ENV.str("STREAMIFY_PROCESS", default="") or default


def web_concurrency() -> int:
    """Server processes per service (granian workers)."""
    return ENV.int("WEB_CONCURRENCY", default=1)


def flower_port() -> int:
    return ENV.int("FLOWER_PORT", default=5555)


def log_level() -> str:
    return ENV.str("STREAMIFY_LOG_LEVEL", default="INFO")


def json_logs() -> bool:
    return ENV.str("STREAMIFY_LOG_FORMAT", default="plain").lower() == "json"


def traces_folder() -> str | None:
    """`STREAMIFY_TRACES_FILE`: a folder where each process writes its spans as JSON lines."""
    return ENV.str("STREAMIFY_TRACES_FILE", default="") or None


def otlp_configured() -> bool:
    """An OTLP collector is named by the standard OpenTelemetry variables."""
    return any(
        ENV.str(name, default="")
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def metrics_multiprocess() -> bool:
    """prometheus_client's own switch: several server processes share their counters."""
    return bool(ENV.str("PROMETHEUS_MULTIPROC_DIR", default=""))


def worker_metrics_port() -> int | None:
    port = ENV.str("STREAMIFY_WORKER_METRICS_PORT", default="")
    return int(port) if port else None


# --- secrets ------------------------------------------------------------------------------------


def pem(name: str) -> str | None:
    """A key from `name` (PEM, `\\n` for new lines) or from the file `<name>_FILE` names."""
    value = verbatim(name)
    if value:
        return value.replace("\\n", "\n")
    path = ENV.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text()
    return None


def secret(name: str, *, length: int = 50) -> str:
    """Return secret `name` from the environment; in dev mode make one up once, under var/."""
    value = verbatim(name)
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
