"""Reads: every query answers from one generation, the one the head names when it starts.

Unknown ids are not errors here: a video or user analytics has heard nothing about has
zero views, so its stats and history are zeros and empty lists (see docs/analytics.md).
"""

import functools
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from insights import periods, responses
from insights.models import (
    Checkpoint,
    DailyMetric,
    DailyViewer,
    PlatformStats,
    ProjectionHead,
    StoredEvent,
    UserStats,
    VideoStats,
    ViewRecord,
)


@dataclass(frozen=True)
class Snapshot:
    """The generation a query reads and how current its projections are."""

    generation: int
    from_time: object
    positions: dict[str, int]
    head_position: int

    def key(self, *projectors: str) -> tuple:
        """What an answer built on `projectors` depends on (the read cache's key)."""
        positions = tuple(self.positions.get(p, 0) for p in projectors)
        return (self.generation, self.from_time, *positions, self.head_position)

    def freshness(self, projector: str) -> "Freshness":
        """Where the projection stands: `lag_events` stored events it has not applied yet."""
        position = self.positions.get(projector, 0)
        lag = 0
        if position < self.head_position:
            lag = StoredEvent.objects.filter(
                position__gt=position, position__lte=self.head_position
            ).count()
        return Freshness(
            generation=self.generation,
            projection=projector,
            position=position,
            head_position=self.head_position,
            lag_events=lag,
            from_time=self.from_time,
        )


@dataclass(frozen=True)
class Freshness:
    generation: int
    projection: str
    position: int
    head_position: int
    lag_events: int
    from_time: object


def _checkpoint(projector: str) -> Subquery:
    return Subquery(
        Checkpoint.objects.filter(generation=OuterRef("generation"), projector=projector).values(
            "position"
        )[:1]
    )


def _snapshot_query():
    head_position = Subquery(StoredEvent.objects.order_by("-position").values("position")[:1])
    return (
        ProjectionHead.objects.filter(pk=1)
        .annotate(
            read_models=_checkpoint(Checkpoint.READ_MODELS),
            daily_metrics=_checkpoint(Checkpoint.DAILY_METRICS),
            head_position=head_position,
        )
        .values_list(
            "generation_id",
            "generation__from_time",
            "read_models",
            "daily_metrics",
            "head_position",
        )
    )


@functools.cache
def _snapshot_sql(vendor: str) -> tuple[str, tuple]:
    # Every read starts here: compiling this ORM query (three subqueries) cost four times
    # what the database spends on it, so it is compiled once per process.
    return _snapshot_query().query.sql_with_params()


def snapshot_current() -> Snapshot:
    """The active generation and its checkpoints, in one query (0 before the first event)."""
    sql, params = _snapshot_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        position = StoredEvent.objects.aggregate(p=Max("position"))["p"] or 0
        return Snapshot(generation=0, from_time=None, positions={}, head_position=position)
    generation, from_time, read_models, daily_metrics, position = row
    # What the ORM would have done to the value (SQLite hands back a naive datetime).
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    if convert is not None:
        from_time = convert(from_time, None, connection)
    return Snapshot(
        generation=generation,
        from_time=from_time,
        positions={
            Checkpoint.READ_MODELS: read_models or 0,
            Checkpoint.DAILY_METRICS: daily_metrics or 0,
        },
        head_position=position or 0,
    )


def _video_rows(snapshot: Snapshot, video_ids: list[int]) -> list[VideoStats]:
    """The videos' rows in the order asked, a row of zeros for a video nobody watched."""
    found = {
        row.video_id: row
        for row in VideoStats.objects.filter(generation=snapshot.generation, video_id__in=video_ids)
    }
    return [found.get(video_id) or VideoStats(video_id=video_id) for video_id in video_ids]


def video_stats_row(*, video_id: int, snapshot: Snapshot | None = None):
    """A video's figures and the projection's freshness (`responses.VideoStatsReadSerializer`)."""
    snapshot = snapshot or snapshot_current()
    (row,) = _video_rows(snapshot, [video_id])
    row.freshness = snapshot.freshness(Checkpoint.READ_MODELS)
    return row


