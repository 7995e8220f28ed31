"""Projectors: fold stored events, in position order, into the read models of one generation.

The same code serves both paths, which is what makes "incremental == replay" hold:
- incremental: one event at a time, inside the transaction that appended it (`complete=False`:
  the rows an event touches are loaded first);
- replay: thousands of events per batch into an empty generation (`complete=True`: the
  in-memory state already holds every row of that generation, so nothing is loaded).

`ReadModels` (video stats, viewers, user stats and history, platform totals) is applied in
the append transaction; `DailyMetrics` (the period reports) lags behind and is caught up by a
task, its progress kept in `Checkpoint`.
"""

from datetime import UTC, date

from django.db.models import Q

from insights.catalog import VIEW_TYPES
from insights.models import (
    DailyMetric,
    DailyViewer,
    PlatformStats,
    StoredEvent,
    UserStats,
    VideoStats,
    VideoViewer,
    ViewRecord,
)

VIDEO_FIELDS = [f.name for f in VideoStats._meta.concrete_fields if f.name not in ("id",)]
USER_FIELDS = [f.name for f in UserStats._meta.concrete_fields if f.name not in ("id",)]
PLATFORM_FIELDS = [f.name for f in PlatformStats._meta.concrete_fields if f.name not in ("id",)]
DAILY_FIELDS = [f.name for f in DailyMetric._meta.concrete_fields if f.name not in ("id",)]


def _save_rows(model, rows, fields: list[str]) -> None:
    new = [row for row in rows if row.pk is None]
    old = [row for row in rows if row.pk is not None]
    if new:
        model.objects.bulk_create(new, batch_size=2000)
    if len(old) == 1:
        old[0].save(update_fields=fields)
    elif old:
        model.objects.bulk_update(old, fields, batch_size=500)


