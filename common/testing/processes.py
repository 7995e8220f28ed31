"""Start real service processes for tests, on free ports, and stop exactly what was started."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import requests

from common.paths import REPO_ROOT

BIN = Path(sys.executable).parent


_given_ports: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, and never one this process handed out before: a
    platform's ports are drawn together and bound later, so two draws must not collide."""
    while True:
        with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _given_ports:
            _given_ports.add(port)
            return port


class Process:
    """One child process in its own session, so stop() takes its whole process group."""

    def __init__(self, name: str, argv: list[str], *, env: dict, cwd: Path, log_dir: Path):
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.popen = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole group: the crash case, no clean-up runs."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last_error = exc
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error!r})"
    )


def wait_http_ok(url: str, *, timeout: float = 30, process: Process | None = None) -> None:
    def ok():
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        return requests.get(url, timeout=2).status_code == 200

    try:
        wait_for(ok, timeout=timeout, what=url)
    except TimeoutError as exc:
        tail = process.log_tail() if process else ""
        raise TimeoutError(f"{exc}\n{tail}") from None


def web_process(service: str, port: int, *, env: dict, log_dir: Path) -> Process:
    """The service's HTTP server exactly as `make run` starts it (`deploy.web`)."""
    argv = [sys.executable, "-m", "deploy.web", service, "--port", str(port)]
    return Process(f"{service}-web", argv, env=env, cwd=REPO_ROOT, log_dir=log_dir)


def worker_process(
    service: str, *, env: dict, log_dir: Path, name: str | None = None, concurrency: int = 2
) -> Process:
    project = f"{service}_project"
    argv = [
        str(BIN / "celery"),
        "--workdir", str(REPO_ROOT / project),
        "-A", project, "worker",
        "-n", f"{name or service}-{os.getpid()}@%h",
        "--pool", "threads", "--concurrency", str(concurrency),
        "--without-gossip", "--without-mingle", "-l", "INFO",
    ]  # fmt: skip
    return Process(name or f"{service}-worker", argv, env=env, cwd=REPO_ROOT, log_dir=log_dir)


def manage(service: str, *args: str, env: dict, timeout: float = 120) -> str:
    """Run `manage.py <args>` of `service` to completion; return its output, raise on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT / f"{service}_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} ({service}) failed:\n{result.stderr}")
    return result.stdout


def descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system, all threads) the processes `pids` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            pass
    return total / ticks


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of process `pid` and every descendant."""
    return cpu_seconds([pid, *descendants(pid)])
