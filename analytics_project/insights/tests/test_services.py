import uuid
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from common.events.consumer import apply_event
from common.events.envelope import make_envelope
from insights import commands, selectors, services
from insights.event_specs import InvalidEvent
from insights.models import Checkpoint, StoredEvent, ViewRecord
from insights.tests.factories import bus_event, paid, ready, registered, watched

pytestmark = pytest.mark.django_db


def test_a_watched_event_is_stored_and_projected_in_the_same_transaction():
    ready(video=7, title="Sintel")

    event, appended = watched(user=1, video=7, seconds=90)

    assert appended is True
    stored = StoredEvent.objects.get(event_id=event.event_id)
    assert (stored.type, stored.aggregate_type, stored.aggregate_id) == (
        "video.watched",
        "video",
        "7",
    )
    stats = selectors.video_stats_get(video_id=7)
    assert stats["title"] == "Sintel"
    assert (stats["totalViews"], stats["uniqueViewers"], stats["totalWatchTime"]) == (1, 1, 90)
    assert stats["freshness"]["position"] == stored.position
    assert stats["freshness"]["lagEvents"] == 0


def test_unique_viewers_count_distinct_users():
    for user, seconds in [(1, 10), (1, 20), (2, 30), (1, 40), (3, 50)]:
        watched(user=user, video=5, seconds=seconds)

    stats = selectors.video_stats_get(video_id=5)

    assert stats["totalViews"] == 5
    assert stats["uniqueViewers"] == 3
    assert stats["totalWatchTime"] == 150
    assert stats["averageWatchTime"] == 30.0
    assert selectors.platform_stats_get()["uniqueViewers"] == 3


def test_redelivery_through_the_consumer_changes_nothing():
    envelope = make_envelope(
        type="video.watched",
        source="/streamify/streaming",
        data={"sessionId": "s-1", "userId": 4, "videoId": 9, "watchSeconds": 61.4, "amount": 20},
    )

    assert apply_event(envelope) is True
    before = (selectors.video_stats_get(video_id=9), selectors.platform_stats_get())
    assert apply_event(envelope) is False

    assert StoredEvent.objects.filter(event_id=envelope["id"]).count() == 1
    after = (selectors.video_stats_get(video_id=9), selectors.platform_stats_get())
    assert after == before
    assert after[0]["totalWatchTime"] == 61  # whole seconds


def test_the_same_event_id_appended_twice_is_stored_once():
    event_id = uuid.uuid4()
    watched(user=1, video=1, seconds=5, event_id=event_id)

    _, appended = watched(user=1, video=1, seconds=5, event_id=event_id)

    assert appended is False
    assert selectors.video_stats_get(video_id=1)["totalViews"] == 1


@pytest.mark.parametrize(
    "type, data",
    [
        ("video.watched", {"userId": 1, "videoId": 1, "watchSeconds": -5}),
        ("video.watched", {"userId": "1", "videoId": 1, "watchSeconds": 5}),
        ("payment.processed", {"userId": 1, "videoId": 1, "amount": "ten"}),
        ("user.registered", {"email": "no-id@example.com"}),
        ("video.exploded", {"videoId": 1}),
    ],
)
def test_a_malformed_event_is_refused_and_stores_nothing(type, data):
    with pytest.raises(InvalidEvent):
        bus_event(type, **data)

    assert StoredEvent.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger is PostgreSQL's")
def test_the_database_refuses_to_change_a_stored_event():
    event, _ = registered(user=3)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StoredEvent.objects.filter(pk=event.pk).update(type="user.deleted")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StoredEvent.objects.filter(pk=event.pk).delete()

    assert StoredEvent.objects.get(pk=event.pk).type == "user.registered"


