from pathlib import PurePath

from django.db import models
from django.db.models import Q


class VideoStatus(models.TextChoices):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Video(models.Model):
    """A catalog entry and where its media lives (paths relative to the shared MEDIA_ROOT).

    A video is `ready` only with a probed duration, a thumbnail, an HLS playlist and a
    progressive MP4: the database refuses anything less, so no reader ever sees half a video.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=50, db_index=True)
    price_per_minute = models.PositiveIntegerField(help_text="cents per started minute")
    # The user id from auth's token; auth's table lives in another database.
    uploaded_by = models.BigIntegerField(db_index=True)
    status = models.CharField(
        max_length=20, choices=VideoStatus.choices, default=VideoStatus.PROCESSING
    )
    processing_error = models.TextField(blank=True, default="")
    processing_attempts = models.PositiveIntegerField(default=0)
    processing_seconds = models.FloatField(null=True, blank=True)

    size_bytes = models.BigIntegerField(default=0)
    duration = models.FloatField(null=True, blank=True, help_text="seconds, probed")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    container = models.CharField(max_length=100, blank=True, default="")
    video_codec = models.CharField(max_length=50, blank=True, default="")
    audio_codec = models.CharField(max_length=50, blank=True, default="")

    source_path = models.CharField(max_length=500, blank=True, default="")
    media_path = models.CharField(
        max_length=500, blank=True, default="", help_text="progressive MP4 rendition"
    )
    hls_path = models.CharField(max_length=500, blank=True, default="", help_text="HLS master")
    thumbnail_path = models.CharField(max_length=500, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="catalog_status_created_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=VideoStatus.READY)
                | (Q(duration__gt=0) & ~Q(media_path="") & ~Q(hls_path="") & ~Q(thumbnail_path="")),
                name="catalog_video_ready_is_complete",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.status})"

    @property
    def filename(self) -> str:
        """The file a player is served: the playable MP4 once ready, the upload before."""
        return PurePath(self.media_path or self.source_path).name

    @property
    def thumbnail_url(self) -> str | None:
        return f"/api/videos/{self.id}/thumbnail" if self.thumbnail_path else None


class CatalogVersion(models.Model):
    """One row whose token changes in the transaction of every change to any video.

    Readers that cache what they built from the catalog key it by this token: a page built
    before a change is never served after the change commits. A random token rather than a
    counter, so a table emptied and refilled never repeats an old version.
    """

    token = models.CharField(max_length=32)

    def __str__(self):
        return f"catalog version {self.token}"
