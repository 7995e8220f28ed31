import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from common.testing import backends
from common.testing.processes import wait_for, worker_process
from common.testing.tokens import bearer
from playback import capabilities, clients, services
from playback.models import StreamSession

pytestmark = pytest.mark.django_db


def a_session(platform, user_id: int, **fields) -> StreamSession:
    now = timezone.now()
    values = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "video_id": platform.videos["ten_minutes"],
        "price_per_minute": 10,
        "duration_seconds": 600.0,
        "media_path": "test/ten_minutes/video.mp4",
        "started_at": now,
        "last_heartbeat_at": now,
        **fields,
    }
    return StreamSession.objects.create(**values)


def test_a_start_that_died_after_billing_charged_is_refunded_by_the_sweep(platform, users):
    # The process wrote its `starting` row, billing charged, then the process died.
    user_id = users(balance=100)
    session = a_session(platform, user_id)
    clients.billing_charge(
        user_id=user_id,
        amount=10,
        idempotency_key=services.charge_key(session.id, 1),
        video_id=session.video_id,
        session_id=str(session.id),
    )
    assert platform.balance(user_id) == 90

    too_soon = services.sessions_sweep()
    later = services.sessions_sweep(now=timezone.now() + timedelta(minutes=6))

    assert too_soon == {"ended": 0, "abandoned": 0}
    assert later == {"ended": 0, "abandoned": 1}
    assert not StreamSession.objects.filter(pk=session.id).exists()
    assert platform.balance(user_id) == 100
    assert [t["type"] for t in platform.ledger(user_id)] == ["refund", "charge", "deposit"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_timer_ends_idle_sessions_without_a_beat_process(platform, users):
    user_id = users(balance=100)
    long_ago = timezone.now() - timedelta(seconds=30)
    session = a_session(
        platform,
        user_id,
        status="active",
        minutes_charged=1,
        started_at=long_ago,
        last_heartbeat_at=long_ago,
    )
    env = {
        **platform.env,
        "STREAMING_DATABASE_URL": f"{backends.postgres_url()}/{connection.settings_dict['NAME']}",
        "BILLING_URL": platform.billing_url,
        "STREAMING_IDLE_TIMEOUT_SECONDS": "5",
        "STREAMING_SWEEP_SECONDS": "0.5",
    }
    worker = worker_process("streaming", env=env, log_dir=platform.log_dir).start()
    try:
        wait_for(
            lambda: StreamSession.objects.get(pk=session.id).status == "ended",
            timeout=60,
            what="the worker's sweep to end the idle session",
        )
    finally:
        worker.stop()

    session.refresh_from_db()
    assert (session.end_reason, session.ended_at) == ("idle", long_ago)
    assert session.minutes_charged == 1 and platform.balance(user_id) == 100


def test_a_start_whose_charge_timed_out_is_refunded_and_never_opens(platform, users, settings):
    # Billing gets the charge but answers after streaming's deadline: did it charge? Unknown.
    user_id = users(balance=100)
    settings.STREAMING_BILLING_TIMEOUT = (1.0, 0.001)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user_id)["Authorization"])

    response = client.post(f"/api/stream/start/{platform.videos['ten_minutes']}")

    assert response.status_code == 503
    [row] = StreamSession.objects.filter(user_id=user_id)
    assert row.status == "starting"
    assert client.get("/api/stream/sessions/active").json()["sessions"] == []
    signed = capabilities.media_urls_sign(session=row, now=timezone.now())["streamUrl"]
    assert APIClient().get(signed, HTTP_RANGE="bytes=0-9").status_code == 404
    settings.STREAMING_BILLING_TIMEOUT = (1.0, 5.0)
    wait_for(lambda: platform.charges(user_id), timeout=10, what="the late charge to land")
    assert services.sessions_sweep(now=timezone.now() + timedelta(minutes=6))["abandoned"] == 1
    assert not StreamSession.objects.filter(user_id=user_id).exists()
    assert platform.balance(user_id) == 100
