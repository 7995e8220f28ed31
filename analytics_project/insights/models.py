"""The event store (append-only) and the read models derived from it.

Every read model row carries the `generation` it belongs to. Readers look up the active
generation in `ProjectionHead` and read only its rows; a replay builds the next generation
beside it and switches the head in one transaction, so nobody reads a half-built model.
"""

from django.db import models
from django.utils import timezone


class StoredEvent(models.Model):
    """One fact analytics learned: a bus event it consumes or a command it accepted itself.

    Append-only: code inserts rows and never updates or deletes them (on PostgreSQL a trigger
    refuses it as well). `position`, drawn from the table's sequence, is the order in which
    events are projected.
    """

    position = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True)
    type = models.CharField(max_length=100, db_index=True)
    source = models.CharField(max_length=200)
    aggregate_type = models.CharField(max_length=30)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField()
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    correlation_id = models.CharField(max_length=64, blank=True, default="")
    # The trace the event was published in: its projection is traced there too.
    traceparent = models.CharField(max_length=55, blank=True, default="")

    class Meta:
        ordering = ["position"]
        indexes = [models.Index(fields=["aggregate_type", "aggregate_id"])]

    def __str__(self):
        return f"#{self.position} {self.type} {self.aggregate_type}:{self.aggregate_id}"


class Generation(models.Model):
    """One complete set of read models; exactly one is active at a time."""

    class Status(models.TextChoices):
        BUILDING = "building"
        ACTIVE = "active"
        RETIRED = "retired"
        ABANDONED = "abandoned"

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BUILDING)
    from_time = models.DateTimeField(
        null=True, blank=True, help_text="Only events that occurred at or after this time count."
    )
    started_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    events_replayed = models.BigIntegerField(default=0)
    duration_ms = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="active"),
                name="insights_one_active_generation",
            )
        ]

    def __str__(self):
        return f"generation {self.id} ({self.status})"


class ProjectionHead(models.Model):
    """The single row the projector locks: one projector at a time; names the active generation.

    Appends never take it (see `services.store_horizon` for how the projector still never
    skips a position that becomes visible late).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    generation = models.ForeignKey(Generation, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"head -> generation {self.generation_id}"


class Checkpoint(models.Model):
    """How far a projector has applied the event store into one generation."""

    READ_MODELS = "read_models"
    DAILY_METRICS = "daily_metrics"

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="checkpoints")
    projector = models.CharField(max_length=30)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "projector"], name="insights_checkpoint_unique"
            )
        ]

    def __str__(self):
        return f"{self.projector}@{self.position} (generation {self.generation_id})"


def average(total: int, count: int) -> float:
    return round(total / count, 2) if count else 0.0


# Read models. `generation` is a plain integer (not a foreign key) so that dropping a retired
# generation is one DELETE per table rather than an ORM cascade over millions of rows.


class VideoStats(models.Model):
    generation = models.PositiveIntegerField()
    video_id = models.BigIntegerField()
    title = models.CharField(max_length=255, blank=True, default="")
    category = models.CharField(max_length=100, blank=True, default="")
    duration = models.FloatField(null=True, blank=True)
    price_per_minute = models.BigIntegerField(null=True, blank=True)
    uploaded_by = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, default="unknown")
    views = models.BigIntegerField(default=0)
    unique_viewers = models.BigIntegerField(default=0)
    watch_seconds = models.BigIntegerField(default=0)
    revenue = models.BigIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "video stats"
        constraints = [
            models.UniqueConstraint(fields=["generation", "video_id"], name="insights_video_unique")
        ]

    def __str__(self):
        return f"video {self.video_id} (generation {self.generation})"

    @property
    def average_watch_seconds(self) -> float:
        return average(self.watch_seconds, self.views)

    @property
    def completion_rate(self) -> float:
        """The share of the video an average view watched, 0..1."""
        if not self.views or not self.duration:
            return 0.0
        return round(min(1.0, self.watch_seconds / (self.views * self.duration)), 2)


class VideoViewer(models.Model):
    """(video, user) pairs seen so far: what makes `unique_viewers` a count of distinct users."""

    generation = models.PositiveIntegerField()
    video_id = models.BigIntegerField()
    user_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "video_id", "user_id"], name="insights_viewer_unique"
            )
        ]

    def __str__(self):
        return f"video {self.video_id} seen by user {self.user_id}"


class UserStats(models.Model):
    """A user's viewer profile (created by registration or the saga) and their totals."""

    generation = models.PositiveIntegerField()
    user_id = models.BigIntegerField()
    email = models.CharField(max_length=254, blank=True, default="")
    first_name = models.CharField(max_length=50, blank=True, default="")
    last_name = models.CharField(max_length=50, blank=True, default="")
    profile_active = models.BooleanField(default=False)
    registered_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    views = models.BigIntegerField(default=0)
    watch_seconds = models.BigIntegerField(default=0)
    amount_spent = models.BigIntegerField(default=0)
    amount_deposited = models.BigIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "user stats"
        constraints = [
            models.UniqueConstraint(fields=["generation", "user_id"], name="insights_user_unique")
        ]

    def __str__(self):
        return f"user {self.user_id} (generation {self.generation})"

    @property
    def average_watch_seconds(self) -> float:
        return average(self.watch_seconds, self.views)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


