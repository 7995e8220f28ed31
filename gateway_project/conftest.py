"""Fixtures that boot real processes: the gateway (gunicorn) and the upstreams it fronts."""

import os
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest

from common.auth import keys
from common.testing.postgres import temporary_databases
from common.testing.processes import (
    BIN,
    Process,
    free_port,
    manage,
    wait_http_ok,
    web_process,
)
from common.testing.tokens import service_key_env

HERE = Path(__file__).resolve().parent
UPSTREAMS = ("auth", "video", "streaming", "billing", "analytics")
CLOSED = "http://127.0.0.1:9"


class Platform:
    """Processes of one test platform sharing a var dir; stops exactly what it started."""

    def __init__(self, stack: ExitStack, var_dir: Path, databases: dict):
        self.stack, self.var_dir, self.databases = stack, var_dir, databases
        self.urls: dict[str, str] = {}
        self.processes: dict[str, Process] = {}
        self.extra_env: dict[str, str] = {}

    def env(self, **extra) -> dict:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": str(self.var_dir),
            "STREAMIFY_LOG_LEVEL": "WARNING",
            "STREAMIFY_ACCESS_LOG": "0",
            "PYTHONPATH": str(HERE.parent),
            # The platform and this test process share their keys, so tests can mint user and
            # service tokens the booted services accept.
            "JWT_PRIVATE_KEY": keys.private_key(),
            "JWT_PUBLIC_KEY": keys.public_key(),
            **service_key_env(),
        }
        for service, url in self.databases.items():
            env[f"{service.upper()}_DATABASE_URL"] = url
        for service, url in self.urls.items():
            env[f"{service.upper()}_URL"] = url
        env.update(self.extra_env)
        env.update(extra)
        return env

    def start(self, process: Process, health_url: str) -> Process:
        process.start()
        self.stack.callback(process.stop)
        self.processes[process.name] = process
        wait_http_ok(health_url, process=process, timeout=60)
        return process

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
            process = Process(name, argv, env=self.env(), cwd=HERE, log_dir=self.var_dir)
            urls.append(f"http://127.0.0.1:{port}")
            self.start(process, f"{urls[-1]}/health")
        self.urls[service] = ",".join(urls)
        return self.urls[service]

    def database(self, service: str) -> None:
        if service not in self.databases:
            urls = self.stack.enter_context(temporary_databases([service], prefix="gwxt"))
            self.databases.update(urls)

    def service(self, service: str, **extra_env) -> str:
        """Migrate and start the real `service` (gunicorn) on a free port."""
        self.database(service)
        env = self.env(**extra_env)
        manage(service, "migrate", "--noinput", env=env)
        port = free_port()
        self.urls[service] = f"http://127.0.0.1:{port}"
        process = web_process(service, port, env=env, log_dir=self.var_dir)
        self.start(process, f"{self.urls[service]}/health")
        return self.urls[service]

    def stop(self, name: str) -> None:
        self.processes[name].stop()

    def restart(self, name: str, health_url: str) -> None:
        process = self.processes[name]
        process.start()
        wait_http_ok(health_url, process=process, timeout=60)


@pytest.fixture
def platform():
    """A fresh platform: its own var dir and PostgreSQL databases, torn down afterwards."""
    var_dir = Path(tempfile.mkdtemp(prefix="gw-platform-"))
    with ExitStack() as stack:
        platform = Platform(stack, var_dir, {})
        platform.database("gateway")
        yield platform
    shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture
def gateway(platform):
    """Start the gateway on a free port once the test has started its upstreams."""

    def start(**extra_env) -> str:
        # Upstreams this test did not start point at a closed port, never at a default one.
        for service in UPSTREAMS:
            platform.urls.setdefault(service, CLOSED)
        extra_env.setdefault("AUTH_GRPC_TARGET", CLOSED.removeprefix("http://"))
        extra_env.setdefault("VIDEO_GRPC_TARGET", CLOSED.removeprefix("http://"))
        env = platform.env(
            WEB_CONCURRENCY=extra_env.pop("WEB_CONCURRENCY", "2"),
            **{k: str(v) for k, v in extra_env.items()},
        )
        manage("gateway", "migrate", "--noinput", env=env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        platform.urls["gateway"] = url
        platform.start(
            web_process("gateway", port, env=env, log_dir=platform.var_dir), f"{url}/health"
        )
        return url

    return start


@pytest.fixture(autouse=True)
def _no_default_upstreams(monkeypatch):
    """In-process tests never reach a service on a default port (another engineer's)."""
    for service in UPSTREAMS:
        monkeypatch.setenv(f"{service.upper()}_URL", CLOSED)
    monkeypatch.setenv("AUTH_GRPC_TARGET", CLOSED.removeprefix("http://"))
    monkeypatch.setenv("VIDEO_GRPC_TARGET", CLOSED.removeprefix("http://"))
