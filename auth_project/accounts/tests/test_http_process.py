"""The auth web process as `make run` starts it (gunicorn), driven with the seed's curl bodies."""

import os

import pytest
import requests

from common.testing.postgres import temporary_databases
from common.testing.processes import free_port, manage, wait_http_ok, web_process
from common.testing.tokens import user_token


@pytest.fixture(scope="module")
def auth_url(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("auth-web")
    with temporary_databases(["auth"]) as urls:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": os.environ["STREAMIFY_VAR_DIR"],
            "AUTH_DATABASE_URL": urls["auth"],
            "STREAMIFY_ACCESS_LOG": "0",
        }
        manage("auth", "migrate", "--noinput", env=env)
        manage("auth", "setup_broker", env=env)
        port = free_port()
        process = web_process("auth", port, env=env, log_dir=log_dir).start()
        try:
            wait_http_ok(f"http://127.0.0.1:{port}/health", process=process, timeout=60)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.stop()


def test_seed_register_and_login_bodies_work_unchanged(auth_url):
    seed_body = (
        '{"email":"test@example.com","password":"password123","firstName":"Test","lastName":"User"}'
    )
    headers = {"Content-Type": "application/json"}

    registered = requests.post(
        f"{auth_url}/api/auth/register", data=seed_body, headers=headers, timeout=10
    )
    again = requests.post(
        f"{auth_url}/api/auth/register", data=seed_body, headers=headers, timeout=10
    )
    logged_in = requests.post(
        f"{auth_url}/api/auth/login",
        data='{"email":"test@example.com","password":"password123"}',
        headers=headers,
        timeout=10,
    )
    token = logged_in.json()["token"]
    verified = requests.post(
        f"{auth_url}/api/auth/verify", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    assert registered.status_code == 201
    assert registered.json()["user"]["email"] == "test@example.com"
    assert again.status_code == 409
    assert logged_in.status_code == 200 and set(logged_in.json()) == {
        "message",
        "token",
        "refreshToken",
    }
    assert verified.status_code == 200 and verified.json()["id"] == registered.json()["user"]["id"]


def test_huge_body_is_413_json_over_real_http(auth_url):
    response = requests.post(
        f"{auth_url}/api/auth/register",
        data=b'{"email":"' + b"a" * 200_000 + b'"}',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 413
    assert response.json()["error"] == "Request body too large"


def test_health_and_admin_login_page(auth_url):
    health = requests.get(f"{auth_url}/health", timeout=10).json()
    admin = requests.get(f"{auth_url}/admin/login/", timeout=10)

    assert health["service"] == "auth" and health["checks"]["database"]["status"] == "up"
    assert admin.status_code == 200 and "csrfmiddlewaretoken" in admin.text


def test_token_of_a_user_this_database_never_had_is_refused(auth_url):
    response = requests.post(
        f"{auth_url}/api/auth/verify",
        headers={"Authorization": f"Bearer {user_token(987654)}"},
        timeout=10,
    )

    assert response.status_code == 403
