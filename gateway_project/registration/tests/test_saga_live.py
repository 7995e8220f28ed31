"""The registration saga across real processes: gateway web + worker, auth web (which takes the
password) and auth/billing/analytics workers, one private broker, one PostgreSQL database per
service."""

import runpy
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import requests
from conftest import CLOSED, GatewayPlatform
from kombu import Connection, Queue

from common.broker import connect
from common.paths import REPO_ROOT
from common.service_registry import UPSTREAMS
from common.testing import backends
from common.testing.processes import (
    BIN,
    Process,
    free_port,
    manage,
    wait_for,
)
from common.testing.rabbitmq import private_vhost

STEP_SERVICES = ("auth", "billing", "analytics")


class SagaPlatform(GatewayPlatform):
    def restart_worker(self, service: str, **extra_env):
        self.processes.pop(f"{service}-worker").stop()
        return self.start_worker(service, **extra_env)

    def leftovers(self, email: str, user_id: int | None) -> dict:
        users = self.query("auth", "SELECT id FROM accounts_user WHERE email = %s", (email,))
        ids = {user_id, *(u[0] for u in users)} - {None}
        wallets = self.query(
            "billing", "SELECT user_id FROM wallets_wallet WHERE user_id = ANY(%s)", (list(ids),)
        )
        profiles = self.query(
            "analytics",
            "SELECT user_id FROM insights_userstats WHERE profile_active AND user_id = ANY(%s)",
            (list(ids),),
        )
        return {"users": users, "wallets": wallets, "profiles": profiles}


@pytest.fixture(scope="module")
def saga_platform():
    root = Path(tempfile.mkdtemp(prefix="gw-saga-"))
    with ExitStack() as stack:
        platform = SagaPlatform(stack, root)
        if backends.reachable(backends.amqp_url()):
            platform.extra_env["CELERY_BROKER_URL"] = stack.enter_context(private_vhost("gw-saga"))
        platform.extra_env.update(
            {
                "STREAMIFY_OUTBOX_SWEEP_SECONDS": "0.5",
                "SAGA_STEP_TIMEOUT_SECONDS": "3",
                "SAGA_RECOVERY_INTERVAL_SECONDS": "1",
                "SAGA_WAIT_SECONDS": "8",
                "GATEWAY_RATE_AUTH": "100000/m",
                "AUTH_GRPC_TARGET": "127.0.0.1:9",
                "VIDEO_GRPC_TARGET": "127.0.0.1:9",
            }
        )
        platform.urls["auth"] = f"http://127.0.0.1:{free_port()}"
        for service in UPSTREAMS:
            platform.urls.setdefault(service, CLOSED)
        for service in ("gateway", *STEP_SERVICES):
            platform.database(service)
        platform.prepare("gateway", *STEP_SERVICES)
        platform.start_web("auth")
        for service in ("gateway", *STEP_SERVICES):
            platform.start_worker(service)
        platform.start_web("gateway")
        yield platform
    shutil.rmtree(root, ignore_errors=True)


def _register(platform, email: str, **extra) -> requests.Response:
    body = {"email": email, "password": "password123", "firstName": "Saga", "lastName": "Test"}
    return requests.post(
        f"{platform.urls['gateway']}/api/saga/register", json={**body, **extra}, timeout=30
    )


def _peek(platform, queue: str) -> str:
    """The raw body of the next message on `queue`, left for the broker to redeliver."""
    broker = platform.env().get("CELERY_BROKER_URL", "filesystem://")
    if broker.startswith("filesystem"):
        connection = connect(platform.var / "broker")
    else:
        connection = Connection(broker)
    with connection:
        bound = Queue(queue, channel=connection.default_channel)
        message = wait_for(lambda: bound.get(no_ack=False), what=queue)
        body = message.body.decode() if isinstance(message.body, bytes) else str(message.body)
        message.requeue()
    return body


def _credential_ref(platform, saga_id: str) -> str:
    rows = platform.query(
        "gateway", "SELECT credential_ref FROM registration_saga WHERE id = %s", (saga_id,)
    )
    return str(rows[0][0])


def _finished(platform, saga_id: str) -> dict:
    def done():
        doc = requests.get(f"{platform.urls['gateway']}/api/saga/{saga_id}", timeout=5).json()
        return doc if doc["status"] in {"completed", "failed", "stuck"} else None

    return wait_for(done, timeout=60, interval=0.2, what=f"saga {saga_id} to finish")