class Projector:
    """Shared mechanics; subclasses define `handlers`, `prefetch` and `flush`."""

    handlers: dict[str, str] = {}

    def __init__(self, generation: int, *, complete: bool, from_time=None):
        self.generation = generation
        self.complete = complete
        self.from_time = from_time

    def project(self, events: list[StoredEvent]) -> int:
        """Apply `events` (ascending positions) and write the result; return how many counted."""
        counted = [e for e in events if self.from_time is None or e.occurred_at >= self.from_time]
        if not self.complete:
            self.prefetch(counted)
        for event in counted:
            name = self.handlers.get(event.type)
            if name:
                getattr(self, name)(event)
        self.flush()
        return len(counted)

    def prefetch(self, events: list[StoredEvent]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        raise NotImplementedError


class ReadModels(Projector):
    handlers = {
        "user.registered": "on_user_registered",
        "user.logged_in": "on_user_logged_in",
        "user.deleted": "on_user_deleted",
        "analytics.profile_created": "on_profile_created",
        "analytics.profile_deleted": "on_profile_deleted",
        "video.uploaded": "on_video_uploaded",
        "video.ready": "on_video_ready",
        "video.failed": "on_video_failed",
        "video.deleted": "on_video_deleted",
        "stream.started": "on_stream_started",
        "stream.ended": "on_stream_ended",
        "video.watched": "on_view",
        "analytics.view_recorded": "on_view",
        "payment.processed": "on_payment",
        "wallet.credited": "on_wallet_credited",
    }

    def __init__(self, generation: int, *, complete: bool, from_time=None):
        super().__init__(generation, complete=complete, from_time=from_time)
        self.videos: dict[int, VideoStats] = {}
        self.users: dict[int, UserStats] = {}
        self.viewers: set[tuple[int, int]] = set()
        self.platform: PlatformStats | None = None
        self._dirty_videos: set[int] = set()
        self._dirty_users: set[int] = set()
        self._new_viewers: list[VideoViewer] = []
        self._new_views: list[ViewRecord] = []
        self._forgotten_users: set[int] = set()
        self._finishing = False

    # loading and writing

    def prefetch(self, events: list[StoredEvent]) -> None:
        g = self.generation
        video_ids = {e.payload["videoId"] for e in events if e.payload.get("videoId")}
        user_ids = {e.payload["userId"] for e in events if e.payload.get("userId")}
        pairs = {
            (e.payload["videoId"], e.payload["userId"]) for e in events if e.type in VIEW_TYPES
        }
        missing_videos = video_ids - self.videos.keys()
        if missing_videos:
            for row in VideoStats.objects.filter(generation=g, video_id__in=missing_videos):
                self.videos[row.video_id] = row
        missing_users = user_ids - self.users.keys()
        if missing_users:
            for row in UserStats.objects.filter(generation=g, user_id__in=missing_users):
                self.users[row.user_id] = row
        missing_pairs = pairs - self.viewers
        if missing_pairs:
            match = Q()
            for video_id, user_id in missing_pairs:
                match |= Q(video_id=video_id, user_id=user_id)
            found = VideoViewer.objects.filter(match, generation=g)
            self.viewers.update(found.values_list("video_id", "user_id"))
        if self.platform is None:
            self.platform = PlatformStats.objects.filter(generation=g).first()

    def flush(self) -> None:
        g = self.generation
        if self._forgotten_users:
            ViewRecord.objects.filter(generation=g, user_id__in=self._forgotten_users).delete()
            self._forgotten_users.clear()
        ViewRecord.objects.bulk_create(self._new_views, batch_size=5000)
        VideoViewer.objects.bulk_create(self._new_viewers, batch_size=5000)
        self._new_views, self._new_viewers = [], []
        if self.complete and not self._finishing:
            # Aggregates of a generation under construction are written once, at the end.
            return
        _save_rows(VideoStats, [self.videos[i] for i in self._dirty_videos], VIDEO_FIELDS)
        _save_rows(UserStats, [self.users[i] for i in self._dirty_users], USER_FIELDS)
        if self.platform is not None:
            _save_rows(PlatformStats, [self.platform], PLATFORM_FIELDS)
        self._dirty_videos.clear()
        self._dirty_users.clear()

    def finish(self) -> None:
        """Write the aggregates a complete (replay) projector kept in memory."""
        self._finishing = True
        self.flush()

    # row access

    def video(self, video_id: int) -> VideoStats:
        row = self.videos.get(video_id)
        if row is None:
            row = self.videos[video_id] = VideoStats(generation=self.generation, video_id=video_id)
        self._dirty_videos.add(video_id)
        return row

    def user(self, user_id: int) -> UserStats:
        row = self.users.get(user_id)
        if row is None:
            row = self.users[user_id] = UserStats(generation=self.generation, user_id=user_id)
        self._dirty_users.add(user_id)
        return row

    def totals(self) -> PlatformStats:
        if self.platform is None:
            self.platform = PlatformStats(generation=self.generation)
        return self.platform

    # event handlers

    def on_user_registered(self, e: StoredEvent) -> None:
        user = self.user(e.payload["userId"])
        user.email = str(e.payload.get("email") or user.email)[:254]
        user.first_name = str(e.payload.get("firstName") or user.first_name)[:50]
        user.last_name = str(e.payload.get("lastName") or user.last_name)[:50]
        user.profile_active = True
        if user.registered_at is None:
            user.registered_at = e.occurred_at
            self.totals().users += 1

    def on_user_logged_in(self, e: StoredEvent) -> None:
        self.user(e.payload["userId"]).last_login_at = e.occurred_at
        self.totals().logins += 1

    def on_user_deleted(self, e: StoredEvent) -> None:
        """Forget who the user was and what they watched; the anonymous counts stay."""
        user_id = e.payload["userId"]
        user = self.user(user_id)
        if user.registered_at is not None and user.deleted_at is None:
            self.totals().users -= 1
        user.deleted_at = e.occurred_at
        user.profile_active = False
        user.email = user.first_name = user.last_name = ""
        self._new_views = [v for v in self._new_views if v.user_id != user_id]
        self._forgotten_users.add(user_id)

    def on_profile_created(self, e: StoredEvent) -> None:
        user = self.user(e.payload["userId"])
        user.profile_active = True
        user.email = str(e.payload.get("email") or user.email)[:254]

    def on_profile_deleted(self, e: StoredEvent) -> None:
        self.user(e.payload["userId"]).profile_active = False

    def _describe_video(self, video: VideoStats, data: dict) -> None:
        video.title = str(data.get("title") or video.title)[:255]
        video.category = str(data.get("category") or video.category)[:100]
        for key, attr in (("pricePerMinute", "price_per_minute"), ("uploadedBy", "uploaded_by")):
            if isinstance(data.get(key), int):
                setattr(video, attr, data[key])
        if isinstance(data.get("duration"), int | float):
            video.duration = float(data["duration"])

    def on_video_uploaded(self, e: StoredEvent) -> None:
        video = self.video(e.payload["videoId"])
        self._describe_video(video, e.payload)
        if video.status == "unknown":
            video.status = "processing"

    def on_video_ready(self, e: StoredEvent) -> None:
        video = self.video(e.payload["videoId"])
        self._describe_video(video, e.payload)
        if video.status not in ("ready", "deleted"):
            video.status = "ready"
            self.totals().videos += 1

    def on_video_failed(self, e: StoredEvent) -> None:
        video = self.video(e.payload["videoId"])
        if video.status != "deleted":
            if video.status == "ready":
                self.totals().videos -= 1
            video.status = "failed"

    def on_video_deleted(self, e: StoredEvent) -> None:
        video = self.video(e.payload["videoId"])
        if video.status == "ready":
            self.totals().videos -= 1
        video.status = "deleted"

    def on_stream_started(self, e: StoredEvent) -> None:
        self.totals().streams_started += 1

    def on_stream_ended(self, e: StoredEvent) -> None:
        self.totals().streams_ended += 1

    def on_view(self, e: StoredEvent) -> None:
        """One view: counted on the video, the user and the platform, and kept in history."""
        video_id, user_id = e.payload["videoId"], e.payload["userId"]
        seconds = e.payload["watchSeconds"]
        video, user, totals = self.video(video_id), self.user(user_id), self.totals()
        video.views += 1
        video.watch_seconds += seconds
        video.last_viewed_at = max(filter(None, [video.last_viewed_at, e.occurred_at]))
        if (video_id, user_id) not in self.viewers:
            self.viewers.add((video_id, user_id))
            self._new_viewers.append(
                VideoViewer(generation=self.generation, video_id=video_id, user_id=user_id)
            )
            video.unique_viewers += 1
        if user.views == 0:
            totals.viewers += 1
        user.views += 1
        user.watch_seconds += seconds
        user.last_viewed_at = max(filter(None, [user.last_viewed_at, e.occurred_at]))
        totals.views += 1
        totals.watch_seconds += seconds
        self._new_views.append(
            ViewRecord(
                generation=self.generation,
                position=e.position,
                user_id=user_id,
                video_id=video_id,
                session_id=str(e.payload.get("sessionId") or "")[:64],
                watch_seconds=seconds,
                occurred_at=e.occurred_at,
            )
        )

    def on_payment(self, e: StoredEvent) -> None:
        """Billing's charge is the one source of revenue (stream events only echo it)."""
        amount = e.payload["amount"]
        self.user(e.payload["userId"]).amount_spent += amount
        if e.payload.get("videoId"):
            self.video(e.payload["videoId"]).revenue += amount
        self.totals().revenue += amount

    def on_wallet_credited(self, e: StoredEvent) -> None:
        self.user(e.payload["userId"]).amount_deposited += e.payload["amount"]
        self.totals().deposits += e.payload["amount"]


class DailyMetrics(Projector):
    """Per UTC day figures for the period reports: the projection that is allowed to lag."""

    handlers = {
        "video.watched": "on_view",
        "analytics.view_recorded": "on_view",
        "payment.processed": "on_payment",
        "wallet.credited": "on_wallet_credited",
        "user.registered": "on_user_registered",
        "stream.started": "on_stream_started",
    }

    def __init__(self, generation: int, *, complete: bool, from_time=None):
        super().__init__(generation, complete=complete, from_time=from_time)
        self.days: dict[date, DailyMetric] = {}
        self.day_viewers: set[tuple[date, int]] = set()
        self._dirty: set[date] = set()
        self._new_day_viewers: list[DailyViewer] = []

    def prefetch(self, events: list[StoredEvent]) -> None:
        g = self.generation
        days = {self.day_of(e) for e in events} - self.days.keys()
        if days:
            for row in DailyMetric.objects.filter(generation=g, day__in=days):
                self.days[row.day] = row
        pairs = {(self.day_of(e), e.payload["userId"]) for e in events if e.type in VIEW_TYPES}
        pairs -= self.day_viewers
        if pairs:
            match = Q()
            for day, user_id in pairs:
                match |= Q(day=day, user_id=user_id)
            found = DailyViewer.objects.filter(match, generation=g)
            self.day_viewers.update(found.values_list("day", "user_id"))

    def flush(self) -> None:
        DailyViewer.objects.bulk_create(self._new_day_viewers, batch_size=5000)
        self._new_day_viewers = []
        _save_rows(DailyMetric, [self.days[d] for d in self._dirty], DAILY_FIELDS)
        self._dirty.clear()

    @staticmethod
    def day_of(e: StoredEvent) -> date:
        return e.occurred_at.astimezone(UTC).date()

    def metric(self, e: StoredEvent) -> DailyMetric:
        day = self.day_of(e)
        row = self.days.get(day)
        if row is None:
            row = self.days[day] = DailyMetric(generation=self.generation, day=day)
        self._dirty.add(day)
        return row

    def on_view(self, e: StoredEvent) -> None:
        metric = self.metric(e)
        metric.views += 1
        metric.watch_seconds += e.payload["watchSeconds"]
        key = (metric.day, e.payload["userId"])
        if key not in self.day_viewers:
            self.day_viewers.add(key)
            self._new_day_viewers.append(
                DailyViewer(generation=self.generation, day=key[0], user_id=key[1])
            )
            metric.viewers += 1

    def on_payment(self, e: StoredEvent) -> None:
        self.metric(e).revenue += e.payload["amount"]

    def on_wallet_credited(self, e: StoredEvent) -> None:
        self.metric(e).deposits += e.payload["amount"]

    def on_user_registered(self, e: StoredEvent) -> None:
        self.metric(e).new_users += 1

    def on_stream_started(self, e: StoredEvent) -> None:
        self.metric(e).streams_started += 1
