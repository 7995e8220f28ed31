"""The registration saga's log: one row per saga, one per step or compensation it sent."""

import uuid

from django.db import models


class Saga(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        COMPENSATING = "compensating"
        FAILED = "failed"  # every step undone
        STUCK = "stuck"  # a compensation kept failing: an operator must look

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    email = models.EmailField()
    first_name = models.CharField(max_length=50)
    last_name = models.CharField(max_length=50)
    # Auth's reference to the password it holds for this saga: no password or hash is kept here.
    credential_ref = models.UUIDField(null=True, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    user = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class SagaStep(models.Model):
    class Status(models.TextChoices):
        SENT = "sent"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    saga = models.ForeignKey(Saga, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=32)  # e.g. create_wallet, delete_wallet
    task = models.CharField(max_length=64)  # e.g. billing.saga.create_wallet
    compensation = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENT)
    attempts = models.PositiveSmallIntegerField(default=1)
    task_id = models.CharField(max_length=64, db_index=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["saga", "name"], name="one_row_per_saga_step"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"