def test_saga_success_creates_user_wallet_and_profile(saga_platform):
    email = f"Saga-{uuid.uuid4().hex[:8]}@Example.com"

    response = _register(saga_platform, email)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "User registered successfully with wallet and analytics profile"
    assert body["sagaState"] == {
        "userCreated": True,
        "walletCreated": True,
        "analyticsCreated": True,
        "userId": body["user"]["id"],
        "errors": [],
    }
    assert body["user"]["email"] == email.lower()
    assert body["user"]["firstName"] == "Saga" and isinstance(body["user"]["id"], int)
    assert response.headers["Location"] == f"/api/saga/{body['sagaId']}"
    left = wait_for(
        lambda: (
            (found := saga_platform.leftovers(email.lower(), body["user"]["id"]))["profiles"]
            and found
        ),
        timeout=20,
        what="profile projection",
    )
    assert left["users"] == [(body["user"]["id"],)]
    assert left["wallets"] == [(body["user"]["id"],)]
    assert [s["status"] for s in body["steps"]] == ["succeeded"] * 3


def test_duplicate_email_is_409_and_changes_nothing(saga_platform):
    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    first = _register(saga_platform, email)

    second = _register(saga_platform, email)

    assert first.status_code == 201
    assert second.status_code == 409, second.text
    body = second.json()
    assert body["success"] is False and body["error"] == "Email already registered"
    state = body["sagaState"]
    assert (state["userCreated"], state["walletCreated"], state["analyticsCreated"]) == (
        False,
        False,
        False,
    )
    assert state["userId"] is None and [e["step"] for e in state["errors"]] == ["create_user"]
    left = saga_platform.leftovers(email, first.json()["user"]["id"])
    assert left["users"] == [(first.json()["user"]["id"],)]  # the first user is untouched


def test_invalid_registration_is_400_and_starts_nothing(saga_platform):
    response = _register(saga_platform, "not-an-email", password="short")

    assert response.status_code == 400
    fields = {d["field"] for d in response.json()["details"]}
    assert fields == {"email", "password"}
    assert saga_platform.query(
        "gateway", "SELECT count(*) FROM registration_saga WHERE email = %s", ("not-an-email",)
    ) == [(0,)]


@pytest.mark.parametrize(
    "failing",
    ["auth.saga.create_user", "billing.saga.create_wallet", "analytics.saga.create_profile"],
)
def test_failure_at_each_step_is_compensated_and_leaves_nothing(saga_platform, failing):
    service = failing.split(".")[0]
    saga_platform.restart_worker(service, STREAMIFY_SAGA_FAIL_STEPS=failing)
    email = f"fail-{uuid.uuid4().hex[:8]}@example.com"
    try:
        response = _register(saga_platform, email)
        doc = (
            response.json()
            if response.status_code != 202
            else _finished(saga_platform, response.json()["sagaId"])
        )
    finally:
        saga_platform.restart_worker(service)

    assert doc["status"] == "failed", doc
    assert doc["success"] is False
    state = doc["sagaState"]
    assert (state["userCreated"], state["walletCreated"], state["analyticsCreated"]) == (
        False,
        False,
        False,
    )
    assert [e["step"] for e in state["errors"]] == [failing.split(".")[-1]]
    assert "failed on purpose" in state["errors"][0]["error"]
    assert failing.split(".")[-1] in doc["error"] and "failed on purpose" in doc["error"]
    statuses = {s["name"]: s["status"] for s in doc["steps"]}
    assert statuses[failing.split(".")[-1]] == "failed"
    # user.registered and user.deleted may still be travelling: wait until billing and
    # analytics have applied every event auth published about this user, then look.
    wait_for(
        lambda: _applied_by_consumers(saga_platform, email),
        timeout=30,
        what="auth's events applied by billing and analytics",
    )
    assert saga_platform.leftovers(email, None) == {"users": [], "wallets": [], "profiles": []}


def _applied_by_consumers(platform, email: str) -> bool:
    published = platform.query(
        "auth",
        "SELECT id, type FROM events_outboxevent WHERE envelope->'data'->>'email' = %s",
        (email,),
    )
    applied = "SELECT count(*) FROM events_inboxevent WHERE event_id = ANY(%s::uuid[])"
    for service in ("billing", "analytics"):
        handlers = runpy.run_path(
            str(REPO_ROOT / f"{service}_project" / f"{service}_project" / "event_handlers.py")
        )["HANDLERS"]
        ids = [str(event_id) for event_id, type in published if type in handlers]
        if platform.query(service, applied, (ids,))[0][0] != len(ids):
            return False
    return True