def video_stats_get(*, video_id: int, snapshot: Snapshot | None = None) -> dict:
    row = video_stats_row(video_id=video_id, snapshot=snapshot)
    return responses.VideoStatsReadSerializer(row).data


def video_stats_list(*, video_ids: list[int], snapshot: Snapshot | None = None) -> dict:
    """Stats of several videos from one snapshot (zeros for a video nobody watched)."""
    snapshot = snapshot or snapshot_current()
    return responses.VideoStatsListSerializer(
        {
            "videos": _video_rows(snapshot, video_ids),
            "freshness": snapshot.freshness(Checkpoint.READ_MODELS),
        }
    ).data


def user_profile_active(user_id: int) -> bool:
    snapshot = snapshot_current()
    return UserStats.objects.filter(
        generation=snapshot.generation, user_id=user_id, profile_active=True
    ).exists()


def user_history_get(
    *, user_id: int, limit: int = 50, offset: int = 0, snapshot: Snapshot | None = None
) -> dict:
    """The user's totals and their views newest first (deleted users keep no history)."""
    snapshot = snapshot or snapshot_current()
    g = snapshot.generation
    user = UserStats.objects.filter(generation=g, user_id=user_id).first()
    user = user or UserStats(user_id=user_id)
    titles = VideoStats.objects.filter(generation=g, video_id=OuterRef("video_id")).values("title")
    user.history = (
        ViewRecord.objects.filter(generation=g, user_id=user_id)
        .annotate(title=Coalesce(Subquery(titles[:1]), Value("")))
        .order_by("-position")[offset : offset + limit]
    )
    user.limit, user.offset = limit, offset
    user.freshness = snapshot.freshness(Checkpoint.READ_MODELS)
    return responses.UserHistorySerializer(user).data


def _platform_row(snapshot: Snapshot) -> PlatformStats:
    """The platform's figures, with the videos watched at least once and their freshness."""
    g = snapshot.generation
    row = PlatformStats.objects.filter(generation=g).first()
    viewed = VideoStats.objects.filter(generation=g, views__gt=0).count() if row else 0
    row = row or PlatformStats()
    row.videos_viewed = viewed
    row.freshness = snapshot.freshness(Checkpoint.READ_MODELS)
    return row


def platform_stats_get(*, snapshot: Snapshot | None = None) -> dict:
    return responses.PlatformStatsSerializer(_platform_row(snapshot or snapshot_current())).data


TOP_ORDER = {
    "views": ["-views", "-watch_seconds", "video_id"],
    "watchTime": ["-watch_seconds", "-views", "video_id"],
    "revenue": ["-revenue", "-views", "video_id"],
}


def video_top_list(*, by: str, limit: int, snapshot: Snapshot) -> list[VideoStats]:
    """The best videos by views, watch time or revenue; deleted videos are left out."""
    return list(
        VideoStats.objects.filter(generation=snapshot.generation)
        .exclude(status="deleted")
        .order_by(*TOP_ORDER[by])[:limit]
    )


def top_videos_get(*, by: str = "views", limit: int = 10, snapshot: Snapshot | None = None):
    snapshot = snapshot or snapshot_current()
    videos = video_top_list(by=by, limit=limit, snapshot=snapshot)
    return responses.TopVideosSerializer({"videos": videos, "limit": limit, "by": by}).data


# The original's revenue windows: today, the last 7 and the last 30 UTC days.
REVENUE_WINDOWS = {"daily": 1, "weekly": 7, "monthly": 30}


def revenue_windows(*, today: date, generation: int) -> dict:
    since = today - timedelta(days=max(REVENUE_WINDOWS.values()) - 1)
    by_day = dict(
        DailyMetric.objects.filter(
            generation=generation, day__gte=since, day__lte=today
        ).values_list("day", "revenue")
    )
    return {
        name: sum(r for day, r in by_day.items() if day > today - timedelta(days=days))
        for name, days in REVENUE_WINDOWS.items()
    }


