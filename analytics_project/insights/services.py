"""Writes: append to the event store, keep the read models in step, rebuild them by replay."""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from insights.catalog import event_aggregate, event_normalize, event_occurred_at
from insights.models import (
    Checkpoint,
    DailyMetric,
    DailyViewer,
    Generation,
    PlatformStats,
    ProjectionHead,
    StoredEvent,
    UserStats,
    VideoStats,
    VideoViewer,
    ViewRecord,
)
from insights.projections import DailyMetrics, ReadModels

logger = logging.getLogger(__name__)

# Ids of the commands analytics accepts itself are derived from what makes them unique, so
# a retried saga step or a repeated Idempotency-Key appends nothing the second time.
COMMAND_NAMESPACE = uuid.UUID("0b7f3c52-5d0e-4a57-9a55-3e0c1f0b8a61")
CATCH_UP_SCHEDULED_KEY = "insights:daily-catch-up-scheduled"
READ_MODEL_TABLES = (VideoStats, VideoViewer, UserStats, ViewRecord, PlatformStats)
DAILY_TABLES = (DailyMetric, DailyViewer)


class ReplaySuperseded(Exception):
    """A newer replay started while this one was building; this one's generation is dropped."""


# the head and the active generation


def _generation_start(*, status: str, from_time: datetime | None = None) -> Generation:
    generation = Generation.objects.create(
        status=status,
        from_time=from_time,
        activated_at=timezone.now() if status == Generation.Status.ACTIVE else None,
    )
    Checkpoint.objects.bulk_create(
        Checkpoint(generation=generation, projector=name)
        for name in (Checkpoint.READ_MODELS, Checkpoint.DAILY_METRICS)
    )
    return generation


def _head_locked() -> ProjectionHead:
    """Lock the head row (creating generation 1 on first use); appends queue up behind it."""
    head = ProjectionHead.objects.select_for_update().select_related("generation").first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            generation = _generation_start(status=Generation.Status.ACTIVE)
            ProjectionHead.objects.create(pk=1, generation=generation)
    except IntegrityError:
        pass  # another process bootstrapped first; its head is the head
    return ProjectionHead.objects.select_for_update().select_related("generation").get(pk=1)


# appending


def event_append(
    *,
    event_id: str | uuid.UUID,
    type: str,
    data: dict,
    source: str,
    envelope_time: str = "",
    correlation_id: str = "",
) -> tuple[StoredEvent, bool]:
    """Store the event once and apply it to the active read models in the same transaction.

    Returns the stored event and whether it is new; an event id seen before appends nothing.
    Raises `InvalidEvent` (a ValueError) for a payload that breaks its contract.
    """
    payload = event_normalize(type=type, data=data)
    aggregate_type, aggregate_id = event_aggregate(type=type, payload=payload)
    occurred_at = event_occurred_at(
        type=type, payload=payload, envelope_time=envelope_time, default=timezone.now()
    )
    with transaction.atomic():
        head = _head_locked()
        existing = StoredEvent.objects.filter(event_id=event_id).first()
        if existing is not None:
            return existing, False
        event = StoredEvent.objects.create(
            event_id=event_id,
            type=type,
            source=source[:200],
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload,
            occurred_at=occurred_at,
            correlation_id=str(correlation_id or "")[:64],
        )
        generation = head.generation
        ReadModels(generation.id, complete=False, from_time=generation.from_time).project([event])
        Checkpoint.objects.filter(generation=generation, projector=Checkpoint.READ_MODELS).update(
            position=event.position, updated_at=timezone.now()
        )
        transaction.on_commit(_schedule_daily_catch_up, robust=True)
    return event, True


def _schedule_daily_catch_up() -> None:
    from insights.tasks import daily_metrics_catch_up

    # One queued catch-up at a time is enough: it drains everything committed before it runs.
    if cache.add(CATCH_UP_SCHEDULED_KEY, 1, timeout=10):
        daily_metrics_catch_up.delay()


def view_record(
    *, user_id: int, video_id: int, watch_seconds: int, idempotency_key: str | None = None
) -> StoredEvent:
    """Record that `user_id` watched `video_id`; the same Idempotency-Key records it once."""
    event_id = (
        uuid.uuid5(COMMAND_NAMESPACE, f"view:{user_id}:{idempotency_key}")
        if idempotency_key
        else uuid.uuid4()
    )
    event, _ = event_append(
        event_id=event_id,
        type="analytics.view_recorded",
        data={"userId": user_id, "videoId": video_id, "watchSeconds": watch_seconds},
        source=settings.EVENTS_SOURCE,
    )
    return event


def profile_create(*, saga_id: str, user_id: int, email: str) -> bool:
    """Give `user_id` an active viewer profile; the same saga creates it once."""
    event_append(
        event_id=uuid.uuid5(COMMAND_NAMESPACE, f"saga:{saga_id}:profile_created"),
        type="analytics.profile_created",
        data={"userId": user_id, "email": email, "sagaId": str(saga_id)},
        source=settings.EVENTS_SOURCE,
        correlation_id=str(saga_id),
    )
    return True


def profile_delete(*, saga_id: str, user_id: int) -> bool:
    """Deactivate the profile (saga compensation); return whether one was active.

    The answer is stored in the command event, so a retried compensation repeats it.
    """
    from insights.selectors import user_profile_active

    event_id = uuid.uuid5(COMMAND_NAMESPACE, f"saga:{saga_id}:profile_deleted")
    previous = StoredEvent.objects.filter(event_id=event_id).first()
    if previous is not None:
        return bool(previous.payload["existed"])
    event, _ = event_append(
        event_id=event_id,
        type="analytics.profile_deleted",
        data={"userId": user_id, "sagaId": str(saga_id), "existed": user_profile_active(user_id)},
        source=settings.EVENTS_SOURCE,
        correlation_id=str(saga_id),
    )
    return bool(event.payload["existed"])


