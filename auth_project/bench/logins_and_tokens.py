"""Figures for the closing note; not part of the suite (run it by name, a few seconds each):

    cd auth_project && ../.venv/bin/pytest -q -s bench/logins_and_tokens.py

Real processes on free ports with their own PostgreSQL database: gunicorn for logins, the
`run_grpc_server` command for VerifyToken. The machine is shared, so figures are a floor.
"""

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import grpc
import pytest
import requests
from django.contrib.auth.hashers import get_hasher
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common import grpc as streamify_grpc
from common.auth.authentication import UserTokenAuthentication
from common.paths import REPO_ROOT
from common.testing.postgres import temporary_databases
from common.testing.processes import (
    BIN,
    Process,
    free_port,
    manage,
    wait_for,
    wait_http_ok,
    web_process,
)
from common.testing.tokens import user_token

SECONDS = 4.0


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
        http_port, grpc_port = free_port(), free_port()
        web = web_process("auth", http_port, env=env, log_dir=log_dir).start()
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
            channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
            health = health_pb2_grpc.HealthStub(channel)
            wait_for(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=1), timeout=60)
            yield SimpleNamespace(
                http=f"http://127.0.0.1:{http_port}", channel=channel, user_id=user_id
            )
            channel.close()
        finally:
            web.stop()
            server.stop()


def test_login_requests_per_second(platform):
    hasher = get_hasher()
    body = {"email": "demo@streamify.local", "password": "streamify-demo"}
    session = requests.Session()
    assert session.post(f"{platform.http}/api/auth/login", json=body, timeout=30).status_code == 200

    def login_until(deadline):
        done, local = 0, requests.Session()
        while time.monotonic() < deadline:
            assert local.post(f"{platform.http}/api/auth/login", json=body, timeout=30).ok
            done += 1
        return done

    clients = 4
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(login_until, [started + SECONDS] * clients))
    elapsed = time.monotonic() - started
    print(
        f"\nlogin: {total / elapsed:.1f} req/s ({total} logins, {clients} clients, {elapsed:.1f}s;"
        f" gunicorn 1 worker x 8 threads; hasher {hasher.algorithm}"
        f" iterations={hasher.iterations}; {os.cpu_count()} shared cores)"
    )


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
    pb2, pb2_grpc = streamify_grpc.proto_modules("auth")
    stub = pb2_grpc.AuthServiceStub(platform.channel)
    request = pb2.VerifyTokenRequest(token=user_token(platform.user_id))
    for _ in range(50):
        assert stub.VerifyToken(request, timeout=2).valid
    samples = []
    for _ in range(1000):
        started = time.perf_counter()
        reply = streamify_grpc.call(stub.VerifyToken, request)
        samples.append((time.perf_counter() - started) * 1000)
        assert reply.valid
    samples.sort()
    print(
        f"\ngRPC VerifyToken over 1000 sequential calls: p50 {statistics.median(samples):.2f} ms,"
        f" p99 {samples[989]:.2f} ms, max {samples[-1]:.2f} ms (includes the user lookup)"
    )