def revenue_get(
    *, today: date, limit: int = 10, offset: int = 0, snapshot: Snapshot | None = None
) -> dict:
    snapshot = snapshot or snapshot_current()
    by_video = VideoStats.objects.filter(generation=snapshot.generation, revenue__gt=0).order_by(
        "-revenue", "video_id"
    )[offset : offset + limit]
    return responses.RevenueSerializer(
        {
            "platform": _platform_row(snapshot),
            "windows": revenue_windows(today=today, generation=snapshot.generation),
            "by_video": by_video,
        }
    ).data


def _report(*, period: str, start: date, end: date, snapshot: Snapshot) -> dict:
    """Figures per UTC day, ISO week or calendar month between `start` and `end` inclusive.

    Viewers are distinct users within each bucket (not the sum of the daily counts).
    """
    g = snapshot.generation
    buckets = periods.report_buckets(period=period, start=start, end=end)
    first, last = buckets[0], periods.next_bucket(period, buckets[-1]) - timedelta(days=1)
    sums = {
        b: {"views": 0, "watchTime": 0, "revenue": 0, "deposits": 0, "newUsers": 0, "streams": 0}
        for b in buckets
    }
    for row in DailyMetric.objects.filter(generation=g, day__gte=first, day__lte=last):
        figures = sums[periods.bucket_start(period, row.day)]
        figures["views"] += row.views
        figures["watchTime"] += row.watch_seconds
        figures["revenue"] += row.revenue
        figures["deposits"] += row.deposits
        figures["newUsers"] += row.new_users
        figures["streams"] += row.streams_started
    viewers = DailyViewer.objects.filter(generation=g, day__gte=first, day__lte=last)
    if period == "daily":
        counted = viewers.values("day").annotate(n=Count("user_id")).values_list("day", "n")
    else:
        trunc = TruncWeek if period == "weekly" else TruncMonth
        counted = (
            viewers.annotate(bucket=trunc("day"))
            .values("bucket")
            .annotate(n=Count("user_id", distinct=True))
            .values_list("bucket", "n")
        )
    distinct = {(b.date() if hasattr(b, "date") else b): n for b, n in counted}
    rows = [
        {
            "period": periods.bucket_label(period, b),
            "start": b,
            "end": periods.next_bucket(period, b) - timedelta(days=1),
            **sums[b],
            "uniqueViewers": distinct.get(b, 0),
        }
        for b in buckets
    ]
    totals = {key: sum(r[key] for r in rows) for key in sums[buckets[0]]}
    totals["uniqueViewers"] = viewers.values("user_id").distinct().count()
    return {"period": period, "first": first, "last": last, "rows": rows, "totals": totals}


def report_get(*, period: str, start: date, end: date, snapshot: Snapshot | None = None) -> dict:
    snapshot = snapshot or snapshot_current()
    report = _report(period=period, start=start, end=end, snapshot=snapshot)
    report["freshness"] = snapshot.freshness(Checkpoint.DAILY_METRICS)
    return responses.PeriodReportSerializer(report).data


def dashboard_get(*, today: date, snapshot: Snapshot | None = None) -> dict:
    snapshot = snapshot or snapshot_current()
    last_week = _report(
        period="daily", start=today - timedelta(days=6), end=today, snapshot=snapshot
    )
    return responses.DashboardSerializer(
        {
            "platform": _platform_row(snapshot),
            "top_videos": video_top_list(by="views", limit=5, snapshot=snapshot),
            "last_week": last_week["rows"],
            "freshness": {
                Checkpoint.READ_MODELS: snapshot.freshness(Checkpoint.READ_MODELS),
                Checkpoint.DAILY_METRICS: snapshot.freshness(Checkpoint.DAILY_METRICS),
            },
        }
    ).data
