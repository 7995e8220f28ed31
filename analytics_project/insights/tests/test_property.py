"""Property: whatever the events and however they arrive, the live projection equals a replay.

"However they arrive": one at a time or in batches of any size, redelivered, projected in
batches of any size by either projector. "A replay": by the Python projectors and, on
PostgreSQL, by the SQL of `insights.sql_projection` — the two implementations of one meaning.
"""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights import replay, services
from insights.models import (
    DailyMetric,
    DailyViewer,
    PlatformStats,
    ProjectionHead,
    StoredEvent,
    UserStats,
    VideoStats,
    VideoViewer,
    ViewRecord,
)

pytestmark = pytest.mark.django_db

users = st.integers(1, 3)
videos = st.integers(1, 3)
cents = st.integers(0, 500)
# Two UTC midnights inside the window, so daily buckets split.
moments = st.datetimes(
    min_value=datetime(2026, 1, 30, 20), max_value=datetime(2026, 2, 1, 4), timezones=st.just(UTC)
)
sessions = st.sampled_from(["s1", "s2", "s3"])
# Free-form fields as producers might send them: the right type, or not.
words = st.one_of(st.sampled_from(["x", "y", "", "é" * 300]), st.none(), st.integers(0, 1))
numbers = st.one_of(
    st.integers(-2, 12),
    st.floats(-2, 12, allow_nan=False),
    st.booleans(),
    st.just(2**70),
    st.just("7"),
    st.none(),
)
payment_videos = st.one_of(st.none(), videos, st.just(0), st.just(-4))


def event(type: str, **fields):
    return st.tuples(st.just(type), st.fixed_dictionaries(fields), moments)


EVENTS = st.one_of(
    event("user.registered", userId=users, email=words, firstName=words, lastName=words),
    event("user.logged_in", userId=users),
    event("user.deleted", userId=users),
    event("analytics.profile_created", userId=users, email=words),
    event("analytics.profile_deleted", userId=users, existed=st.booleans()),
    event(
        "video.uploaded",
        videoId=videos,
        title=words,
        category=words,
        uploadedBy=numbers,
        pricePerMinute=numbers,
    ),
    event("video.ready", videoId=videos, title=words, duration=numbers, pricePerMinute=numbers),
    event("video.failed", videoId=videos, reason=st.just("bad codec")),
    event("video.deleted", videoId=videos),
    event("stream.started", sessionId=sessions, userId=users, videoId=videos),
    event("stream.ended", sessionId=sessions, userId=users, videoId=videos, watchSeconds=cents),
    event(
        "video.watched",
        sessionId=st.one_of(sessions, st.just(""), st.integers(1, 2), st.none()),
        userId=users,
        videoId=videos,
        watchSeconds=st.one_of(st.integers(0, 4000), st.floats(0, 4000)),
    ),
    event("analytics.view_recorded", userId=users, videoId=videos, watchSeconds=cents),
    event("payment.processed", userId=users, videoId=payment_videos, amount=cents),
    event("payment.refunded", userId=users, videoId=payment_videos, amount=cents),
    event("wallet.credited", userId=users, amount=cents),
)

TABLES = (VideoStats, VideoViewer, UserStats, ViewRecord, PlatformStats, DailyMetric, DailyViewer)


def projection(generation: int) -> dict:
    """Every read model row of `generation`, without surrogate keys, in a stable order."""
    result = {}
    for model in TABLES:
        fields = [f.name for f in model._meta.concrete_fields if f.name not in ("id", "generation")]
        rows = model.objects.filter(generation=generation).values_list(*fields)
        result[model.__name__] = sorted(rows, key=repr)
    return result


