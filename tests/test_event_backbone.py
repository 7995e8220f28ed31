"""The event backbone, proven across real processes: auth publishes, billing's worker applies.

`user.deleted` (auth) -> billing closes the user's wallet, which never held money. Each
mechanism of SPEC "Events" has a test here that fails if the mechanism is removed.
"""

import json
import subprocess
import sys
import time
import uuid

import pytest
import requests

from common.paths import REPO_ROOT
from common.testing.locks import writes_held
from common.testing.processes import wait_for
from common.testing.tokens import service_header, service_key_env
from tests.conftest import BACKENDS
from tests.support.tcp_proxy import TcpProxy

WALLETS = "SELECT count(*) FROM wallets_wallet WHERE user_id = %s"
INBOX = "SELECT count(*) FROM events_inboxevent WHERE event_id = %s"


def register(platform, email: str | None = None) -> dict:
    email = email or f"u{uuid.uuid4().hex[:12]}@example.com"
    response = platform.post(
        "auth",
        "/api/auth/register",
        {"email": email, "password": "password123", "firstName": "Test", "lastName": "User"},
    )
    assert response.status_code == 201, response.text
    return response.json()["user"]


def open_wallet(platform, user_id: int) -> None:
    """The registration saga's wallet step, through billing's own internal route."""
    response = requests.post(
        platform.url("billing", "/api/billing/account/create"),
        json={"userId": user_id},
        headers=service_header("gateway", audience="billing", scopes=["billing.accounts"]),
        timeout=30,
    )
    assert response.status_code == 201, response.text


def member(platform) -> dict:
    """A registered user with a wallet, as the registration saga leaves them."""
    user = register(platform)
    open_wallet(platform, user["id"])
    assert wallets_of(platform, user["id"]) == 1
    return user


def delete_user(platform, user_id: int) -> None:
    """Auth removes the account and commits `user.deleted` with it."""
    response = requests.delete(
        platform.url("auth", f"/api/auth/users/{user_id}"),
        headers=service_header("gateway", audience="auth", scopes=["users:delete"]),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] is True


def outbox_event_id(platform, user_id: int) -> str:
    rows = platform.query(
        "auth", "SELECT id, envelope FROM events_outboxevent WHERE type = 'user.deleted'"
    )
    for event_id, envelope in rows:
        envelope = envelope if isinstance(envelope, dict) else json.loads(envelope)
        if envelope["data"]["userId"] == user_id:
            return str(event_id).replace("-", "")
    raise AssertionError(f"no user.deleted in auth's outbox for user {user_id}")


def inbox_count(platform, event_id: str) -> int:
    # SQLite stores UUIDs as 32 hex chars, PostgreSQL as uuid; compare in each one's form.
    key = event_id if platform.embedded else str(uuid.UUID(event_id))
    return platform.scalar("billing", INBOX, (key,))


def billing_log(platform) -> str:
    return "\n".join(
        p.log_tail(2000) for name, p in platform.processes.items() if name.startswith("billing")
    )


def wallets_of(platform, user_id: int) -> int:
    return platform.scalar("billing", WALLETS, (user_id,))


def boot(make_platform, kind: str, **billing_env):
    platform = make_platform(kind, ["auth", "billing"])
    # The test speaks as the gateway to the internal routes, with keys the processes trust.
    platform.extra_env.update(service_key_env())
    platform.start_web("auth")
    platform.start_web("billing")
    platform.start_worker("auth")
    platform.start_worker("billing", **billing_env)
    return platform


@pytest.mark.parametrize("kind", BACKENDS)
def test_event_committed_in_auth_is_applied_exactly_once_by_billing(make_platform, kind):
    platform = boot(make_platform, kind)
    user = member(platform)

    delete_user(platform, user["id"])

    wait_for(lambda: wallets_of(platform, user["id"]) == 0, timeout=30, what="wallet closed")
    event_id = outbox_event_id(platform, user["id"])
    assert inbox_count(platform, event_id) == 1
    published = platform.query(
        "auth", "SELECT type FROM events_outboxevent WHERE published_at IS NOT NULL ORDER BY type"
    )
    assert published == [("user.deleted",), ("user.registered",)]
    # Redeliver the very same event, as a broker would after a lost ack: billing's worker takes
    # it, finds its id in the inbox and applies nothing.
    republish_outbox(platform)
    wait_for(
        lambda: f"event {uuid.UUID(event_id)} already applied" in billing_log(platform),
        timeout=30,
        what="the redelivery to be taken and ignored",
    )
    assert inbox_count(platform, event_id) == 1
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 1


def republish_outbox(platform) -> None:
    """Mark every outbox row pending again and relay it: a forced duplicate delivery."""
    run_in_service(
        platform,
        "auth",
        "from common.events.models import OutboxEvent; "
        "from common.events.relay import relay_outbox; "
        "OutboxEvent.objects.update(published_at=None); print(relay_outbox())",
    )


