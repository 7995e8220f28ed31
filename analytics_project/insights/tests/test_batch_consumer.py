"""The worker takes bus events in batches, many per transaction, each applied exactly once.

Real processes on both kinds of backend: the analytics worker as `make run` starts it, events
published as the outbox relay publishes them.
"""

import threading
import time
from contextlib import ExitStack

import pytest
from django.db import connection, transaction

from common.events.envelope import make_envelope
from common.testing.locks import writes_held
from common.testing.processes import wait_for
from insights import selectors, services
from insights.models import StoredEvent
from insights.tests.bus import analytics_bus, views

KINDS = ["embedded", "real"]
PLATFORM = """
SELECT p.views, p.watch_seconds FROM insights_platformstats p
JOIN insights_projectionhead h ON h.generation_id = p.generation
"""
INBOX = "SELECT count(*) FROM events_inboxevent"
# Each append transaction stamps its events with one recorded_at.
APPEND_TRANSACTIONS = "SELECT count(DISTINCT recorded_at) FROM insights_storedevent"


@pytest.fixture
def bus_for(tmp_path):
    with ExitStack() as stack:
        yield lambda kind: stack.enter_context(analytics_bus(kind, tmp_path / kind))


def watch_seconds(envelopes: list[dict]) -> int:
    return sum(e["data"]["watchSeconds"] for e in envelopes)


@pytest.mark.parametrize("kind", KINDS)
def test_a_backlog_is_applied_in_a_few_transactions_with_duplicates_once_and_the_poison_parked(
    bus_for, kind
):
    bus = bus_for(kind)
    good = views(300)
    poison = make_envelope(
        type="video.watched",
        source="/streamify/streaming",
        data={"sessionId": "p", "userId": "not-a-number", "videoId": 1, "watchSeconds": 5},
    )
    # One backlog, so one batch: the poison amid good events, twenty of them delivered twice.
    bus.publish(good[:150] + [poison] + good[150:] + good[10:30])

    bus.start_worker(STREAMIFY_EVENTS_MAX_RETRIES="2", STREAMIFY_EVENTS_RETRY_BASE="0.2")

    wait_for(lambda: bus.settled(300), timeout=60, what="the good events applied")
    wait_for(
        lambda: bus.scalar("analytics", "SELECT count(*) FROM events_deadletter") == 1,
        timeout=60,
        what="the poison dead-lettered",
    )
    assert bus.stored() == bus.scalar("analytics", INBOX) == 300
    assert bus.query("analytics", PLATFORM) == [(300, watch_seconds(good))]
    # Halving around the poison costs a few transactions, not one per event.
    assert bus.scalar("analytics", APPEND_TRANSACTIONS) < 30
    attempts, error = bus.query("analytics", "SELECT attempts, error FROM events_deadletter")[0]
    assert attempts == 3
    assert "userId" in error


def batch_waiting(bus, count: int) -> bool:
    """The worker has taken the `count` messages and appending them waits for the database.

    (Its consumer threads may share them out: on RabbitMQ, each one's append waits.)
    """
    if bus.embedded:
        # The embedded broker keeps a taken message under unacked/<owner>/ until its ack.
        taken = list((bus.var / "broker" / "unacked").glob("*/*.analytics.events.msg"))
        return len(taken) == count
    waiting = """
        SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
        AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO insights_storedevent%%'
    """
    return bus.scalar("analytics", waiting) >= 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(bus_for, kind):
    bus = bus_for(kind)
    backlog = views(400)
    bus.publish(backlog)

    analytics_db = (
        bus.var / "db" / "analytics.sqlite3" if bus.embedded else bus.database_urls["analytics"]
    )
    with writes_held(analytics_db, table="insights_storedevent"):
        worker = bus.start_worker()
        wait_for(lambda: batch_waiting(bus, 400), timeout=60, what="the batch blocked")
        time.sleep(1)
        worker.kill()

    assert bus.stored() == bus.scalar("analytics", INBOX) == 0
    bus.start_worker(name="analytics-worker-2")
    wait_for(lambda: bus.settled(400), timeout=60, what="the batch applied by the next worker")
    assert bus.scalar("analytics", INBOX) == 400
    assert bus.query("analytics", PLATFORM) == [(400, watch_seconds(backlog))]


def test_a_worker_killed_while_ingesting_resumes_with_nothing_lost_or_counted_twice(bus_for):
    bus = bus_for("real")
    backlog = views(6000, users=50)
    bus.publish(backlog)
    worker = bus.start_worker()
    wait_for(lambda: bus.stored() >= 1500, timeout=60, what="part of the backlog stored")

    worker.kill()
    stored_when_killed = bus.stored()
    bus.start_worker(name="analytics-worker-2")

    wait_for(lambda: bus.settled(6000), timeout=120, what="the whole backlog applied")
    assert stored_when_killed < 6000
    assert bus.scalar("analytics", INBOX) == 6000
    assert bus.query("analytics", PLATFORM) == [(6000, watch_seconds(backlog))]
    users = bus.query("analytics", "SELECT sum(views), count(*) FROM insights_userstats")
    assert users == [(6000, 50)]


def _event(user: int) -> services.NewEvent:
    data = {"sessionId": f"s{user}", "userId": user, "videoId": 1, "watchSeconds": 10}
    return services.NewEvent(
        make_envelope(type="video.watched", data={}, source="/t")["id"], "video.watched", data, "/t"
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_projector_waits_for_an_earlier_position_that_commits_later_instead_of_skipping_it():
    in_flight, release, earlier = threading.Event(), threading.Event(), {}

    def slow_append():
        try:
            with transaction.atomic():
                earlier.update(services.events_append(events=[_event(1)]))
                in_flight.set()
                release.wait(30)
        finally:
            connection.close()

    appender = threading.Thread(target=slow_append)
    appender.start()
    assert in_flight.wait(10)
    # Another append does not wait for the one in flight, and commits first.
    [later] = services.events_append(events=[_event(2)]).values()
    [position] = earlier.values()
    assert later > position
    assert StoredEvent.objects.filter(position=later).exists()
    assert not StoredEvent.objects.filter(position=position).exists()  # the gap a reader sees

    applied: list = []
    projector = threading.Thread(
        target=lambda: (applied.append(services.projections_catch_up()), connection.close())
    )
    projector.start()
    projector.join(1.0)
    assert projector.is_alive(), "the projector must wait at the horizon, not skip the gap"
    release.set()
    appender.join(10)
    projector.join(10)

    assert applied == [2]
    assert selectors.platform_stats_get()["totalViews"] == 2
    assert services.projections_position() == later
