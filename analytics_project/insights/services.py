"""Writes: append to the event store, project it into the read models, rebuild them by replay.

Appending and projecting are two steps:

- `events_append` stores events, any number in one transaction, at positions drawn from the
  table's sequence. Appenders never wait for one another: each holds a *shared* advisory lock
  (`APPEND_LOCK`) from before its insert until its transaction ends.
- `projections_catch_up` is the single ordered writer of the read models: with the head row
  locked, it applies the events after its checkpoints up to the store's safe horizon and moves
  the checkpoints there, in the same transaction as the rows it changed.

The gap problem: a position is drawn when its row is inserted but becomes visible when its
transaction commits, so position 11 can be visible while 10 is still in flight. A projector
that applied 11 and moved its checkpoint past it would never apply 10. `store_horizon` takes
the advisory lock exclusively for an instant: that waits until every append in flight has
committed or rolled back, and appends that start later draw higher positions; the highest
position it then sees is one at or below which no event can appear any more. The projector
reads only up to that horizon, so it never skips an event. On SQLite the database lock
serialises writers, positions commit in order, and the highest position is the horizon.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from common.errors import DomainError
from common.events import publish
from insights import sql_projection
from insights.bulk import rows_insert
from insights.event_specs import event_aggregate, event_normalize, event_occurred_at
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
from insights.projections import DailyMetrics, ReadModels, events_list
from insights.projector import projector_wake

logger = logging.getLogger(__name__)

# Ids of the commands analytics accepts itself are derived from what makes them unique, so
# a retried saga step or a repeated Idempotency-Key appends nothing the second time.
COMMAND_NAMESPACE = uuid.UUID("0b7f3c52-5d0e-4a57-9a55-3e0c1f0b8a61")
READ_MODEL_TABLES = (VideoStats, VideoViewer, UserStats, ViewRecord, PlatformStats)
DAILY_TABLES = (DailyMetric, DailyViewer)
PROJECTORS = {Checkpoint.READ_MODELS: ReadModels, Checkpoint.DAILY_METRICS: DailyMetrics}
# PostgreSQL advisory lock key of event-store appends (any bigint unique to this purpose;
# advisory locks are per database, so other services' keys cannot collide with it).
APPEND_LOCK = 0x616E616C79746963
PROJECTIONS_ADVANCED = "analytics.projections.advanced"


class ReplaySuperseded(DomainError):
    """A newer replay started while this one was building; this one's generation is dropped."""

    status, message = 409, "A newer replay started and superseded this one"


@dataclass(frozen=True)
class NewEvent:
    """An event to store: a bus event or a command analytics accepted."""

    event_id: str | uuid.UUID
    type: str
    data: dict
    source: str
    envelope_time: str = ""
    correlation_id: str = ""


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
    """Lock the head row (creating generation 1 on first use): one projector at a time."""
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


def _append_lock_shared() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [APPEND_LOCK])


def _max_position() -> int:
    return StoredEvent.objects.aggregate(p=Max("position"))["p"] or 0


def store_horizon() -> int:
    """Return a position at or below which every event is committed and none can still appear.

    Waits for the appends in flight (see the module docstring); appends queue behind it for
    that instant. Take it before the head lock, never while holding it (docs/analytics.md has
    the lock order that keeps this free of deadlocks).
    """
    if connection.vendor != "postgresql":
        return _max_position()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [APPEND_LOCK])
        try:
            if not connection.in_atomic_block:
                return _max_position()
            # A savepoint keeps the transaction, and so the unlock below, usable if this fails.
            with transaction.atomic():
                return _max_position()
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [APPEND_LOCK])


STORE_FIELDS = ("event_id", "type", "source", "aggregate_type", "aggregate_id", "payload",
                "occurred_at", "recorded_at", "correlation_id")  # fmt: skip


def _store_row(event: NewEvent, *, now: datetime) -> tuple:
    """The event's values in `STORE_FIELDS` order; raises `InvalidEvent` for a bad payload."""
    payload = event_normalize(type=event.type, data=event.data)
    aggregate_type, aggregate_id = event_aggregate(type=event.type, payload=payload)
    occurred_at = event_occurred_at(
        type=event.type, payload=payload, envelope_time=event.envelope_time, default=now
    )
    return (
        uuid.UUID(str(event.event_id)),
        event.type,
        event.source[:200],
        aggregate_type,
        aggregate_id,
        payload,
        occurred_at,
        now,
        str(event.correlation_id or "")[:64],
    )