def run_in_service(platform, service: str, code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO_ROOT / f"{service}_project",
        env={**platform.env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("kind", BACKENDS)
def test_rolled_back_transaction_publishes_nothing(make_platform, kind):
    platform = boot(make_platform, kind)
    open_wallet(platform, 424242)

    output = run_in_service(
        platform,
        "auth",
        "from django.db import transaction\n"
        "from common.events import publish\n"
        "try:\n"
        "    with transaction.atomic():\n"
        "        publish('user.deleted', {'userId': 424242, 'email': 'x@example.com'})\n"
        "        raise RuntimeError('rolled back')\n"
        "except RuntimeError:\n"
        "    print('rolled back')\n",
    )

    assert "rolled back" in output
    assert platform.scalar("auth", "SELECT count(*) FROM events_outboxevent") == 0
    # A committed event sent afterwards arrives, so the rolled-back one had its chance too.
    user = member(platform)
    delete_user(platform, user["id"])
    wait_for(lambda: wallets_of(platform, user["id"]) == 0, timeout=30, what="wallet closed")
    assert wallets_of(platform, 424242) == 1
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 1


def test_broker_down_at_commit_the_event_waits_in_the_outbox(make_platform):
    platform = make_platform("real", ["auth", "billing"])
    real_broker = platform.broker_url
    proxy = TcpProxy("127.0.0.1", 5672).start()
    platform.broker_url = real_broker.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    platform.extra_env.update(service_key_env())
    try:
        platform.start_web("auth")
        platform.start_web("billing")
        platform.start_worker("auth")
        platform.start_worker("billing", CELERY_BROKER_URL=real_broker)

        def pending():
            return platform.query(
                "auth",
                "SELECT attempts, last_error FROM events_outboxevent WHERE published_at IS NULL",
            )

        user = member(platform)
        wait_for(lambda: not pending(), timeout=30, what="user.registered relayed")
        proxy.stop()

        delete_user(platform, user["id"])

        wait_for(lambda: pending() and pending()[0][0] >= 1, timeout=30, what="a failed relay")
        assert len(pending()) == 1, pending()
        assert wallets_of(platform, user["id"]) == 1

        proxy.start()

        wait_for(lambda: wallets_of(platform, user["id"]) == 0, timeout=60, what="wallet closed")
        event_id = outbox_event_id(platform, user["id"])
        assert inbox_count(platform, event_id) == 1
        assert (
            platform.scalar(
                "auth", "SELECT count(*) FROM events_outboxevent WHERE published_at IS NULL"
            )
            == 0
        )
    finally:
        proxy.stop()


def handler_waiting(platform) -> bool:
    """Billing's worker has taken the event and its handler waits for the database."""
    if platform.embedded:
        # The embedded broker keeps a taken message under unacked/<owner>/ until its ack.
        claimed = list((platform.var / "broker" / "unacked").glob("*/*.billing.events.msg"))
        return len(claimed) == 1
    database = platform.database_urls["billing"].rsplit("/", 1)[1]
    return (
        platform.scalar(
            "billing",
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        )
        > 0
    )


@pytest.mark.parametrize("kind", BACKENDS)
def test_worker_killed_mid_handler_the_event_is_redelivered_and_applied_once(make_platform, kind):
    platform = boot(make_platform, kind)
    worker = platform.processes["billing-worker"]
    user = member(platform)

    billing_db = (
        platform.var / "db" / "billing.sqlite3"
        if platform.embedded
        else platform.database_urls["billing"]
    )
    with writes_held(billing_db, table="wallets_wallet"):
        delete_user(platform, user["id"])
        wait_for(lambda: handler_waiting(platform), timeout=30, what="billing handler blocked")
        time.sleep(0.5)
        worker.kill()

    assert wallets_of(platform, user["id"]) == 1
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 0

    platform.start_worker("billing", name="billing-worker-2")

    wait_for(lambda: wallets_of(platform, user["id"]) == 0, timeout=60, what="wallet closed")
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 1


@pytest.mark.parametrize("kind", BACKENDS)
def test_failing_handler_is_retried_then_dead_lettered_while_others_flow(make_platform, kind):
    platform = boot(
        make_platform,
        kind,
        STREAMIFY_EVENTS_MAX_RETRIES="3",
        STREAMIFY_EVENTS_RETRY_BASE="0.8",
    )
    started = time.monotonic()

    # A producer bug: user.deleted without a usable userId. Billing's handler rejects it.
    # In production a broken contract is only logged at publish, so the event does go out.
    bad = {"userId": "not-a-number", "email": "bad@example.com"}
    run_in_service(
        platform,
        "auth",
        "from django.db import transaction\n"
        "from common.events import publish\n"
        "with transaction.atomic():\n"
        f"    publish('user.deleted', {bad!r})\n",
        STREAMIFY_ENFORCE_CONTRACTS="0",
    )
    user, kept = member(platform), member(platform)
    delete_user(platform, user["id"])

    wait_for(lambda: wallets_of(platform, user["id"]) == 0, timeout=30, what="good event")
    assert platform.scalar("billing", "SELECT count(*) FROM events_deadletter") == 0
    wait_for(
        lambda: platform.scalar("billing", "SELECT count(*) FROM events_deadletter") == 1,
        timeout=60,
        what="dead letter",
    )
    elapsed = time.monotonic() - started
    attempts, error = platform.query("billing", "SELECT attempts, error FROM events_deadletter")[0]
    assert attempts == 4
    assert "valid userId" in error
    # Backoff: three waits of at least base*2^n/2 each (0.4 + 0.8 + 1.6 s).
    assert elapsed >= 2.8
    parked = platform.dead_letters("billing")
    assert len(parked) == 1
    assert parked[0]["envelope"]["data"]["userId"] == "not-a-number"
    assert "valid userId" in parked[0]["error"]
    # The poisoned event changed nothing and was never recorded as applied.
    assert platform.query("billing", "SELECT user_id FROM wallets_wallet") == [(kept["id"],)]
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 1
