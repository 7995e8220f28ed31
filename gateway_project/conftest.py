"""Fixtures that boot real processes: the gateway (gunicorn) and the upstreams it fronts."""

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest

from common.service_registry import UPSTREAMS
from common.testing.platform import CLOSED_URL, Platform
from common.testing.postgres import temporary_databases
from common.testing.processes import BIN, Process, free_port, manage

HERE = Path(__file__).resolve().parent
CLOSED = CLOSED_URL


class GatewayPlatform(Platform):
    """The common test platform, with what the gateway's tests add: a PostgreSQL database per
    service made when first needed, and echo upstreams in place of real services."""

    def __init__(self, stack: ExitStack, root: Path):
        super().__init__(root, share_keys=True, log_level="WARNING")
        self.stack = stack
        stack.callback(self.stop)
        self.extra_env["PYTHONPATH"] = str(HERE.parent)

    def database(self, service: str) -> None:
        if service not in self.database_urls:
            urls = self.stack.enter_context(temporary_databases([service], prefix="gwxt"))
            self.database_urls.update(urls)

    def upstream(self, service: str, replicas: int = 1) -> str:
        """Start the echo upstream (proxy/tests/upstream_app.py) in place of `service`; with
        `replicas`, that many of it, listed in `<SERVICE>_URL` (processes `<service>-echo`,
        `<service>-echo-2`, ...)."""
        urls = []
        for index in range(1, replicas + 1):
            port = free_port()
            argv = [
                str(BIN / "gunicorn"), "--chdir", str(HERE / "proxy" / "tests"),
                "upstream_app:app", "--bind", f"127.0.0.1:{port}",
                "--worker-class", "gthread", "--threads", "4",
            ]  # fmt: skip
            name = f"{service}-echo" if index == 1 else f"{service}-echo-{index}"
            process = Process(name, argv, env=self.env(), cwd=HERE, log_dir=self.logs)
            urls.append(f"http://127.0.0.1:{port}")
            self.start(process, f"{urls[-1]}/health")
        self.urls[service] = ",".join(urls)
        return self.urls[service]

    def service(self, service: str, **extra_env) -> str:
        """Migrate and start the real `service` on a free port; return its URL."""
        self.database(service)
        manage(service, "migrate", "--noinput", env=self.env(**extra_env))
        self.start_web(service, **extra_env)
        return self.urls[service]


@pytest.fixture
def platform():
    """A fresh platform: its own var dir and PostgreSQL databases, torn down afterwards."""
    root = Path(tempfile.mkdtemp(prefix="gw-platform-"))
    with ExitStack() as stack:
        platform = GatewayPlatform(stack, root)
        platform.database("gateway")
        yield platform
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def gateway(platform):
    """Start the gateway on a free port once the test has started its upstreams."""

    def start(**extra_env) -> str:
        # Upstreams this test did not start point at a closed port, never at a default one.
        for service in UPSTREAMS:
            platform.urls.setdefault(service, CLOSED)
        extra_env.setdefault("AUTH_GRPC_TARGET", CLOSED.removeprefix("http://"))
        extra_env.setdefault("VIDEO_GRPC_TARGET", CLOSED.removeprefix("http://"))
        env = {
            "WEB_CONCURRENCY": extra_env.pop("WEB_CONCURRENCY", "2"),
            **{k: str(v) for k, v in extra_env.items()},
        }
        manage("gateway", "migrate", "--noinput", env=platform.env(**env))
        platform.start_web("gateway", **env)
        return platform.urls["gateway"]

    return start


@pytest.fixture(autouse=True)
def _no_default_upstreams(monkeypatch):
    """In-process tests never reach a service on a default port (another engineer's)."""
    for service in UPSTREAMS:
        monkeypatch.setenv(f"{service.upper()}_URL", CLOSED)
    monkeypatch.setenv("AUTH_GRPC_TARGET", CLOSED.removeprefix("http://"))
    monkeypatch.setenv("VIDEO_GRPC_TARGET", CLOSED.removeprefix("http://"))
