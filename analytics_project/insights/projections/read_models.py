"""The `ReadModels` projector: video stats, viewers, user stats and history, platform totals."""

from types import SimpleNamespace

from insights.bulk import rows_insert
from insights.event_specs import CATALOG, PAYMENT_TYPES
from insights.models import PlatformStats, UserStats, VideoStats, VideoViewer, ViewRecord
from insights.projections.base import Projector
from insights.projections.rows import Table, insert_new, integer, number, text

VIEW_FIELDS = ("generation", "position", "user_id", "video_id", "session_id", "watch_seconds",
               "occurred_at")  # fmt: skip

VIDEOS = Table(VideoStats, ["generation", "video_id"])
USERS = Table(UserStats, ["generation", "user_id"])
PLATFORM = Table(PlatformStats, ["generation"])


def _user_id(e) -> int | None:
    return e.payload["userId"] if "userId" in CATALOG[e.type].ids else None


def _video_id(e) -> int | None:
    if "videoId" in CATALOG[e.type].ids:
        return e.payload["videoId"]
    if e.type in PAYMENT_TYPES:
        return e.payload.get("videoId") or None  # optional; 0 and null mean "no video"
    return None


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
        "payment.refunded": "on_refund",
        "wallet.credited": "on_wallet_credited",
    }

    def __init__(self, generation: int, *, complete: bool, from_time=None):
        super().__init__(generation, complete=complete, from_time=from_time)
        self.videos: dict[int, SimpleNamespace] = {}
        self.users: dict[int, SimpleNamespace] = {}
        self.viewers: set[tuple[int, int]] = set()
        self.platform: SimpleNamespace | None = None
        self._dirty_videos: set[int] = set()
        self._dirty_users: set[int] = set()
        self._maybe_new_viewers: list[tuple[int, int]] = []
        self._new_views: list[tuple] = []
        self._forgotten_users: set[int] = set()
        self._finishing = False

    # loading and writing

    def prefetch(self, events: list) -> None:
        g = self.generation
        missing_videos = {v for e in events if (v := _video_id(e))} - self.videos.keys()
        if missing_videos:
            for row in VIDEOS.load(generation=g, video_id__in=missing_videos):
                self.videos[row.video_id] = row
        missing_users = {u for e in events if (u := _user_id(e))} - self.users.keys()
        if missing_users:
            for row in USERS.load(generation=g, user_id__in=missing_users):
                self.users[row.user_id] = row
        if self.platform is None:
            self.platform = next(iter(PLATFORM.load(generation=g)), None)

    def flush(self) -> None:
        g = self.generation
        if self._forgotten_users:
            ViewRecord.objects.filter(generation=g, user_id__in=self._forgotten_users).delete()
            self._forgotten_users.clear()
        rows_insert(ViewRecord, VIEW_FIELDS, self._new_views)
        self._new_views = []
        pairs, self._maybe_new_viewers = self._maybe_new_viewers, []
        for video_id, _user_id in insert_new(VideoViewer, ("video_id", "user_id"), g, pairs):
            self.video(video_id).unique_viewers += 1
        if self.complete and not self._finishing:
            # Aggregates of a generation under construction are written once, at the end.
            return
        VIDEOS.write(self.videos[i] for i in self._dirty_videos)
        USERS.write(self.users[i] for i in self._dirty_users)
        if self.platform is not None:
            PLATFORM.write([self.platform])
        self._dirty_videos.clear()
        self._dirty_users.clear()

    def finish(self) -> None:
        """Write the aggregates a complete (replay) projector kept in memory."""
        self._finishing = True
        self.flush()

    # row access

    def video(self, video_id: int) -> SimpleNamespace:
        row = self.videos.get(video_id)
        if row is None:
            row = self.videos[video_id] = VIDEOS.new(generation=self.generation, video_id=video_id)
        self._dirty_videos.add(video_id)
        return row

    def user(self, user_id: int) -> SimpleNamespace:
        row = self.users.get(user_id)
        if row is None:
            row = self.users[user_id] = USERS.new(generation=self.generation, user_id=user_id)
        self._dirty_users.add(user_id)
        return row

    def totals(self) -> SimpleNamespace:
        if self.platform is None:
            self.platform = PLATFORM.new(generation=self.generation)
        return self.platform

    # event handlers

    def on_user_registered(self, e) -> None:
        user = self.user(e.payload["userId"])
        user.email = text(e.payload.get("email"), 254) or user.email
        user.first_name = text(e.payload.get("firstName"), 50) or user.first_name
        user.last_name = text(e.payload.get("lastName"), 50) or user.last_name
        user.profile_active = True
        if user.registered_at is None:
            user.registered_at = e.occurred_at
            self.totals().users += 1

    def on_user_logged_in(self, e) -> None:
        self.user(e.payload["userId"]).last_login_at = e.occurred_at
        self.totals().logins += 1

    def on_user_deleted(self, e) -> None:
        """Forget who the user was and what they watched; the anonymous counts stay."""
        user_id = e.payload["userId"]
        user = self.user(user_id)
        if user.registered_at is not None and user.deleted_at is None:
            self.totals().users -= 1
        user.deleted_at = e.occurred_at
        user.profile_active = False
        user.email = user.first_name = user.last_name = ""
        self._new_views = [v for v in self._new_views if v[2] != user_id]
        self._forgotten_users.add(user_id)

    def on_profile_created(self, e) -> None:
        user = self.user(e.payload["userId"])
        user.profile_active = True
        user.email = text(e.payload.get("email"), 254) or user.email

    def on_profile_deleted(self, e) -> None:
        self.user(e.payload["userId"]).profile_active = False

    def _describe_video(self, video: SimpleNamespace, data: dict) -> None:
        video.title = text(data.get("title"), 255) or video.title
        video.category = text(data.get("category"), 100) or video.category
        for key, attr in (("pricePerMinute", "price_per_minute"), ("uploadedBy", "uploaded_by")):
            if (value := integer(data.get(key))) is not None:
                setattr(video, attr, value)
        if (duration := number(data.get("duration"))) is not None:
            video.duration = duration

    def on_video_uploaded(self, e) -> None:
        video = self.video(e.payload["videoId"])
        self._describe_video(video, e.payload)
        if video.status == "unknown":
            video.status = "processing"

    def on_video_ready(self, e) -> None:
        video = self.video(e.payload["videoId"])
        self._describe_video(video, e.payload)
        if video.status not in ("ready", "deleted"):
            video.status = "ready"
            self.totals().videos += 1

    def on_video_failed(self, e) -> None:
        video = self.video(e.payload["videoId"])
        if video.status != "deleted":
            if video.status == "ready":
                self.totals().videos -= 1
            video.status = "failed"

    def on_video_deleted(self, e) -> None:
        video = self.video(e.payload["videoId"])
        if video.status == "ready":
            self.totals().videos -= 1
        video.status = "deleted"

    def on_stream_started(self, e) -> None:
        self.totals().streams_started += 1

    def on_stream_ended(self, e) -> None:
        self.totals().streams_ended += 1

    def on_view(self, e) -> None:
        """One view: counted on the video, the user and the platform, and kept in history.

        Whether the (video, user) pair is new, and so a unique viewer, is settled at flush.
        """
        video_id, user_id = e.payload["videoId"], e.payload["userId"]
        seconds = e.payload["watchSeconds"]
        video, user, totals = self.video(video_id), self.user(user_id), self.totals()
        video.views += 1
        video.watch_seconds += seconds
        video.last_viewed_at = max(filter(None, [video.last_viewed_at, e.occurred_at]))
        if (video_id, user_id) not in self.viewers:
            self.viewers.add((video_id, user_id))
            self._maybe_new_viewers.append((video_id, user_id))
        if user.views == 0:
            totals.viewers += 1
        user.views += 1
        user.watch_seconds += seconds
        user.last_viewed_at = max(filter(None, [user.last_viewed_at, e.occurred_at]))
        totals.views += 1
        totals.watch_seconds += seconds
        session_id = text(e.payload.get("sessionId"), 64) or ""
        self._new_views.append(
            (self.generation, e.position, user_id, video_id, session_id, seconds, e.occurred_at)
        )

    def on_payment(self, e) -> None:
        """Billing's charge is the one source of revenue (stream events only echo it)."""
        self._revenue(e, e.payload["amount"])
        self.totals().charges += 1

    def on_refund(self, e) -> None:
        """A refunded charge is revenue given back: what the user spent, the video earned."""
        self._revenue(e, -e.payload["amount"])

    def _revenue(self, e, amount: int) -> None:
        self.user(e.payload["userId"]).amount_spent += amount
        if video_id := _video_id(e):
            self.video(video_id).revenue += amount
        self.totals().revenue += amount

    def on_wallet_credited(self, e) -> None:
        self.user(e.payload["userId"]).amount_deposited += e.payload["amount"]
        self.totals().deposits += e.payload["amount"]
