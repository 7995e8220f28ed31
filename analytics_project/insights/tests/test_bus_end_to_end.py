"""Analytics fed by the bus, across real processes: RabbitMQ, a Celery worker, gunicorn, PostgreSQL.

The test publishes events the way every service's outbox relay does and never calls analytics
to record anything; the figures must still show up in the HTTP API within seconds.
"""

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from celery import Celery

from common.auth import keys
from common.events.envelope import make_envelope
from common.events.relay import send_event
from common.testing import backends
from common.testing.platform import Platform
from common.testing.postgres import temporary_databases
from common.testing.processes import (
    manage,
    wait_for,
)
from common.testing.rabbitmq import private_vhost
from common.testing.tokens import bearer

pytestmark = pytest.mark.skipif(
    not (backends.reachable(backends.amqp_url()) and backends.reachable(backends.postgres_url())),
    reason="needs RabbitMQ and PostgreSQL",
)


def publish(app: Celery, type: str, data: dict, *, envelope: dict | None = None) -> dict:
    """Send an event exactly as every outbox relay does (`common.events.relay.send_event`)."""
    envelope = envelope or make_envelope(type=type, data=data, source="/streamify/e2e")
    with app.producer_or_acquire() as producer:
        send_event(app, producer, envelope)
    return envelope


@pytest.fixture
def analytics_platform():
    with (
        private_vhost("streamify-analytics") as amqp_url,
        temporary_databases(["analytics"]) as urls,
        tempfile.TemporaryDirectory(prefix="analytics-e2e-") as var,
    ):
        platform = Platform(Path(var), broker_url=amqp_url, database_urls=urls)
        # The test mints user tokens with its own dev key pair; the service trusts it.
        platform.extra_env["JWT_PUBLIC_KEY"] = keys.public_key()
        app = Celery("e2e-publisher", broker=amqp_url)
        try:
            platform.prepare("analytics")
            platform.start_web("analytics")
            worker = platform.start_worker("analytics")
            url = platform.urls["analytics"]
            yield {"url": url, "app": app, "env": platform.env(), "worker": worker}
        finally:
            app.close()
            platform.stop()


def test_events_on_the_bus_reach_every_projection_and_replay_agrees(analytics_platform):
    base, app = analytics_platform["url"], analytics_platform["app"]
    user_id, video_id = 501, 77
    session = str(uuid.uuid4())
    registered = {"userId": user_id, "email": "e2e@example.com", "firstName": "E", "lastName": "T"}
    ready = {"videoId": video_id, "title": "Tears of Steel", "category": "sci", "duration": 734.0,
             "pricePerMinute": 10, "uploadedBy": 1}  # fmt: skip
    view = {"sessionId": session, "userId": user_id, "videoId": video_id, "watchSeconds": 125,
            "amount": 30}  # fmt: skip
    charge = {"transactionId": 9, "userId": user_id, "videoId": video_id, "sessionId": session,
              "amount": 30, "balanceAfter": 4970, "idempotencyKey": "k"}  # fmt: skip
    ended = {"sessionId": session, "userId": user_id, "videoId": video_id, "watchSeconds": 125,
             "amountCharged": 30, "minutesCharged": 3, "reason": "ended",
             "endedAt": datetime.now(UTC).isoformat()}  # fmt: skip
    publish(app, "user.registered", registered)
    publish(app, "video.ready", ready)
    watched = publish(app, "video.watched", view)
    publish(app, "video.watched", {}, envelope=watched)  # a redelivery: counted once
    publish(app, "payment.processed", charge)
    publish(app, "stream.ended", ended)
    headers = bearer(user_id)

    def stats():
        url = f"{base}/api/analytics/cqrs/video/{video_id}/stats"
        body = requests.get(url, headers=headers, timeout=5).json()
        # The worker's consumer threads commit their batches in any order: the payment may be
        # projected before video.ready is stored. Wait for both, then check every figure.
        return body if body["revenue"] == 30 and body["title"] else None

    video = wait_for(stats, timeout=30, what="video stats from the bus")
    assert (video["title"], video["totalViews"], video["uniqueViewers"]) == ("Tears of Steel", 1, 1)
    assert (video["totalWatchTime"], video["revenue"]) == (125, 30)
    history = requests.get(f"{base}/api/analytics/user", headers=headers, timeout=5).json()
    assert [h["videoId"] for h in history["history"]] == [video_id]

    def daily_caught_up():
        url = f"{base}/api/analytics/reports/daily"
        report = requests.get(url, headers=headers, timeout=5).json()
        return report if report["freshness"]["lagEvents"] == 0 else None

    report = wait_for(daily_caught_up, timeout=30, what="the daily metrics")
    today = report["rows"][-1]
    figures = (today["views"], today["watchTime"], today["revenue"], today["newUsers"])
    assert figures == (1, 125, 30, 1)
    dashboard = requests.get(f"{base}/api/analytics/dashboard", headers=headers, timeout=5).json()
    before = (dashboard["platform"], dashboard["topVideos"], dashboard["last7Days"])

    output = manage("analytics", "replay_projections", env=analytics_platform["env"])

    assert "replayed 5 events" in output  # six deliveries, one of them a redelivery
    dashboard = requests.get(f"{base}/api/analytics/dashboard", headers=headers, timeout=5).json()
    assert dashboard["platform"]["freshness"]["generation"] != before[0]["freshness"]["generation"]
    strip = {**dashboard["platform"], "freshness": None}
    assert strip == {**before[0], "freshness": None}
    assert (dashboard["topVideos"], dashboard["last7Days"]) == before[1:]


def test_the_saga_steps_run_on_the_analytics_command_queue(analytics_platform):
    base, app = analytics_platform["url"], analytics_platform["app"]
    staff = bearer(1, is_staff=True)

    def profile_active(user_id: int) -> bool:
        url = f"{base}/api/analytics/cqrs/user/{user_id}/history"
        return requests.get(url, headers=staff, timeout=5).json()["profileActive"]

    kwargs = {"saga_id": "saga-e2e", "user_id": 777, "email": "saga@example.com"}
    app.signature("analytics.saga.create_profile", kwargs=kwargs,
                  queue="analytics.commands").apply_async()  # fmt: skip
    wait_for(lambda: profile_active(777), timeout=30, what="profile created by the saga step")

    app.signature("analytics.saga.delete_profile", kwargs={"saga_id": "saga-e2e", "user_id": 777},
                  queue="analytics.commands").apply_async()  # fmt: skip
    wait_for(lambda: not profile_active(777), timeout=30, what="profile removed by compensation")
