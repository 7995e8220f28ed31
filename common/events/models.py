from django.db import models


class OutboxEvent(models.Model):
    """An event written in the same transaction as the change it reports; the relay sends it."""

    id = models.UUIDField(primary_key=True)
    type = models.CharField(max_length=100, db_index=True)
    envelope = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(published_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self):
        return f"{self.type} {self.id}"

    @property
    def state(self) -> str:
        return "sent" if self.published_at else "pending"


class InboxEvent(models.Model):
    """An event this service has applied; its id in this table makes redelivery a no-op."""

    event_id = models.UUIDField(primary_key=True)
    type = models.CharField(max_length=100, db_index=True)
    source = models.CharField(max_length=200)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-applied_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class DeadLetter(models.Model):
    """An event whose handler kept failing; it also sits in this service's dead-letter queue."""

    event_id = models.UUIDField(db_index=True)
    type = models.CharField(max_length=100)
    envelope = models.JSONField()
    error = models.TextField()
    attempts = models.PositiveIntegerField()
    failed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"