def test_gateway_worker_killed_mid_saga_then_restarted_completes_it(saga_platform):
    saga_platform.processes["gateway-worker"].kill()
    email = f"crash-{uuid.uuid4().hex[:8]}@example.com"
    try:
        response = _register(saga_platform, email)
    finally:
        saga_platform.processes.pop("gateway-worker")
        saga_platform.start_worker("gateway")

    assert response.status_code == 202
    assert response.headers["Location"] == f"/api/saga/{response.json()['sagaId']}"
    doc = _finished(saga_platform, response.json()["sagaId"])
    assert doc["status"] == "completed"
    assert doc["sagaState"] == {
        "userCreated": True,
        "walletCreated": True,
        "analyticsCreated": True,
        "userId": doc["user"]["id"],
        "errors": [],
    }
    assert len(saga_platform.leftovers(email, None)["users"]) == 1


def test_lost_step_message_is_resent_by_the_recovery_command(saga_platform):
    saga_platform.processes.pop("auth-worker").stop()
    saga_platform.restart_worker("gateway", SAGA_STEP_TIMEOUT_SECONDS="600")  # no periodic resend
    email = f"lost-{uuid.uuid4().hex[:8]}@example.com"
    password = f"Plain-{uuid.uuid4().hex}"
    try:
        response = _register(saga_platform, email, password=password)
        queued = _peek(saga_platform, "auth.commands")
        # The broker loses auth's command (as a crashed broker without persistence would).
        purge = [str(BIN / "celery"), "-A", "auth_project", "purge", "-f", "-Q", "auth.commands"]
        cwd = REPO_ROOT / "auth_project"
        subprocess.run(purge, env=saga_platform.env(), cwd=cwd, check=True, timeout=60)
    finally:
        saga_platform.start_worker("auth")
    stuck = requests.get(
        f"{saga_platform.urls['gateway']}/api/saga/{response.json()['sagaId']}", timeout=5
    )

    output = manage("gateway", "recover_sagas", "--stale-after", "0", env=saga_platform.env())

    saga_platform.restart_worker("gateway")
    assert response.status_code == 202
    # What travels to auth is auth's reference to the password, never the password or a hash.
    ref = _credential_ref(saga_platform, response.json()["sagaId"])
    assert f'"credential_ref": "{ref}"' in queued
    assert password not in queued and "password" not in queued.lower()
    assert stuck.json()["status"] == "running"
    assert output.strip() == "resent=1, gaveUp=0, stuck=0"
    doc = _finished(saga_platform, response.json()["sagaId"])
    assert doc["status"] == "completed"
    step = doc["steps"][0]
    assert {k: step[k] for k in ("name", "status", "attempts", "error")} == {
        "name": "create_user",
        "status": "succeeded",
        "attempts": 2,
        "error": None,
    }
    assert step["sentAt"] <= step["finishedAt"]
    assert len(saga_platform.leftovers(email, None)["users"]) == 1


def test_auth_unable_to_take_the_password_is_503_and_starts_nothing(saga_platform):
    email = f"noauth-{uuid.uuid4().hex[:8]}@example.com"
    saga_platform.stop_process("auth-web")
    try:
        response = _register(saga_platform, email)
    finally:
        saga_platform.restart("auth-web", f"{saga_platform.urls['auth']}/health")

    assert response.status_code == 503, response.text
    assert response.json()["service"] == "auth"
    assert int(response.headers["Retry-After"]) >= 0
    assert saga_platform.query(
        "gateway", "SELECT count(*) FROM registration_saga WHERE email = %s", (email,)
    ) == [(0,)]
    assert _register(saga_platform, email).status_code == 201  # and the next try goes through


def _rabbitmq(platform) -> tuple[str, str]:
    """The platform's RabbitMQ URL and vhost: these tests read what the broker itself saw."""
    url = platform.extra_env.get("CELERY_BROKER_URL")
    if not url:
        pytest.skip("needs RabbitMQ (CI sets STREAMIFY_REQUIRE_REAL_BACKENDS=1)")
    return url, unquote(urlparse(url).path.removeprefix("/"))


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def _secrets(platform, email: str, password: str) -> list[str]:
    """What must never be seen outside auth: the password, and the hash auth stored (whole,
    and its salt and digest on their own)."""
    rows = platform.query("auth", "SELECT password FROM accounts_user WHERE email = %s", (email,))
    stored = rows[0][0]
    assert stored.startswith("argon2$argon2id$"), stored
    salt, digest = stored.split("$")[-2:]
    return [password, stored, salt, digest, "argon2", "pbkdf2", "password"]


def _register_and_finish(platform, email: str, password: str) -> str:
    response = _register(platform, email, password=password)
    assert response.status_code in {201, 202}, response.text
    saga_id = response.json()["sagaId"]
    doc = _finished(platform, saga_id)
    assert doc["status"] == "completed", doc
    return saga_id


