import uuid

from django.db import models


class SessionStatus(models.TextChoices):
    # Row written before the first charge is sent, so a crash in between is found and refunded.
    STARTING = "starting"
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(models.TextChoices):
    USER = "user"
    IDLE = "idle"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    VIDEO_DELETED = "video_deleted"


class SessionNumber(models.Model):
    """Hands out session numbers. Only a primary key is numbered by the database on every
    backend (a sequence on PostgreSQL, AUTOINCREMENT on SQLite, neither ever reused), so the
    numbers come from a table of their own; a row is deleted as soon as its number is taken."""

    id = models.BigAutoField(primary_key=True)

    def __str__(self):
        return f"session number {self.id}"


def session_number_take() -> int:
    number = SessionNumber.objects.create().id
    SessionNumber.objects.filter(id=number).delete()
    return number


class StreamSession(models.Model):
    """One playback of one video by one user; its id (uuid4, 122 random bits) is the capability
    that lets a browser fetch the bytes.

    Billing: minute `m` (1-based) is charged once with the key `<id>:<m>`; `minutes_charged`
    only grows, and the amount charged is always `minutes_charged * price_per_minute`. The video's
    price, duration and media paths are copied at start: the catalog is another service.

    `number` is the session's integer name, for clients of the original system, whose GraphQL
    named a session by an `Int` (docs/compat.md). It names a session to its owner only; it is
    not a capability.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.BigIntegerField(unique=True, editable=False, default=session_number_take)
    user_id = models.BigIntegerField(db_index=True)
    video_id = models.BigIntegerField(db_index=True)
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.STARTING
    )
    price_per_minute = models.PositiveIntegerField()
    duration_seconds = models.FloatField()
    media_path = models.CharField(max_length=500)
    hls_path = models.CharField(max_length=500, blank=True, default="")
    video = models.JSONField(default=dict, help_text="the video's details as shown at start")
    started_at = models.DateTimeField()
    last_heartbeat_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True, default="")
    minutes_charged = models.PositiveIntegerField(default=0)
    last_balance = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["status", "last_heartbeat_at"], name="playback_status_beat_idx"),
            models.Index(fields=["user_id", "status"], name="playback_user_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_seconds__gt=0), name="playback_duration_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ended") | models.Q(ended_at__isnull=False),
                name="playback_ended_has_end_time",
            ),
        ]

    def __str__(self):
        return f"session {self.id} ({self.status})"

    @property
    def amount_charged(self) -> int:
        return self.minutes_charged * self.price_per_minute