# the lagging projection


def daily_metrics_catch_up(*, batch_size: int = 2000) -> int:
    """Apply the events the read models already hold to the daily metrics; return how many.

    Runs in batches, each in its own transaction with the checkpoint row locked, so two
    catch-ups never apply the same event and a crash loses at most one uncommitted batch.
    """
    applied = 0
    while True:
        with transaction.atomic():
            head = ProjectionHead.objects.select_related("generation").first()
            if head is None:
                return applied
            generation = head.generation
            checkpoint = Checkpoint.objects.select_for_update().get(
                generation=generation, projector=Checkpoint.DAILY_METRICS
            )
            target = Checkpoint.objects.get(
                generation=generation, projector=Checkpoint.READ_MODELS
            ).position
            events = list(
                StoredEvent.objects.filter(
                    position__gt=checkpoint.position, position__lte=target
                ).order_by("position")[:batch_size]
            )
            if not events:
                return applied
            DailyMetrics(generation.id, complete=False, from_time=generation.from_time).project(
                events
            )
            checkpoint.position = events[-1].position
            checkpoint.save(update_fields=["position", "updated_at"])
            applied += len(events)


# replay


@dataclass(frozen=True)
class ReplayResult:
    generation: int
    previous_generation: int
    events_replayed: int
    position: int
    duration_ms: int
    from_time: datetime | None

    @property
    def events_per_second(self) -> float:
        return round(self.events_replayed / max(self.duration_ms, 1) * 1000, 1)


def _events_after(position: int, from_time: datetime | None, limit: int) -> list[StoredEvent]:
    events = StoredEvent.objects.filter(position__gt=position)
    if from_time is not None:
        events = events.filter(occurred_at__gte=from_time)
    return list(events.order_by("position")[:limit])


def replay_run(*, from_time: datetime | None = None, batch_size: int = 5000) -> ReplayResult:
    """Rebuild every read model from the event store into a new generation, then switch to it.

    Readers keep reading the active generation while the new one is built batch by batch;
    the last events are applied and the head switched in one transaction that holds the
    append lock, so the new generation is complete and current the moment it becomes visible.
    With `from_time`, only events that occurred at or after it count (in this generation
    and in every event appended to it later). A replay started meanwhile supersedes this one.
    """
    started = time.monotonic()
    with transaction.atomic():
        Generation.objects.filter(status=Generation.Status.BUILDING).update(
            status=Generation.Status.ABANDONED
        )
        generation = _generation_start(status=Generation.Status.BUILDING, from_time=from_time)
    read_models = ReadModels(generation.id, complete=True, from_time=from_time)
    daily = DailyMetrics(generation.id, complete=True, from_time=from_time)
    position = replayed = 0
    try:
        while events := _events_after(position, from_time, batch_size):
            with transaction.atomic():
                replayed += read_models.project(events)
                daily.project(events)
            position = events[-1].position
            if len(events) < batch_size:
                break
        with transaction.atomic():
            head = _head_locked()
            current = Generation.objects.select_for_update().get(pk=generation.pk)
            if current.status != Generation.Status.BUILDING:
                raise ReplaySuperseded(f"generation {generation.pk} was superseded")
            while events := _events_after(position, from_time, batch_size):
                replayed += read_models.project(events)
                daily.project(events)
                position = events[-1].position
            read_models.finish()
            head_position = StoredEvent.objects.aggregate(p=Max("position"))["p"] or 0
            Checkpoint.objects.filter(generation=current).update(
                position=head_position, updated_at=timezone.now()
            )
            previous = head.generation
            Generation.objects.filter(pk=previous.pk).update(status=Generation.Status.RETIRED)
            current.status = Generation.Status.ACTIVE
            current.activated_at = timezone.now()
            current.events_replayed = replayed
            current.duration_ms = round((time.monotonic() - started) * 1000)
            current.save()
            head.generation = current
            head.save(update_fields=["generation"])
    except Exception:
        generation_drop_rows(generation_ids=[generation.pk])
        Generation.objects.filter(pk=generation.pk, status=Generation.Status.BUILDING).update(
            status=Generation.Status.ABANDONED
        )
        raise
    generations_prune(keep={current.pk, previous.pk})
    logger.info("replayed %d events into generation %d", replayed, current.pk)
    return ReplayResult(
        generation=current.pk,
        previous_generation=previous.pk,
        events_replayed=replayed,
        position=head_position,
        duration_ms=current.duration_ms,
        from_time=from_time,
    )


def generation_drop_rows(*, generation_ids: list[int]) -> None:
    """Delete the read model rows of the given generations (one DELETE per table)."""
    for model in (*READ_MODEL_TABLES, *DAILY_TABLES):
        model.objects.filter(generation__in=generation_ids).delete()


def generations_prune(*, keep: set[int]) -> list[int]:
    """Drop retired and abandoned generations except `keep`.

    The generation just retired is kept until the next replay: a reader that looked up the
    head a moment before the switch still finds every row it expects.
    """
    stale = list(
        Generation.objects.filter(
            status__in=[Generation.Status.RETIRED, Generation.Status.ABANDONED]
        )
        .exclude(pk__in=keep)
        .values_list("pk", flat=True)
    )
    if stale:
        generation_drop_rows(generation_ids=stale)
        Generation.objects.filter(pk__in=stale).delete()
    return stale
