"""Which real backends this machine has, and whether the run insists on them."""

import os
import socket
from urllib.parse import urlparse

from common.env import DEFAULT_POSTGRES_SERVER, flag

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def postgres_url() -> str:
    return os.environ.get("STREAMIFY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_SERVER)


def amqp_url() -> str:
    return os.environ.get("STREAMIFY_TEST_AMQP_URL", DEFAULT_AMQP_URL)


def reachable(url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            return True
    except OSError:
        return False


def required() -> bool:
    return flag("STREAMIFY_REQUIRE_REAL_BACKENDS")


def missing_required() -> list[str]:
    """Real backends the run insists on but cannot reach."""
    if not required():
        return []
    wanted = {"PostgreSQL": postgres_url(), "RabbitMQ": amqp_url()}
    return [f"{name} at {url}" for name, url in wanted.items() if not reachable(url)]


BACKEND_VARIABLES = ("STREAMIFY_POSTGRES_URL", "CELERY_BROKER_URL", "REDIS_URL")


def environ_without_backends() -> dict[str, str]:
    """This process's environment minus every backend setting: a child started with it runs on
    the embedded default unless the caller names its backends."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in BACKEND_VARIABLES and not k.endswith("_DATABASE_URL")
    }
