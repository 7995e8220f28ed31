"""`make run` under its supervisor: one process per service serving HTTP with its Celery worker
inside; one killed with SIGKILL comes back on its own, worker included, the gateway's breaker
opens while it is gone and closes once it is back, nothing else stops, and Ctrl-C stops every
worker warm. With STREAMIFY_WORKERS_APART=1 every worker and gRPC server is a process of its
own, as under compose and Kubernetes."""

import os
import signal
import time
from pathlib import Path

import requests

from common.service_registry import SERVICES
from common.testing.processes import descendants, wait_for
from deploy.booted import booted_platform

RESET_SECONDS = 2


def _pids(platform) -> dict[str, int]:
    found = {}
    for line in platform.ctl("status").splitlines():
        name, state, *rest = line.split()
        if state == "RUNNING":
            found[name.split(":", 1)[1]] = int(rest[1].rstrip(","))
    return found


def _workers(platform) -> dict[str, int]:
    """Each Celery worker's service and process id."""
    return {name.split("@")[0]: pid for name, pid in platform.workers().items()}


def _web_worker_pid(server_pid: int) -> int:
    # The supervisor starts granian's main process; the WSGI application runs in its child.
    (child,) = [pid for pid in descendants(server_pid) if Path(f"/proc/{pid}").exists()]
    return child


def test_a_killed_service_comes_back_and_its_breaker_opens_then_closes():
    env = {"STREAMIFY_BREAKER_RESET_SECONDS": str(RESET_SECONDS), "STREAMIFY_LOG_LEVEL": "INFO"}
    with booted_platform(env=env) as platform:
        platform.wait_healthy()
        gateway = platform.url("gateway")
        login = requests.post(
            f"{gateway}/api/auth/login",
            json={"email": "demo@streamify.local", "password": "streamify-demo"},
            timeout=30,
        )
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        balance = f"{gateway}/api/billing/balance"
        assert requests.get(balance, headers=auth, timeout=10).status_code == 200
        before = _pids(platform)
        assert sorted(before) == sorted([*SERVICES, "flower"]), before

        # Every service's Celery worker runs inside the process serving its HTTP API
        workers = _workers(platform)
        assert workers == {s: _web_worker_pid(before[s]) for s in SERVICES}, workers

        # When billing's server is killed outright (its whole process group: server and worker)
        os.killpg(before["billing"], signal.SIGKILL)
        killed_at = time.monotonic()
        answers = []
        while len(answers) < 40 and time.monotonic() - killed_at < 10:
            answers.append(requests.get(balance, headers=auth, timeout=10))
        stats = requests.get(f"{gateway}/api/circuit-breaker/stats", timeout=10).json()

        # Then the gateway answers 503 and its billing breaker opens
        assert {r.status_code for r in answers} == {503}, [r.text for r in answers[:3]]
        assert stats["breakers"]["billing"]["state"] == "OPEN"

        # And the supervisor starts billing again on its own
        wait_for(
            lambda: requests.get(platform.url("billing", "/health/live"), timeout=2).ok,
            timeout=60,
            what="billing serving again",
        )
        back_after = time.monotonic() - killed_at
        print(f"billing serving again {back_after:.1f} s after SIGKILL")

        # And once the breaker's reset time has passed, the next call closes it
        time.sleep(RESET_SECONDS + 0.5)
        again = requests.get(balance, headers=auth, timeout=10)
        closed = requests.get(f"{gateway}/api/circuit-breaker/stats", timeout=10).json()
        assert again.status_code == 200 and again.json()["balance"] == 0
        assert closed["breakers"]["billing"]["state"] == "CLOSED"

        # And billing's worker came back with it, inside the new process
        billing_serves = lambda: _web_worker_pid(_pids(platform)["billing"])  # noqa: E731
        wait_for(
            lambda: _workers(platform).get("billing") == billing_serves(),
            timeout=30,
            what="billing's worker consuming again",
        )

        # And no other process was stopped or restarted
        after = _pids(platform)
        assert after["billing"] != before["billing"]
        assert {n: p for n, p in after.items() if n != "billing"} == {
            n: p for n, p in before.items() if n != "billing"
        }

        # When only analytics' server process is killed, its orphaned worker exits by itself
        # (it would otherwise keep the port) and the supervisor starts analytics again.
        main = after["analytics"]
        worker = int(Path(f"/proc/{main}/task/{main}/children").read_text().split()[0])
        os.kill(main, signal.SIGKILL)
        wait_for(lambda: not Path(f"/proc/{worker}").exists(), timeout=10, what="worker gone")
        wait_for(
            lambda: (
                _pids(platform).get("analytics", main) != main
                and requests.get(platform.url("analytics", "/health/live"), timeout=2).ok
            ),
            timeout=60,
            what="analytics serving again",
        )
        # ... and its worker consuming again: a worker stopped while it is still starting up can
        # take longer than the kill timeout, which is not what the next step is about.
        analytics_serves = lambda: _web_worker_pid(_pids(platform)["analytics"])  # noqa: E731
        wait_for(
            lambda: _workers(platform).get("analytics") == analytics_serves(),
            timeout=30,
            what="analytics' worker consuming again",
        )

        # And Ctrl-C stops every worker warm: each says so, and no process stayed long enough to
        # dump its stacks (common.workers). granian's own "refused to gracefully stop" is no
        # evidence either way: on a busy machine it also prints it for a worker that has already
        # exited, when its watcher thread reaped the process but had not yet recorded it.
        platform.stop()
        log = platform.log_tail(400_000)
        assert "Thread 0x" not in log, _stuck(log)
        warm = [line for line in log.splitlines() if "celery worker stopped warm" in line]
        assert len(warm) == len(SERVICES), warm
        assert {s for s in SERVICES if any(f"[{s}]" in line for line in warm)} == set(SERVICES)
        assert log.count("Granian shutdown completed") == len(SERVICES)


def _grpc_serving(platform, service: str) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    port = platform.env[f"{service.upper()}_GRPC_PORT"]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=2
            )
        except grpc.RpcError:
            return False
    return answer.status == health_pb2.HealthCheckResponse.SERVING


def test_apart_each_worker_and_grpc_server_is_a_process_of_its_own():
    # As compose and Kubernetes run the platform: every role scales on its own.
    with booted_platform(env={"STREAMIFY_WORKERS_APART": "1"}) as platform:
        platform.wait_healthy()
        running = _pids(platform)
        expected = [*SERVICES, *(f"{s}-worker" for s in SERVICES), "auth-grpc", "video-grpc"]
        assert sorted(running) == sorted([*expected, "flower"]), running

        # Each Celery worker is its own process, not a web process
        assert _workers(platform) == {s: running[f"{s}-worker"] for s in SERVICES}
        # And gRPC is answered by its own server: with it stopped, auth's HTTP API still
        # answers and its gRPC port does not; started again, it serves
        for service in ("auth", "video"):
            wait_for(lambda s=service: _grpc_serving(platform, s), timeout=60, what="gRPC up")
        platform.ctl("stop", "auth-grpc")
        assert not _grpc_serving(platform, "auth")
        assert requests.get(platform.url("auth", "/health/live"), timeout=5).ok
        assert _grpc_serving(platform, "video")
        platform.ctl("start", "auth-grpc")
        wait_for(lambda: _grpc_serving(platform, "auth"), timeout=60, what="auth's gRPC back")


def _stuck(log: str) -> str:
    """What held a worker up: the thread stacks it dumped before its server killed it."""
    start = log.find("Thread 0x")
    return log[max(0, start - 500) : start + 8000]