def test_revenue_comes_from_billing_charges():
    ready(video=2)
    watched(user=1, video=2, seconds=120)
    paid(user=1, video=2, amount=25)
    paid(user=1, video=2, amount=25)
    bus_event("wallet.credited", transactionId=1, userId=1, amount=5000, balanceAfter=5000)

    revenue = selectors.revenue_get(today=timezone.now().date())
    platform = selectors.platform_stats_get()

    assert revenue["totalRevenue"] == 50
    assert (revenue["daily"], revenue["weekly"], revenue["monthly"]) == (50, 50, 50)
    assert (platform["totalCharges"], platform["totalVideosViewed"]) == (2, 1)
    assert (platform["totalActiveUsers"], platform["averageViewsPerVideo"]) == (1, 1.0)
    assert revenue["totalDeposits"] == 5000
    assert revenue["byVideo"] == [{"videoId": 2, "title": "A video", "revenue": 50, "views": 1}]
    user = selectors.user_history_get(user_id=1)
    assert (user["amountSpent"], user["amountDeposited"]) == (50, 5000)


def test_a_refunded_charge_is_revenue_given_back():
    ready(video=2)
    paid(user=1, video=2, amount=25)
    paid(user=1, video=2, amount=30)
    paid(user=1, video=2, amount=30, type="payment.refunded")

    revenue = selectors.revenue_get(today=timezone.now().date())

    assert (revenue["totalRevenue"], revenue["daily"], revenue["monthly"]) == (25, 25, 25)
    assert revenue["byVideo"][0]["revenue"] == 25
    assert selectors.platform_stats_get()["totalCharges"] == 2
    assert selectors.user_history_get(user_id=1)["amountSpent"] == 25


def test_user_deleted_forgets_the_history_but_keeps_the_counts():
    registered(user=8)
    watched(user=8, video=3, seconds=30)
    assert len(selectors.user_history_get(user_id=8)["history"]) == 1

    bus_event("user.deleted", userId=8, email="user8@example.com")

    history = selectors.user_history_get(user_id=8)
    assert history["history"] == []
    assert history["deleted"] is True and history["profileActive"] is False
    assert ViewRecord.objects.filter(user_id=8).count() == 0
    assert selectors.video_stats_get(video_id=3)["totalViews"] == 1
    assert selectors.platform_stats_get()["totalUsers"] == 0


def test_video_lifecycle_counts_ready_videos_only():
    bus_event(
        "video.uploaded", videoId=4, title="Raw", category="c", uploadedBy=1, pricePerMinute=5
    )
    assert selectors.platform_stats_get()["totalVideos"] == 0
    ready(video=4, title="Cooked")
    ready(video=4, title="Cooked")  # a second ready (another event id) is not a second video
    assert selectors.platform_stats_get()["totalVideos"] == 1

    bus_event("video.deleted", videoId=4, uploadedBy=1)

    assert selectors.platform_stats_get()["totalVideos"] == 0
    assert selectors.video_stats_get(video_id=4)["status"] == "deleted"
    assert selectors.top_videos_get()["videos"] == []


def test_profile_saga_steps_are_idempotent_by_saga_id():
    assert commands.profile_create(saga_id="saga-1", user_id=12, email="a@example.com") is True
    assert commands.profile_create(saga_id="saga-1", user_id=12, email="a@example.com") is False
    assert StoredEvent.objects.filter(type="analytics.profile_created").count() == 1
    services.projections_catch_up()  # the projector's part, left to it by the step
    assert selectors.user_profile_active(12) is True

    assert commands.profile_delete(saga_id="saga-1", user_id=12) is True
    assert commands.profile_delete(saga_id="saga-1", user_id=12) is True  # same answer again
    assert selectors.user_profile_active(12) is False
    assert commands.profile_delete(saga_id="saga-2", user_id=99) is False


def test_the_saga_tasks_return_the_contracted_shapes():
    from insights import saga

    assert saga.create_profile(saga_id="s", user_id=5, email="e@example.com") == {
        "analyticsCreated": True
    }
    assert saga.delete_profile(saga_id="s", user_id=5) == {"deleted": True}