def test_no_message_on_the_broker_carries_the_password_or_its_hash(saga_platform):
    url, vhost = _rabbitmq(saga_platform)
    email = f"wire-{uuid.uuid4().hex[:8]}@example.com"
    password = f"Wire-{uuid.uuid4().hex[:16]}"
    spy = f"firehose-{uuid.uuid4().hex[:8]}"
    # RabbitMQ's firehose copies every message published in the vhost, on any exchange (the
    # default one too), body and headers, to amq.rabbitmq.trace. Messages are grouped by where
    # they went: the exchange, or for the default exchange (Celery's commands) the queue.
    expected = {
        "auth.commands",
        "billing.commands",
        "analytics.commands",
        "gateway",
        "celeryev",
        "streamify.events",
    }
    seen: dict[str, list[str]] = {}
    with Connection(url) as connection:
        channel = connection.channel()
        channel.queue_declare(queue=spy, auto_delete=False)
        channel.queue_bind(queue=spy, exchange="amq.rabbitmq.trace", routing_key="publish.#")
        _rabbitmqctl("trace_on", "-p", vhost)
        try:
            saga_id = _register_and_finish(saga_platform, email, password)

            # Drain until every expected destination has shown up and the copy runs dry.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                message = channel.basic_get(queue=spy, no_ack=True)
                if message is None:
                    if expected <= set(seen):
                        break
                    time.sleep(0.1)
                    continue
                trace = message.properties["application_headers"]
                where = trace["exchange_name"] or trace["routing_keys"][0]
                body = message.body.decode("utf-8", "replace")
                seen.setdefault(where, []).append(f"{body} {message.properties!r}")
        finally:
            _rabbitmqctl("trace_off", "-p", vhost)
            channel.queue_delete(queue=spy)

    assert expected <= set(seen), sorted(seen)
    ref = _credential_ref(saga_platform, saga_id)
    create_user = [m for m in seen["auth.commands"] if "auth.saga.create_user" in m and ref in m]
    assert create_user, seen["auth.commands"]  # the copy does hold the step and its reference
    secrets = _secrets(saga_platform, email, password)
    leaks = [
        (where, secret)
        for where, messages in seen.items()
        for message in messages
        for secret in secrets
        if secret.lower() in message.lower()
    ]
    assert leaks == []


def test_flower_asks_for_credentials_and_its_task_list_shows_no_secret(saga_platform):
    _rabbitmq(saga_platform)
    port = free_port()
    flower_url = f"http://127.0.0.1:{port}"
    argv = [
        str(BIN / "celery"), "--workdir", str(REPO_ROOT / "gateway_project"),
        "-A", "gateway_project", "flower",
        "--address=127.0.0.1", f"--port={port}", "--enable_events=False",
    ]  # fmt: skip
    credentials = ("operator", f"Flower-{uuid.uuid4().hex[:12]}")
    env = saga_platform.env(FLOWER_BASIC_AUTH=":".join(credentials))
    flower = Process("flower", argv, env=env, cwd=REPO_ROOT, log_dir=saga_platform.logs)
    saga_platform.start(flower, f"{flower_url}/healthcheck")
    try:
        # Flower lists tasks from the workers' events: wait until it hears the auth worker.
        def hears_auth_worker() -> bool:
            workers = requests.get(f"{flower_url}/workers?json=1", auth=credentials, timeout=5)
            return any(w["hostname"].startswith("auth-") for w in workers.json()["data"])

        wait_for(hears_auth_worker, timeout=30, what="Flower to hear the workers")
        email = f"flower-{uuid.uuid4().hex[:8]}@example.com"
        password = f"Flower-{uuid.uuid4().hex[:16]}"
        saga_id = _register_and_finish(saga_platform, email, password)
        ref = _credential_ref(saga_platform, saga_id)

        def create_user_listed():
            tasks = requests.get(f"{flower_url}/api/tasks", auth=credentials, timeout=5)
            listed = [
                t
                for t in tasks.json().values()
                if t["name"] == "auth.saga.create_user" and saga_id in (t["kwargs"] or "")
            ]
            return listed and (tasks.text, listed[0])

        tasks_text, create_user = wait_for(create_user_listed, timeout=30, what="task list")
        anonymous = {
            path: requests.get(f"{flower_url}{path}", timeout=5).status_code
            for path in ("/", "/tasks", "/api/tasks", f"/task/{create_user['uuid']}")
        }
        wrong = requests.get(f"{flower_url}/api/tasks", auth=("operator", "guess"), timeout=5)
    finally:
        saga_platform.processes.pop("flower").stop()

    assert anonymous == {path: 401 for path in anonymous}
    assert wrong.status_code == 401
    assert ref in create_user["kwargs"] and email in create_user["kwargs"]
    assert create_user["state"] == "SUCCESS"
    secrets = _secrets(saga_platform, email, password)
    assert [s for s in secrets if s.lower() in tasks_text.lower()] == []