def events_append(*, events: list[NewEvent]) -> dict[uuid.UUID, int]:
    """Store, in order, the events whose ids the store does not hold yet.

    Returns the position of each event stored now (an id stored before, or twice in `events`,
    is stored once). Joins the caller's transaction if there is one. Raises `InvalidEvent` (a
    ValueError) if any payload breaks its contract, and then stores none. The projections
    take them up at the next `projections_catch_up`.
    """
    now = timezone.now()
    rows: dict[uuid.UUID, tuple] = {}
    for event in events:
        row = _store_row(event, now=now)
        rows.setdefault(row[0], row)
    if not rows:
        return {}
    with transaction.atomic():
        _append_lock_shared()
        stored = rows_insert(
            StoredEvent,
            STORE_FIELDS,
            rows.values(),
            conflict=["event_id"],
            returning=["event_id", "position"],
        )
    # SQLite hands the id back as hex, PostgreSQL as a UUID.
    return {i if isinstance(i, uuid.UUID) else uuid.UUID(i): position for i, position in stored}


def events_ingest(*, events: list[NewEvent]) -> dict[uuid.UUID, int]:
    """Append a batch in the caller's transaction and have it projected once that commits.

    By the process's projector thread if it runs one (a worker does), else right here. Never
    inside the transaction: appends hold the shared append lock until they commit, and the
    projector's horizon waits for every such lock.
    """
    stored = events_append(events=events)
    transaction.on_commit(_project_soon, robust=True)
    return stored


def _project_soon() -> None:
    if not projector_wake():
        projections_catch_up()


def event_append(
    *,
    event_id: str | uuid.UUID,
    type: str,
    data: dict,
    source: str,
    envelope_time: str = "",
    correlation_id: str = "",
) -> tuple[StoredEvent, bool]:
    """Store the event once and bring the read models up to it before returning.

    Returns the stored event and whether it is new; an event id seen before appends nothing.
    Raises `InvalidEvent` (a ValueError) for a payload that breaks its contract.
    """
    event = NewEvent(event_id, type, data, source, envelope_time, correlation_id)
    new = bool(events_append(events=[event]))
    row = StoredEvent.objects.get(event_id=event_id)
    projections_catch_up(upto=row.position)
    return row, new


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
    """Give `user_id` an active viewer profile; the same saga creates it once. Return whether
    this call created it (False: the saga's profile already existed).

    The stored event is the profile: the step is done once it is appended. The read models
    show it when the projector applies it with whatever else arrived (in a worker, its thread,
    a moment later; elsewhere before this returns): projecting each registration on its own
    cost a registration saga more than any other analytics work.
    """
    event = NewEvent(
        event_id=uuid.uuid5(COMMAND_NAMESPACE, f"saga:{saga_id}:profile_created"),
        type="analytics.profile_created",
        data={"userId": user_id, "email": email, "sagaId": str(saga_id)},
        source=settings.EVENTS_SOURCE,
        correlation_id=str(saga_id),
    )
    return bool(events_ingest(events=[event]))


def profile_delete(*, saga_id: str, user_id: int) -> bool:
    """Deactivate the profile (saga compensation); return whether one was active.

    The answer is stored in the command event, so a retried compensation repeats it.
    """
    from insights.selectors import user_profile_active

    event_id = uuid.uuid5(COMMAND_NAMESPACE, f"saga:{saga_id}:profile_deleted")
    previous = StoredEvent.objects.filter(event_id=event_id).first()
    if previous is not None:
        return bool(previous.payload["existed"])
    # The profile is read from the read models: first let them apply a profile_created the
    # projector has not reached yet (profile_create leaves that to it).
    projections_catch_up()
    event, _ = event_append(
        event_id=event_id,
        type="analytics.profile_deleted",
        data={"userId": user_id, "sagaId": str(saga_id), "existed": user_profile_active(user_id)},
        source=settings.EVENTS_SOURCE,
        correlation_id=str(saga_id),
    )
    return bool(event.payload["existed"])


# projecting


def projections_position() -> int:
    """How far the active projections have applied the store (0 before any generation)."""
    active = ProjectionHead.objects.filter(pk=1).values("generation_id")
    positions = Checkpoint.objects.filter(generation_id=Subquery(active)).values_list(
        "position", flat=True
    )
    return min(positions, default=0)


