"""`make run` in a scratch folder, as a new user starts it, for the smoke boot and the benches.

    with booted_platform(real=True) as platform:
        platform.wait_healthy()
        ... platform.pids(), platform.rss_mb() ...

`real` runs it on fresh PostgreSQL databases and a private RabbitMQ vhost; `tree` starts another
checkout's `make run` (a benchmark's "before"). Leaving the block stops it with Ctrl-C and fails
if any process outlives that.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import requests

from common.paths import REPO_ROOT
from common.service_registry import DEFAULT_HTTP_PORTS, SERVICES
from common.testing.backends import environ_without_backends
from common.testing.processes import cpu_seconds, descendants

FLOWER_PORT = 5555


class PlatformFailed(RuntimeError):
    """The platform did not start, or did not stop cleanly."""


class BootedPlatform:
    def __init__(self, process: subprocess.Popen, log_path: Path, env: dict):
        self.process, self.log_path, self.env = process, log_path, env
        self.started = time.monotonic()

    def url(self, service: str, path: str = "") -> str:
        port = self.env.get(f"{service.upper()}_PORT", DEFAULT_HTTP_PORTS[service])
        return f"http://127.0.0.1:{port}{path}"

    def workers(self) -> dict[str, int]:
        """Flower's answer, asked of the Celery workers now: each worker's name and pid."""
        password = Path(self.env["STREAMIFY_VAR_DIR"], "secrets", "flower_password").read_text()
        answer = requests.get(
            f"http://127.0.0.1:{self.env.get('FLOWER_PORT', FLOWER_PORT)}/api/workers",
            params={"refresh": "1"},
            auth=("admin", password.strip()),
            timeout=30,
        )
        answer.raise_for_status()
        return {name: info["stats"]["pid"] for name, info in answer.json().items()}

    def health_urls(self) -> dict[str, str]:
        found = {s: self.url(s, "/health") for s in SERVICES}
        flower = self.env.get("FLOWER_PORT", FLOWER_PORT)
        found["flower"] = f"http://127.0.0.1:{flower}/healthcheck"
        return found

    def wait_healthy(self, timeout: float = 240, report=None) -> float:
        """Seconds from `make run` until every /health (and Flower) answers 200."""
        pending = self.health_urls()
        while pending and time.monotonic() - self.started < timeout:
            if self.process.poll() is not None:
                break
            for name, url in list(pending.items()):
                if _answers(url, self.env):
                    if report:
                        report(name, time.monotonic() - self.started)
                    del pending[name]
            time.sleep(0.25)
        if pending:
            raise PlatformFailed(f"not healthy: {', '.join(pending)}\n{self.log_tail()}")
        return time.monotonic() - self.started

    def ctl(self, *args: str) -> str:
        """What the platform's supervisor answers to `args` (`status`, `stop billing-worker`)."""
        command = [sys.executable, "-m", "deploy.supervise", "ctl", *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=30)
        return done.stdout

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def pids(self) -> list[int]:
        return descendants(self.process.pid)

    def stop(self) -> None:
        pids = self.pids()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (left := [p for p in pids if os.path.exists(f"/proc/{p}")]) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.25)
        if left:
            for pid in left:
                _kill(pid)
            raise PlatformFailed(f"processes left running after Ctrl-C: {left}")


def _answers(url: str, env: dict) -> bool:
    try:
        auth = None
        if "healthcheck" in url and env.get("FLOWER_BASIC_AUTH"):
            auth = tuple(env["FLOWER_BASIC_AUTH"].split(":", 1))
        return requests.get(url, timeout=2, auth=auth).status_code == 200
    except requests.RequestException:
        return False


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextmanager
def booted_platform(*, real: bool = False, tree: Path = REPO_ROOT, env: dict | None = None):
    """Start `make run` of `tree` in a scratch var dir; stop it (Ctrl-C) on leaving."""
    # Backends come from `real` (and `env`) alone, never from the caller's environment.
    run_env = {
        **environ_without_backends(),
        "STREAMIFY_ACCESS_LOG": "0",
        **_free_ports(),
        **(env or {}),
    }
    with ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="streamify-boot-"))
        run_env["STREAMIFY_VAR_DIR"] = scratch
        if real:
            # Fresh databases, as a first deployment has them: rows left by an earlier run
            # would point at media files that went with its scratch folder.
            from common.testing.postgres import temporary_databases
            from common.testing.rabbitmq import private_vhost

            run_env["CELERY_BROKER_URL"] = stack.enter_context(private_vhost("streamify-boot"))
            databases = stack.enter_context(temporary_databases(SERVICES, "streamify_boot"))
            run_env.update({f"{s.upper()}_DATABASE_URL": url for s, url in databases.items()})
        log_path = Path(scratch) / "make-run.log"
        with open(log_path, "wb") as log:
            make = subprocess.Popen(
                ["make", "run"], cwd=tree, env=run_env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        platform = BootedPlatform(make, log_path, run_env)
        try:
            yield platform
        finally:
            platform.stop()


def _free_ports() -> dict[str, str]:
    """Every port of the platform on a free one, so a boot never meets another platform."""
    from common.testing.processes import free_port

    names = [f"{s.upper()}_PORT" for s in SERVICES]
    names += ["AUTH_GRPC_PORT", "VIDEO_GRPC_PORT", "FLOWER_PORT"]
    return {name: str(free_port()) for name in names}


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; PSS shares each shared page among its users."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return rss, pss


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except FileNotFoundError:
        return ""


def idle_cpu_percent(pids: list[int], seconds: float) -> float:
    """CPU the processes used over `seconds`, in % of one core."""
    before, started = cpu_seconds(pids), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pids) - before) / (time.monotonic() - started) * 100
