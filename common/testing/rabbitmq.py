"""A private RabbitMQ virtual host per test session, so runs never see each other's queues."""

import subprocess
import uuid
from contextlib import contextmanager
from urllib.parse import quote, urlparse

from common.testing import backends


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def private_vhost(prefix: str = "streamify-test"):
    """Yield an amqp:// URL of a fresh vhost; delete the vhost (and its queues) afterwards."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    parsed = urlparse(backends.amqp_url())
    user = parsed.username or "guest"
    _ctl("add_vhost", vhost)
    _ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    try:
        netloc = parsed.netloc
        yield f"amqp://{netloc}/{quote(vhost, safe='')}"
    finally:
        _ctl("delete_vhost", vhost)
