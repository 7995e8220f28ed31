"""Writes: append to the event store and project it into the read models (`insights.replay`
rebuilds them).

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

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from common import tracing
from common.events import publish
from insights import projection_spans, sql_projection
from insights.bulk import rows_insert
from insights.event_specs import event_aggregate, event_normalize, event_occurred_at
from insights.models import (
    Checkpoint,
    Generation,
    ProjectionHead,
    StoredEvent,
)
from insights.projections import DailyMetrics, ReadModels, events_list
from insights.projector import projector_wake

logger = logging.getLogger(__name__)

PROJECTORS = {Checkpoint.READ_MODELS: ReadModels, Checkpoint.DAILY_METRICS: DailyMetrics}
# PostgreSQL advisory lock key of event-store appends (any bigint unique to this purpose;
# advisory locks are per database, so other services' keys cannot collide with it).
APPEND_LOCK = 0x616E616C79746963
PROJECTIONS_ADVANCED = "analytics.projections.advanced"


@dataclass(frozen=True)
class NewEvent:
    """An event to store: a bus event or a command analytics accepted."""

    event_id: str | uuid.UUID
    type: str
    data: dict
    source: str
    envelope_time: str = ""
    correlation_id: str = ""
    traceparent: str = ""


# the head and the active generation


def generation_start(*, status: str, from_time: datetime | None = None) -> Generation:
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


def head_locked() -> ProjectionHead:
    """Lock the head row (creating generation 1 on first use): one projector at a time."""
    head = ProjectionHead.objects.select_for_update().select_related("generation").first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            generation = generation_start(status=Generation.Status.ACTIVE)
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
                "occurred_at", "recorded_at", "correlation_id", "traceparent")  # fmt: skip


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
        event.traceparent[:55],
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
    traceparent: str = "",
) -> tuple[StoredEvent, bool]:
    """Store the event once and bring the read models up to it before returning.

    Returns the stored event and whether it is new; an event id seen before appends nothing.
    Raises `InvalidEvent` (a ValueError) for a payload that breaks its contract.
    """
    event = NewEvent(event_id, type, data, source, envelope_time, correlation_id, traceparent)
    new = bool(events_append(events=[event]))
    row = StoredEvent.objects.get(event_id=event_id)
    projections_catch_up(upto=row.position)
    return row, new


# projecting


def events_between(after: int, upto: int, from_time: datetime | None, limit: int) -> list:
    events = StoredEvent.objects.filter(position__gt=after, position__lte=upto)
    if from_time is not None:
        events = events.filter(occurred_at__gte=from_time)
    return events_list(events, limit)


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


def by_sql(set_based: bool | None, *, positions: int | None = None) -> bool:
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
        started_ns = time.time_ns()
        with transaction.atomic():
            if own_transaction:
                _derived_data_commit()
            head = head_locked()
            generation = head.generation
            checkpoints = {c.projector: c for c in Checkpoint.objects.filter(generation=generation)}
            after = min(c.position for c in checkpoints.values())
            if after >= horizon:
                return applied
            reached = _range_end(after, horizon, batch_size)
            if by_sql(set_based, positions=reached - after):
                applied += sql_projection.range_project(
                    generation=generation.id,
                    after=after,
                    upto=reached,
                    from_time=generation.from_time,
                    read_models_after=checkpoints[Checkpoint.READ_MODELS].position,
                    daily_after=checkpoints[Checkpoint.DAILY_METRICS].position,
                )
            else:
                events = events_between(after, reached, None, batch_size)
                for name, checkpoint in checkpoints.items():
                    PROJECTORS[name](
                        generation.id, complete=False, from_time=generation.from_time
                    ).project([e for e in events if e.position > checkpoint.position])
                applied += len(events)
            Checkpoint.objects.filter(generation=generation).update(
                position=Greatest("position", reached), updated_at=timezone.now()
            )
            projections_advanced_publish(generation=generation.id, position=reached)
        if tracing.recording():
            projection_spans.record(after, reached, started_ns, generation=generation.id)
        if reached >= horizon:
            return applied


def projections_advanced_publish(*, generation: int, position: int) -> None:
    """Announce, in the transaction that moves the projections, that answers computed before it
    are stale: the gateway drops the analytics answers it keeps (see `insights.readcache`)."""
    publish(PROJECTIONS_ADVANCED, {"generation": generation, "position": position})
