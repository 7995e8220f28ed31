"""`manage.py run_grpc_server` as a real process: own database, free port, clean SIGTERM."""

import os
import signal

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from accounts.tests.grpc_helpers import call_by_reflection, reflected_services
from common.paths import REPO_ROOT
from common.testing.postgres import temporary_databases
from common.testing.processes import BIN, Process, free_port, manage, wait_for
from common.testing.tokens import user_token


@pytest.fixture
def grpc_process(tmp_path):
    with temporary_databases(["auth"]) as urls:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "STREAMIFY_DEV": "1",
            # Same var dir as this test run: same dev key pair, so test tokens verify.
            "STREAMIFY_VAR_DIR": os.environ["STREAMIFY_VAR_DIR"],
            "AUTH_DATABASE_URL": urls["auth"],
        }
        manage("auth", "migrate", "--noinput", env=env)
        port = free_port()
        process = Process(
            "auth-grpc",
            [str(BIN / "python"), "auth_project/manage.py", "run_grpc_server", "--port", str(port)],
            env=env,
            cwd=REPO_ROOT,
            log_dir=tmp_path,
        ).start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            health = health_pb2_grpc.HealthStub(channel)
            wait_for(
                lambda: (
                    health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    == health_pb2.HealthCheckResponse.SERVING
                ),
                timeout=60,
                what=f"auth gRPC on {port}\n{process.log_tail()}",
            )
            yield process, channel, env
        finally:
            channel.close()
            process.stop()


def test_served_process_answers_by_reflection_and_stops_cleanly_on_sigterm(grpc_process):
    process, channel, env = grpc_process
    demo_id = int(manage("auth", "ensure_demo_user", env=env).strip())

    services = reflected_services(channel)
    health = call_by_reflection(channel, "auth.AuthService/HealthCheck")
    verified = call_by_reflection(
        channel, "auth.AuthService/VerifyToken", {"token": user_token(demo_id)}
    )
    stranger = call_by_reflection(
        channel, "auth.AuthService/VerifyToken", {"token": user_token(demo_id + 1000)}
    )

    assert "auth.AuthService" in services
    assert health.status == "ok"
    assert (verified.valid, verified.user_id, verified.email) == (
        True,
        demo_id,
        "demo@streamify.local",
    )
    assert stranger.valid is False

    process.signal(signal.SIGTERM)
    assert process.popen.wait(timeout=20) == 0
    assert "gRPC server stopped" in process.log_tail()
