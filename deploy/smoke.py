"""Boot the whole platform with `make run`, wait for every /health to answer 200, walk a new
user's journey through the gateway (`deploy.journey`), then Ctrl-C it.

    python -m deploy.smoke            # embedded: SQLite + filesystem broker, in a scratch var dir
    python -m deploy.smoke --real     # fresh PostgreSQL databases + RabbitMQ (private vhost)

Prints the seconds from `make run` to all healthy, the platform's total RSS and its idle CPU,
and how long the journey took.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests

from common.env import DEFAULT_HTTP_PORTS, SERVICES
from common.paths import REPO_ROOT
from deploy import journey

FLOWER = "http://127.0.0.1:5555/healthcheck"


def urls() -> dict[str, str]:
    found = {s: f"http://127.0.0.1:{DEFAULT_HTTP_PORTS[s]}/health" for s in SERVICES}
    found["flower"] = FLOWER
    return found


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


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


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def cpu_seconds(pids: list[int]) -> float:
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--idle-seconds", type=float, default=20)
    args = parser.parse_args()

    env = dict(os.environ, STREAMIFY_ACCESS_LOG="0")
    scratch = tempfile.TemporaryDirectory(prefix="streamify-smoke-")
    env["STREAMIFY_VAR_DIR"] = scratch.name
    with ExitStack() as backends, scratch:
        if args.real:
            # Fresh databases, as a first deployment has them: rows left by an earlier run
            # would point at media files that went with its scratch folder.
            from common.testing.postgres import temporary_databases
            from common.testing.rabbitmq import private_vhost

            env["CELERY_BROKER_URL"] = backends.enter_context(private_vhost("streamify-smoke"))
            databases = backends.enter_context(temporary_databases(SERVICES, "streamify_smoke"))
            env.update({f"{s.upper()}_DATABASE_URL": url for s, url in databases.items()})
        log = open(os.path.join(scratch.name, "make-run.log"), "wb")  # noqa: SIM115 - outlives this block
        started = time.monotonic()
        make = subprocess.Popen(
            ["make", "run"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        pending = dict(urls())
        pids: list[int] = []
        try:
            while pending and time.monotonic() - started < args.timeout:
                if make.poll() is not None:
                    break
                for name, url in list(pending.items()):
                    if healthy(url):
                        print(f"{name:<10} healthy after {time.monotonic() - started:5.1f}s")
                        del pending[name]
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            if pending:
                log.flush()
                print(Path(log.name).read_text(errors="replace")[-6000:])
                print(f"NOT healthy: {', '.join(pending)}", file=sys.stderr)
                return 1
            print(f"all healthy in {elapsed:.1f}s (from `make run`, including migrate)")
            pids = descendants(make.pid)
            time.sleep(3)
            cpu_before, t0 = cpu_seconds(pids), time.monotonic()
            time.sleep(args.idle_seconds)
            idle = (cpu_seconds(pids) - cpu_before) / (time.monotonic() - t0) * 100
            print(
                f"processes: {len(pids)}  total RSS: {rss_mb(pids):.0f} MB  "
                f"idle CPU: {idle:.1f}% of one core over {args.idle_seconds:.0f}s"
            )
            print("journey through the gateway:")
            walked = time.monotonic()
            try:
                journey.walk(f"http://127.0.0.1:{DEFAULT_HTTP_PORTS['gateway']}")
            except AssertionError as exc:
                log.flush()
                print(Path(log.name).read_text(errors="replace")[-6000:])
                print(f"JOURNEY FAILED: {exc}", file=sys.stderr)
                return 1
            print(f"journey done in {time.monotonic() - walked:.1f}s")
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGINT)
                try:
                    make.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(make.pid, signal.SIGKILL)
            pids = pids or descendants(make.pid)
            deadline = time.monotonic() + 20
            while (leftovers := [p for p in pids if os.path.exists(f"/proc/{p}")]) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.25)
            log.close()
        if leftovers:
            print(f"processes left running after Ctrl-C: {leftovers}", file=sys.stderr)
            return 1
        print("stopped cleanly with Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
