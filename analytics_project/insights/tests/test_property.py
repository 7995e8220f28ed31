"""Property: whatever the events, projecting them one by one equals rebuilding them by replay."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insights import services
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


def event(type: str, **fields):
    return st.tuples(st.just(type), st.fixed_dictionaries(fields), moments)


EVENTS = st.one_of(
    event("user.registered", userId=users, email=st.just("a@example.com"), firstName=st.just("A")),
    event("user.logged_in", userId=users),
    event("user.deleted", userId=users),
    event("analytics.profile_created", userId=users, email=st.just("b@example.com")),
    event("analytics.profile_deleted", userId=users, existed=st.booleans()),
    event("video.uploaded", videoId=videos, title=st.sampled_from(["x", "y"]), uploadedBy=users),
    event("video.ready", videoId=videos, title=st.sampled_from(["x", "z"]), duration=st.just(9.5)),
    event("video.failed", videoId=videos, reason=st.just("bad codec")),
    event("video.deleted", videoId=videos),
    event("stream.started", sessionId=sessions, userId=users, videoId=videos),
    event("stream.ended", sessionId=sessions, userId=users, videoId=videos, watchSeconds=cents),
    event(
        "video.watched",
        sessionId=sessions,
        userId=users,
        videoId=videos,
        watchSeconds=st.one_of(st.integers(0, 4000), st.floats(0, 4000)),
    ),
    event("analytics.view_recorded", userId=users, videoId=videos, watchSeconds=cents),
    event("payment.processed", userId=users, videoId=st.one_of(st.none(), videos), amount=cents),
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


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(EVENTS, max_size=30),
    redeliveries=st.lists(st.integers(0, 29), max_size=8),
    batch_size=st.integers(1, 7),
)
def test_incremental_projection_equals_replay(events, redeliveries, batch_size):
    ids = [uuid.uuid4() for _ in events]
    deliveries = list(range(len(events)))
    for n, index in enumerate(redeliveries):
        if index < len(events):
            # Redeliver event `index` somewhere after its first delivery.
            deliveries.insert(min(index + 1 + n, len(deliveries)), index)

    with transaction.atomic():
        for index in deliveries:
            type, data, when = events[index]
            services.event_append(
                event_id=ids[index],
                type=type,
                data=data,
                source="/t",
                envelope_time=when.isoformat(),
            )
        services.daily_metrics_catch_up(batch_size=batch_size)
        head = ProjectionHead.objects.first()
        incremental = head.generation_id if head else 0  # no event yet: nothing projected
        incremental_rows = projection(incremental)

        result = services.replay_run(batch_size=batch_size)

        assert StoredEvent.objects.count() == len(events)  # redelivery appended nothing
        assert result.events_replayed == len(events)
        assert result.generation != incremental
        assert projection(result.generation) == incremental_rows
        transaction.set_rollback(True)