class ViewRecord(models.Model):
    """One view in a user's history (dropped when the user is deleted; the counts stay)."""

    generation = models.PositiveIntegerField()
    position = models.BigIntegerField()
    user_id = models.BigIntegerField()
    video_id = models.BigIntegerField()
    session_id = models.CharField(max_length=64, blank=True, default="")
    watch_seconds = models.BigIntegerField()
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "position"], name="insights_viewrecord_unique"
            )
        ]
        indexes = [
            models.Index(fields=["generation", "user_id", "-position"], name="insights_history")
        ]

    def __str__(self):
        return f"user {self.user_id} watched video {self.video_id}"


class PlatformStats(models.Model):
    generation = models.PositiveIntegerField(unique=True)
    users = models.BigIntegerField(default=0)
    videos = models.BigIntegerField(default=0)
    viewers = models.BigIntegerField(default=0)
    views = models.BigIntegerField(default=0)
    watch_seconds = models.BigIntegerField(default=0)
    revenue = models.BigIntegerField(default=0)
    charges = models.BigIntegerField(default=0, help_text="payments that made the revenue")
    deposits = models.BigIntegerField(default=0)
    streams_started = models.BigIntegerField(default=0)
    streams_ended = models.BigIntegerField(default=0)
    logins = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "platform stats"

    def __str__(self):
        return f"platform (generation {self.generation})"

    @property
    def average_watch_seconds(self) -> float:
        return average(self.watch_seconds, self.views)

    @property
    def active_streams(self) -> int:
        return max(self.streams_started - self.streams_ended, 0)


class DailyMetric(models.Model):
    """Per UTC day figures (the period reports), projected with the read models."""

    generation = models.PositiveIntegerField()
    day = models.DateField()
    views = models.BigIntegerField(default=0)
    viewers = models.BigIntegerField(default=0)
    watch_seconds = models.BigIntegerField(default=0)
    revenue = models.BigIntegerField(default=0)
    deposits = models.BigIntegerField(default=0)
    new_users = models.BigIntegerField(default=0)
    streams_started = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "day"], name="insights_daily_unique")
        ]

    def __str__(self):
        return f"{self.day} (generation {self.generation})"


class DailyViewer(models.Model):
    """(day, user) pairs: distinct viewers per day, and per week or month by counting distinct."""

    generation = models.PositiveIntegerField()
    day = models.DateField()
    user_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "day", "user_id"], name="insights_dailyviewer_unique"
            )
        ]

    def __str__(self):
        return f"{self.day} viewer {self.user_id}"
