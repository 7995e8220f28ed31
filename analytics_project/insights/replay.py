"""Rebuilding the read models from the event store into a new generation, and dropping the
generations no reader needs any more."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from insights import services, sql_projection
from insights.models import (
    Checkpoint,
    DailyMetric,
    DailyViewer,
    Generation,
    PlatformStats,
    UserStats,
    VideoStats,
    VideoViewer,
    ViewRecord,
)
from insights.projections import DailyMetrics, ReadModels

logger = logging.getLogger(__name__)

READ_MODEL_TABLES = (VideoStats, VideoViewer, UserStats, ViewRecord, PlatformStats)
DAILY_TABLES = (DailyMetric, DailyViewer)


class ReplaySuperseded(DomainError):
    """A newer replay started while this one was building; this one's generation is dropped."""

    status, message = 409, "A newer replay started and superseded this one"


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


def _replay_by_projectors(generation: Generation, *, upto: int, batch_size: int) -> int:
    """Fold the store up to `upto` into the empty `generation` with the Python projectors."""
    from_time = generation.from_time
    read_models = ReadModels(generation.id, complete=True, from_time=from_time)
    daily = DailyMetrics(generation.id, complete=True, from_time=from_time)
    position = replayed = 0
    while events := services.events_between(position, upto, from_time, batch_size):
        with transaction.atomic():
            replayed += read_models.project(events)
            daily.project(events)
        position = events[-1].position
    with transaction.atomic():
        read_models.finish()
    return replayed


def _apply_range(
    generation: Generation, *, after: int, upto: int, batch_size: int, set_based: bool
) -> int:
    """Apply the events in (after, upto] to a generation that has rows already."""
    from_time = generation.from_time
    if set_based:
        return sql_projection.range_project(
            generation=generation.id, after=after, upto=upto, from_time=from_time
        )
    replayed = 0
    while events := services.events_between(after, upto, from_time, batch_size):
        replayed += ReadModels(generation.id, complete=False, from_time=from_time).project(events)
        DailyMetrics(generation.id, complete=False, from_time=from_time).project(events)
        after = events[-1].position
    return replayed


def replay_run(
    *, from_time: datetime | None = None, batch_size: int = 5000, set_based: bool | None = None
) -> ReplayResult:
    """Rebuild every read model from the event store into a new generation, then switch to it.

    Readers keep reading the active generation while the new one is built: by SQL aggregates
    over the whole store on PostgreSQL (`sql_projection.generation_build`; `set_based=False`
    forces the other way), by the projectors in batches elsewhere. Events stored meanwhile are
    then applied incrementally, the last of them in the transaction that switches the head with
    the projector lock held, so the new generation is complete and current the moment it
    becomes visible. With `from_time`, only events that occurred at or after it count (in this
    generation and in every event appended to it later). A replay started meanwhile
    supersedes this one.
    """
    started = time.monotonic()
    set_based = services.by_sql(set_based)
    with transaction.atomic():
        Generation.objects.filter(status=Generation.Status.BUILDING).update(
            status=Generation.Status.ABANDONED
        )
        generation = services.generation_start(
            status=Generation.Status.BUILDING, from_time=from_time
        )
    try:
        position = services.store_horizon()
        if set_based:
            replayed = sql_projection.generation_build(
                generation=generation.pk, upto=position, from_time=from_time
            )
        else:
            replayed = _replay_by_projectors(generation, upto=position, batch_size=batch_size)
        # What was stored during the build is applied outside the lock while there is much of
        # it, so that the switch below holds the projector lock only briefly.
        while (horizon := services.store_horizon()) - position > batch_size:
            with transaction.atomic():
                replayed += _apply_range(
                    generation,
                    after=position,
                    upto=horizon,
                    batch_size=batch_size,
                    set_based=set_based,
                )
            position = horizon
        with transaction.atomic():
            head = services.head_locked()
            current = Generation.objects.select_for_update().get(pk=generation.pk)
            if current.status != Generation.Status.BUILDING:
                raise ReplaySuperseded(f"generation {generation.pk} was superseded")
            # The live projector may have gone past `horizon` (it took a later one): follow it.
            live = Checkpoint.objects.get(
                generation=head.generation_id, projector=Checkpoint.READ_MODELS
            ).position
            target = max(horizon, live)
            replayed += _apply_range(
                current, after=position, upto=target, batch_size=batch_size, set_based=set_based
            )
            Checkpoint.objects.filter(generation=current).update(
                position=target, updated_at=timezone.now()
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
            services.projections_advanced_publish(generation=current.pk, position=target)
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
        position=target,
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
