"""Figures for the closing note; not part of the suite (run it by name, a few seconds each):

    cd auth_project && ../.venv/bin/pytest -q -s bench/logins_and_tokens.py

Real processes on free ports with their own PostgreSQL database: logins through the server
`make run` uses (`deploy.web`: granian) and through gunicorn (gthread, 1 worker x 8 threads, the
server the login target was first set against), the `run_grpc_server` command for VerifyToken.
The machine is shared, so figures are a floor.
"""

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import grpc
import psycopg2
import pytest
import requests
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.auth.authentication import UserTokenAuthentication
from common.paths import REPO_ROOT
from common.rpc.client import call
from common.rpc.protos import proto_modules
from common.testing.postgres import temporary_databases
from common.testing.processes import (
    BIN,
    Process,
    free_port,
    manage,
    tree_cpu_seconds,
    wait_for,
    wait_http_ok,
    web_process,
)
from common.testing.tokens import user_token

SECONDS = 4.0
LOGIN_SECONDS = 10.0
LOGIN_TARGET = 25  # req/s at 4 clients, Argon2id, this 2-core machine


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("bench")
    with temporary_databases(["auth"]) as urls:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": os.environ["STREAMIFY_VAR_DIR"],
            "AUTH_DATABASE_URL": urls["auth"],
            "STREAMIFY_ACCESS_LOG": "0",
            "STREAMIFY_LOG_LEVEL": "WARNING",
        }
        manage("auth", "migrate", "--noinput", env=env)
        manage("auth", "setup_broker", env=env)
        user_id = int(manage("auth", "ensure_demo_user", env=env).strip())
        http_port, gunicorn_port, grpc_port = free_port(), free_port(), free_port()
        web = web_process("auth", http_port, env=env, log_dir=log_dir).start()
        gunicorn = Process(
            "auth-gunicorn",
            [
                str(BIN / "gunicorn"),
                "--chdir",
                str(REPO_ROOT / "auth_project"),
                "auth_project.wsgi:application",
                "--bind",
                f"127.0.0.1:{gunicorn_port}",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "8",
            ],  # fmt: skip
            env=env,
            cwd=REPO_ROOT,
            log_dir=log_dir,
        ).start()
        server = Process(
            "auth-grpc",
            [
                str(BIN / "python"),
                "auth_project/manage.py",
                "run_grpc_server",
                "--port",
                str(grpc_port),
            ],
            env=env,
            cwd=REPO_ROOT,
            log_dir=log_dir,
        ).start()
        try:
            wait_http_ok(f"http://127.0.0.1:{http_port}/health", process=web, timeout=60)
            wait_http_ok(f"http://127.0.0.1:{gunicorn_port}/health", process=gunicorn, timeout=60)
            channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
            health = health_pb2_grpc.HealthStub(channel)
            wait_for(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=1), timeout=60)
            yield SimpleNamespace(
                servers={
                    "deploy.web (granian, 1 worker x 8 threads)": (
                        f"http://127.0.0.1:{http_port}",
                        web.pid,
                    ),
                    "gunicorn (gthread, 1 worker x 8 threads)": (
                        f"http://127.0.0.1:{gunicorn_port}",
                        gunicorn.pid,
                    ),
                },
                channel=channel,
                user_id=user_id,
                database=urls["auth"],
            )
            channel.close()
        finally:
            web.stop()
            gunicorn.stop()
            server.stop()


def test_login_requests_per_second(platform):
    body = {"email": "demo@streamify.local", "password": "streamify-demo"}
    for server, (url, pid) in platform.servers.items():
        assert requests.post(f"{url}/api/auth/login", json=body, timeout=30).status_code == 200
        cpu_before = tree_cpu_seconds(pid)
        rate, total, elapsed = _logins_per_second(url, body, clients=4)
        cpu_ms = (tree_cpu_seconds(pid) - cpu_before) / total * 1000
        with psycopg2.connect(platform.database) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT password FROM accounts_user WHERE email = %s", (body["email"],))
            stored = cursor.fetchone()[0]
        # What the server stored (and so verifies at every login), not what this process assumes.
        shown = " ".join(stored.split("$")[:-2])
        cores = os.cpu_count()
        # The machine is shared: the server's own CPU per login says what the cores could do
        # if they were the server's alone, whatever else ran beside it.
        print(
            f"\nlogin via {server}: {rate:.1f} req/s ({total} logins, 4 clients, {elapsed:.1f}s;"
            f" target {LOGIN_TARGET}; load {os.getloadavg()[0]:.1f}); server CPU {cpu_ms:.1f} ms"
            f" a login, so at most {cores * 1000 / cpu_ms:.0f} req/s on {cores} idle cores;"
            f" stored hash {shown}"
        )


def _logins_per_second(url: str, body: dict, *, clients: int) -> tuple[float, int, float]:
    def login_until(deadline):
        done, local = 0, requests.Session()
        while time.monotonic() < deadline:
            assert local.post(f"{url}/api/auth/login", json=body, timeout=30).ok
            done += 1
        return done

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(login_until, [started + LOGIN_SECONDS] * clients))
    elapsed = time.monotonic() - started
    return total / elapsed, total, elapsed


def test_local_token_verifications_per_second():
    request = SimpleNamespace(META={"HTTP_AUTHORIZATION": f"Bearer {user_token(1)}".encode()})
    authentication = UserTokenAuthentication()
    count, deadline = 0, time.monotonic() + SECONDS
    started = time.monotonic()
    while time.monotonic() < deadline:
        for _ in range(100):
            assert authentication.authenticate(request) is not None
        count += 100
    elapsed = time.monotonic() - started
    print(f"\nlocal verification: {count / elapsed:,.0f} tokens/s (one thread, RS256 2048-bit)")


def test_grpc_verify_token_latency(platform):
    pb2, pb2_grpc = proto_modules("auth")
    stub = pb2_grpc.AuthServiceStub(platform.channel)
    request = pb2.VerifyTokenRequest(token=user_token(platform.user_id))
    for _ in range(50):
        assert stub.VerifyToken(request, timeout=2).valid
    samples = []
    for _ in range(1000):
        started = time.perf_counter()
        reply = call(stub.VerifyToken, request)
        samples.append((time.perf_counter() - started) * 1000)
        assert reply.valid
    samples.sort()
    print(
        f"\ngRPC VerifyToken over 1000 sequential calls: p50 {statistics.median(samples):.2f} ms,"
        f" p99 {samples[989]:.2f} ms, max {samples[-1]:.2f} ms (includes the user lookup)"
    )