def _derived_data_commit() -> None:
    """Commit the current transaction without waiting for the disk (PostgreSQL).

    Only for transactions that write derived data and its checkpoint together: a crash may
    forget the last ones, which leaves rows and checkpoint consistent, and the projector
    applies those events again from the store. Appends never use it: their commit is what
    lets the consumer ack.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


# Fewer positions than this are projected in Python even on PostgreSQL: SQL's handful of
# statements over work tables costs more than the Python projectors for a few events (a
# record-view), and the two are interchangeable (tests/test_property.py mixes them).
SMALL_RANGE = 100


def _by_sql(set_based: bool | None, *, positions: int | None = None) -> bool:
    """Whether to project with SQL over ranges (PostgreSQL) or with the Python projectors."""
    if set_based is not None:
        return set_based
    return connection.vendor == "postgresql" and (positions is None or positions >= SMALL_RANGE)


def _range_end(after: int, horizon: int, batch_size: int) -> int:
    """Where a batch of at most `batch_size` events after `after` ends (at most `horizon`).

    Below the horizon a missing position is a rolled-back append, never a late one, so a
    batch that reaches the horizon may end exactly there.
    """
    if horizon - after <= batch_size:
        return horizon  # there are no more events than positions
    beyond = (
        StoredEvent.objects.filter(position__gt=after, position__lte=horizon)
        .order_by("position")
        .values_list("position", flat=True)[batch_size - 1 : batch_size]
    )
    return next(iter(beyond), horizon)


def projections_catch_up(
    *, upto: int | None = None, batch_size: int = 10_000, set_based: bool | None = None
) -> int:
    """Apply the stored events the active projections lack, up to the store's safe horizon.

    One projector at a time (the head row is locked for each batch) applies them in position
    order to the read models and the daily metrics, and moves their checkpoints in the
    transaction that writes their rows, so a crash loses nothing and nothing is applied twice.
    On PostgreSQL each batch is projected by SQL (`sql_projection.range_project`), elsewhere (or
    with `set_based=False`) by the Python projectors. With `upto`, return at once if the
    projections hold that position already. Returns how many events were applied.
    """
    if upto is not None and projections_position() >= upto:
        return 0
    horizon = store_horizon()
    # Inside a caller's transaction the commit is the caller's, and may carry appends.
    own_transaction = not connection.in_atomic_block
    applied = 0
    while True:
        with transaction.atomic():
            if own_transaction:
                _derived_data_commit()
            head = _head_locked()
            generation = head.generation
            checkpoints = {c.projector: c for c in Checkpoint.objects.filter(generation=generation)}
            after = min(c.position for c in checkpoints.values())
            if after >= horizon:
                return applied
            reached = _range_end(after, horizon, batch_size)
            if _by_sql(set_based, positions=reached - after):
                applied += sql_projection.range_project(
                    generation=generation.id,
                    after=after,
                    upto=reached,
                    from_time=generation.from_time,
                    read_models_after=checkpoints[Checkpoint.READ_MODELS].position,
                    daily_after=checkpoints[Checkpoint.DAILY_METRICS].position,
                )
            else:
                events = _events_between(after, reached, None, batch_size)
                for name, checkpoint in checkpoints.items():
                    PROJECTORS[name](
                        generation.id, complete=False, from_time=generation.from_time
                    ).project([e for e in events if e.position > checkpoint.position])
                applied += len(events)
            Checkpoint.objects.filter(generation=generation).update(
                position=Greatest("position", reached), updated_at=timezone.now()
            )
            projections_advanced_publish(generation=generation.id, position=reached)
        if reached >= horizon:
            return applied


def projections_advanced_publish(*, generation: int, position: int) -> None:
    """Announce, in the transaction that moves the projections, that answers computed before it
    are stale: the gateway drops the analytics answers it keeps (see `insights.readcache`)."""
    publish(PROJECTIONS_ADVANCED, {"generation": generation, "position": position})


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


def _events_between(after: int, upto: int, from_time: datetime | None, limit: int) -> list:
    events = StoredEvent.objects.filter(position__gt=after, position__lte=upto)
    if from_time is not None:
        events = events.filter(occurred_at__gte=from_time)
    return events_list(events, limit)


def _replay_by_projectors(generation: Generation, *, upto: int, batch_size: int) -> int:
    """Fold the store up to `upto` into the empty `generation` with the Python projectors."""
    from_time = generation.from_time
    read_models = ReadModels(generation.id, complete=True, from_time=from_time)
    daily = DailyMetrics(generation.id, complete=True, from_time=from_time)
    position = replayed = 0
    while events := _events_between(position, upto, from_time, batch_size):
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
    while events := _events_between(after, upto, from_time, batch_size):
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
    set_based = _by_sql(set_based)
    with transaction.atomic():
        Generation.objects.filter(status=Generation.Status.BUILDING).update(
            status=Generation.Status.ABANDONED
        )
        generation = _generation_start(status=Generation.Status.BUILDING, from_time=from_time)
    try:
        position = store_horizon()
        if set_based:
            replayed = sql_projection.generation_build(
                generation=generation.pk, upto=position, from_time=from_time
            )
        else:
            replayed = _replay_by_projectors(generation, upto=position, batch_size=batch_size)
        # What was stored during the build is applied outside the lock while there is much of
        # it, so that the switch below holds the projector lock only briefly.
        while (horizon := store_horizon()) - position > batch_size:
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
            head = _head_locked()
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
            projections_advanced_publish(generation=current.pk, position=target)
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
