"""Apply a batch of events once: the inbox records the ids not seen before and the handler
applies those, in the caller's transaction (`common.events.batch` takes them from the queue)."""

import logging
import uuid
from collections import Counter
from contextlib import ExitStack

from django.conf import settings
from django.db import connection
from django.utils import timezone

from common import tracing
from common.events.envelope import validate_envelope
from common.metrics.instruments import EVENTS_CONSUMED, on_commit

logger = logging.getLogger(__name__)


def _inbox_insert(events: dict) -> set[uuid.UUID]:
    """Record `events` ({id: Event}) in the inbox; return the ids that were not there yet.

    `ON CONFLICT DO NOTHING`: an id that another transaction is recording right now waits for
    that one to finish and then counts as applied, instead of failing this whole batch.
    """
    from common.events.models import InboxEvent

    meta = InboxEvent._meta
    fields = [meta.get_field(name) for name in ("event_id", "type", "source", "applied_at")]
    now = timezone.now()
    rows = [(event_id, e.type, e.source, now) for event_id, e in events.items()]
    new: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = [
                field.get_db_prep_save(value, connection)
                for row in chunk
                for field, value in zip(fields, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {meta.db_table} ({', '.join(f.column for f in fields)}) "
                f"VALUES {values} ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                params,
            )
            # PostgreSQL hands a UUID back, SQLite its hex.
            new.update(
                i if isinstance(i, uuid.UUID) else uuid.UUID(i) for (i,) in cursor.fetchall()
            )
    return new


def apply_events(envelopes: list, handler) -> int:
    """Record the events not applied before in the inbox and pass them to `handler`.

    Runs in the caller's transaction; returns how many events were new. Raises if an envelope
    is malformed or the handler refuses.
    """
    from common.events.consumer import Event, handlers

    known = handlers()
    events: dict[uuid.UUID, Event] = {}
    traced: dict[uuid.UUID, dict] = {}
    for envelope in envelopes:
        event = Event.from_envelope(validate_envelope(envelope))
        if event.type not in known:
            logger.warning("no handler for %s in %s; dropped", event.type, settings.SERVICE_NAME)
            continue
        event_id = uuid.UUID(str(event.id))
        events.setdefault(event_id, event)
        traced.setdefault(event_id, envelope)
    new = _inbox_insert(events) if events else set()
    fresh = [event for event_id, event in events.items() if event_id in new]
    if fresh:
        # One span per event, each the child of its own publisher's context, over the batch.
        with ExitStack() as spans:
            for event_id in new:
                spans.enter_context(tracing.consuming(traced[event_id], settings.SERVICE_NAME))
            handler(fresh)
    _count(events, new)
    return len(fresh)


def _count(events: dict, new: set) -> None:
    # After the transaction: a batch rolled back and split is counted once, as it ends up.
    counts = Counter((e.type, "applied" if i in new else "duplicate") for i, e in events.items())
    for (kind, outcome), n in counts.items():
        on_commit(EVENTS_CONSUMED.labels(kind, outcome), n)