def test_stored_events_show_as_lag_until_the_projector_applies_them():
    watched(user=1, video=1, seconds=10, when="2026-03-01T10:00:00+00:00")
    positions = services.events_append(
        events=[
            services.NewEvent(
                uuid.uuid4(),
                "video.watched",
                {"sessionId": "s", "userId": 2, "videoId": 1, "watchSeconds": 20},
                "/streamify/streaming",
                "2026-03-01T11:00:00+00:00",
            )
        ]
    )

    result = report("daily", "2026-03-01", "2026-03-01")
    stats = selectors.video_stats_get(video_id=1)
    assert (result["rows"][0]["views"], stats["totalViews"]) == (1, 1)
    assert result["freshness"]["lagEvents"] == stats["freshness"]["lagEvents"] == 1
    [position] = positions.values()
    assert stats["freshness"]["headPosition"] == position

    assert services.projections_catch_up() == 1
    assert services.projections_catch_up() == 0

    result = report("daily", "2026-03-01", "2026-03-01")
    assert result["rows"][0] == {
        "period": "2026-03-01",
        "start": "2026-03-01",
        "end": "2026-03-01",
        "views": 2,
        "watchTime": 30,
        "revenue": 0,
        "deposits": 0,
        "newUsers": 0,
        "streams": 0,
        "uniqueViewers": 2,
    }
    assert result["freshness"]["lagEvents"] == 0
    assert selectors.video_stats_get(video_id=1)["totalViews"] == 2
    assert set(Checkpoint.objects.values_list("position", flat=True)) == {position}


def report(period: str, start: str, end: str) -> dict:
    return selectors.report_get(
        period=period, start=date.fromisoformat(start), end=date.fromisoformat(end)
    )


def test_reports_split_at_the_utc_day_boundary():
    watched(user=1, video=1, seconds=10, when="2026-05-31T23:59:59+00:00")
    # 01:30 in UTC+02:00 is still 23:30 of the 31st in UTC.
    watched(user=2, video=1, seconds=20, when="2026-06-01T01:30:00+02:00")
    watched(user=1, video=1, seconds=30, when="2026-06-01T00:00:00+00:00")
    paid(user=1, video=1, amount=7, when="2026-06-01T00:00:01+00:00")

    daily = report("daily", "2026-05-31", "2026-06-01")
    rows = [(r["period"], r["views"], r["watchTime"], r["uniqueViewers"], r["revenue"])
            for r in daily["rows"]]  # fmt: skip
    assert rows == [("2026-05-31", 2, 30, 2, 0), ("2026-06-01", 1, 30, 1, 7)]

    # Sunday 31 May ends ISO week 22; Monday 1 June starts week 23.
    weekly = report("weekly", "2026-05-25", "2026-06-07")
    assert [(r["period"], r["start"], r["views"], r["uniqueViewers"]) for r in weekly["rows"]] == [
        ("2026-W22", "2026-05-25", 2, 2),
        ("2026-W23", "2026-06-01", 1, 1),
    ]

    monthly = report("monthly", "2026-05-01", "2026-06-30")
    assert [(r["period"], r["end"], r["views"], r["revenue"]) for r in monthly["rows"]] == [
        ("2026-05", "2026-05-31", 2, 0),
        ("2026-06", "2026-06-30", 1, 7),
    ]
    assert monthly["totals"]["uniqueViewers"] == 2
    assert monthly["totals"]["views"] == 3


def test_weekly_viewers_are_distinct_across_days():
    for day in ("2026-06-01", "2026-06-02", "2026-06-03"):
        watched(user=1, video=1, seconds=10, when=f"{day}T12:00:00+00:00")
    watched(user=2, video=1, seconds=10, when="2026-06-03T12:00:00+00:00")

    weekly = report("weekly", "2026-06-01", "2026-06-07")

    assert weekly["rows"][0]["views"] == 4
    assert weekly["rows"][0]["uniqueViewers"] == 2  # not 1 + 1 + 2