def deliver(deliveries, ids, events, *, chunks: list[int], batch_size: int, ways: list):
    """Append the deliveries in chunks of the given sizes, projecting after each chunk with the
    SQL projector (True), the Python one (False), or the one the catch-up picks (None)."""
    start, turn = 0, 0
    while start < len(deliveries):
        size = chunks[turn % len(chunks)]
        chunk, start, turn = deliveries[start : start + size], start + size, turn + 1
        new = [
            services.NewEvent(ids[i], events[i][0], events[i][1], "/t", events[i][2].isoformat())
            for i in chunk
        ]
        services.events_append(events=new)
        way = ways[turn % len(ways)]
        services.projections_catch_up(batch_size=batch_size, set_based=way)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(EVENTS, max_size=30),
    redeliveries=st.lists(st.integers(0, 29), max_size=8),
    chunks=st.lists(st.integers(1, 8), min_size=1, max_size=6),
    batch_size=st.integers(1, 7),
    window=st.one_of(st.none(), moments),
    ways=st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=4),
)
def test_incremental_projection_equals_replay(
    events, redeliveries, chunks, batch_size, window, ways
):
    ids = [uuid.uuid4() for _ in events]
    deliveries = list(range(len(events)))
    for n, index in enumerate(redeliveries):
        if index < len(events):
            # Redeliver event `index` somewhere after its first delivery (maybe in its batch).
            deliveries.insert(min(index + 1 + n, len(deliveries)), index)

    with transaction.atomic():
        if connection.vendor != "postgresql":
            ways = [False]
        deliver(deliveries, ids, events, chunks=chunks, batch_size=batch_size, ways=ways)
        head = ProjectionHead.objects.first()
        incremental = head.generation_id if head else 0  # no event yet: nothing projected
        incremental_rows = projection(incremental)

        by_projectors = replay.replay_run(batch_size=batch_size, set_based=False)

        assert StoredEvent.objects.count() == len(events)  # redelivery appended nothing
        assert by_projectors.events_replayed == len(events)
        assert by_projectors.generation != incremental
        assert projection(by_projectors.generation) == incremental_rows
        if connection.vendor == "postgresql":
            by_sql = replay.replay_run(batch_size=batch_size, set_based=True)
            assert by_sql.events_replayed == len(events)
            assert projection(by_sql.generation) == incremental_rows
            if window is not None:
                windowed = [
                    replay.replay_run(from_time=window, batch_size=batch_size, set_based=way)
                    for way in (False, True)
                ]
                counted = sum(1 for _type, _data, when in events if when >= window)
                assert [r.events_replayed for r in windowed] == [counted, counted]
                assert projection(windowed[0].generation) == projection(windowed[1].generation)
        transaction.set_rollback(True)


# Every way a state machine can be cut by a batch boundary, on both projectors.
STORY = [
    ("video.uploaded", {"videoId": 1, "title": "a", "uploadedBy": 3}),
    ("video.ready", {"videoId": 1, "title": "b", "duration": 9.5, "pricePerMinute": 4}),
    ("video.uploaded", {"videoId": 1, "title": ""}),
    ("user.deleted", {"userId": 2}),
    ("user.registered", {"userId": 2, "email": "two@example.com", "firstName": "Two"}),
    ("user.registered", {"userId": 1, "email": "one@example.com", "lastName": "One"}),
    ("video.watched", {"sessionId": "s1", "userId": 1, "videoId": 1, "watchSeconds": 30}),
    ("user.logged_in", {"userId": 1}),
    ("analytics.profile_deleted", {"userId": 1, "existed": True}),
    ("video.failed", {"videoId": 1}),
    ("video.watched", {"sessionId": "s2", "userId": 2, "videoId": 1, "watchSeconds": 20}),
    ("user.deleted", {"userId": 1}),
    ("analytics.view_recorded", {"userId": 1, "videoId": 1, "watchSeconds": 5}),
    ("analytics.profile_created", {"userId": 1, "email": "again@example.com"}),
    ("video.ready", {"videoId": 1, "category": "c"}),
    ("video.uploaded", {"videoId": 2}),
    ("video.uploaded", {"videoId": 1, "title": "c"}),
    ("payment.processed", {"userId": 1, "videoId": 1, "amount": 7}),
    ("video.deleted", {"videoId": 1}),
    ("video.ready", {"videoId": 1}),
    ("user.registered", {"userId": 1, "firstName": "Back"}),
    ("user.deleted", {"userId": 2}),
    ("wallet.credited", {"userId": 2, "amount": 100}),
    ("video.ready", {"videoId": 3, "title": "three", "duration": 1}),
    ("video.uploaded", {"videoId": 3, "title": "late", "duration": 2.5}),
    ("user.logged_in", {"userId": 1}),
]
# A deleted video that is "ready" again is not counted, and so touches no platform total.
QUIET_STORY = [
    ("video.deleted", {"videoId": 5}),
    ("video.ready", {"videoId": 5, "title": "gone"}),
    ("analytics.profile_created", {"userId": 5, "email": "five@example.com"}),
]


