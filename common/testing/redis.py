"""A private redis-server per test, on a free port, so no two tests share a key."""

import shutil
import subprocess
import tempfile
from contextlib import contextmanager

import pytest

from common.testing.processes import free_port, wait_for


@contextmanager
def private_redis():
    """Yield a redis:// URL of a fresh server; skip the test where redis-server is missing."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Redis is optional for Streamify)")
    import redis

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="streamify-redis-") as folder:
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", folder]
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(redis.Redis(port=port).ping, timeout=10, what="redis-server")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(timeout=10)
