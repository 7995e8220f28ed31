"""The event backbone, proven across real processes: auth publishes, billing's worker applies.

`user.registered` (auth) -> billing opens a wallet. Each mechanism of SPEC "Events" has a
test here that fails if the mechanism is removed.
"""

import subprocess
import sys
import time
import uuid

import pytest

from common.paths import REPO_ROOT
from common.testing.locks import writes_held
from common.testing.processes import wait_for
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


def outbox_event_id(platform, user_id: int) -> str:
    rows = platform.query(
        "auth", "SELECT id, envelope FROM events_outboxevent WHERE type = 'user.registered'"
    )
    for event_id, envelope in rows:
        envelope = envelope if isinstance(envelope, dict) else __import__("json").loads(envelope)
        if envelope["data"]["userId"] == user_id:
            return str(event_id).replace("-", "")
    raise AssertionError(f"no user.registered in auth's outbox for user {user_id}")


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
    platform.start_web("auth")
    platform.start_worker("auth")
    platform.start_worker("billing", **billing_env)
    return platform


@pytest.mark.parametrize("kind", BACKENDS)
def test_event_committed_in_auth_is_applied_exactly_once_by_billing(make_platform, kind):
    platform = boot(make_platform, kind)

    user = register(platform)

    wait_for(lambda: wallets_of(platform, user["id"]) == 1, timeout=30, what="wallet")
    event_id = outbox_event_id(platform, user["id"])
    assert inbox_count(platform, event_id) == 1
    published = platform.scalar(
        "auth", "SELECT count(*) FROM events_outboxevent WHERE published_at IS NOT NULL"
    )
    assert published == 1
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

    output = run_in_service(
        platform,
        "auth",
        "from django.db import transaction\n"
        "from common.events import publish\n"
        "try:\n"
        "    with transaction.atomic():\n"
        "        publish('user.registered', {'userId': 424242, 'email': 'x@example.com',"
        " 'firstName': 'Ro', 'lastName': 'Back'})\n"
        "        raise RuntimeError('rolled back')\n"
        "except RuntimeError:\n"
        "    print('rolled back')\n",
    )

    assert "rolled back" in output
    assert platform.scalar("auth", "SELECT count(*) FROM events_outboxevent") == 0
    # A committed event sent afterwards arrives, so the rolled-back one had its chance too.
    user = register(platform)
    wait_for(lambda: wallets_of(platform, user["id"]) == 1, timeout=30, what="wallet")
    assert wallets_of(platform, 424242) == 0
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 1


def test_broker_down_at_commit_the_event_waits_in_the_outbox(make_platform):
    platform = make_platform("real", ["auth", "billing"])
    real_broker = platform.broker_url
    proxy = TcpProxy("127.0.0.1", 5672).start()
    platform.broker_url = real_broker.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    try:
        platform.start_web("auth")
        platform.start_worker("auth")
        platform.start_worker("billing", CELERY_BROKER_URL=real_broker)
        proxy.stop()

        user = register(platform)

        def pending():
            return platform.query(
                "auth",
                "SELECT attempts, last_error FROM events_outboxevent WHERE published_at IS NULL",
            )

        wait_for(lambda: pending() and pending()[0][0] >= 1, timeout=30, what="a failed relay")
        assert len(pending()) == 1, pending()
        assert wallets_of(platform, user["id"]) == 0

        proxy.start()

        wait_for(lambda: wallets_of(platform, user["id"]) == 1, timeout=60, what="wallet")
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
    platform = make_platform(kind, ["auth", "billing"])
    platform.start_web("auth")
    platform.start_worker("auth")
    worker = platform.start_worker("billing")

    billing_db = (
        platform.var / "db" / "billing.sqlite3"
        if platform.embedded
        else platform.database_urls["billing"]
    )
    with writes_held(billing_db, table="wallets_wallet"):
        user = register(platform)
        wait_for(lambda: handler_waiting(platform), timeout=30, what="billing handler blocked")
        time.sleep(0.5)
        worker.kill()

    assert wallets_of(platform, user["id"]) == 0
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 0

    platform.start_worker("billing", name="billing-worker-2")

    wait_for(lambda: wallets_of(platform, user["id"]) == 1, timeout=60, what="wallet")
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

    # A producer bug: user.registered without a usable userId. Billing's handler rejects it.
    # In production a broken contract is only logged at publish, so the event does go out.
    bad = {"userId": "not-a-number", "email": "bad@example.com"}
    run_in_service(
        platform,
        "auth",
        "from django.db import transaction\n"
        "from common.events import publish\n"
        "with transaction.atomic():\n"
        f"    publish('user.registered', {bad!r})\n",
        STREAMIFY_ENFORCE_CONTRACTS="0",
    )
    user = register(platform)

    wait_for(lambda: wallets_of(platform, user["id"]) == 1, timeout=30, what="good event")
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
    assert platform.scalar("billing", "SELECT count(*) FROM wallets_wallet") == 1
    assert platform.scalar("billing", "SELECT count(*) FROM events_inboxevent") == 1