def story_rows(story: list, batches: list[list[int]], ids: list, *, set_based: bool) -> dict:
    """The projection after appending `story` in `batches` (lists of indexes), rolled back."""
    with transaction.atomic():
        savepoint = transaction.savepoint()
        for batch in batches:
            services.events_append(
                events=[
                    # Two days, a minute apart: every event has a time of its own.
                    services.NewEvent(
                        ids[i], *story[i], "/t", f"2026-02-0{1 + i % 2}T10:{i:02d}:00Z"
                    )
                    for i in batch
                ]
            )
            services.projections_catch_up(set_based=set_based)
        rows = projection(ProjectionHead.objects.get().generation_id)
        # Positions differ from run to run: a view is known by its place in the story.
        first = StoredEvent.objects.order_by("position").first().position
        rows["ViewRecord"] = [(row[0] - first, *row[1:]) for row in rows["ViewRecord"]]
        transaction.savepoint_rollback(savepoint)
    return rows


@pytest.mark.parametrize(
    "story, platform",
    [(STORY, [(1, 1, 2)]), (QUIET_STORY, [])],  # users, ready videos, viewers
)
def test_both_projectors_agree_with_a_replay_wherever_the_batches_split(story, platform):
    ids = [uuid.uuid4() for _ in story]
    everything = list(range(len(story)))
    splits = [[everything[:k], everything[k:]] for k in range(1, len(story))]
    splits.append([[i] for i in everything])
    ways = [False, True] if connection.vendor == "postgresql" else [False]
    expected = story_rows(story, [everything], ids, set_based=False)

    for set_based in ways:
        for batches in splits:
            rows = story_rows(story, batches, ids, set_based=set_based)
            assert rows == expected, (set_based, batches)
    assert [row[:3] for row in expected["PlatformStats"]] == platform


@pytest.mark.django_db(transaction=True)
def test_a_replay_built_side_by_side_on_several_connections_equals_one_by_the_projectors():
    """Outside a transaction the SQL build commits its work tables and writes in parallel."""
    stories = [(STORY, n) for n in range(12)] + [(QUIET_STORY, n) for n in range(12)]
    services.events_append(
        events=[
            # Each copy of the story plays on its own videos and users.
            services.NewEvent(uuid.uuid4(), type, _shifted(data, 10 * n), "/t")
            for story, n in stories
            for type, data in story
        ]
    )
    services.projections_catch_up()
    live = projection(ProjectionHead.objects.get().generation_id)

    by_sql = replay.replay_run(set_based=True)
    sql_rows = projection(by_sql.generation)
    by_projectors = replay.replay_run(set_based=False)

    assert by_sql.events_replayed == by_projectors.events_replayed == len(STORY * 12) + 36
    assert sql_rows == projection(by_projectors.generation) == live
    assert len(sql_rows["UserStats"]) == 36


def _shifted(data: dict, by: int) -> dict:
    return {k: v + by if k in ("userId", "videoId") else v for k, v in data.items()}
