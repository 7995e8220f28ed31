"""The outbox relay: publish pending outbox rows to `streamify.events` and mark them sent."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from common.events.models import OutboxEvent
from common.events.topology import EVENTS_EXCHANGE
from common.metrics.instruments import EVENTS_PUBLISHED
from common.workers import service_app

logger = logging.getLogger(__name__)

DELIVER_TASK = "streamify.events.deliver"


def relay_outbox(*, event_ids: list[str] | None = None, batch_size: int = 200) -> int:
    """Publish pending events oldest first; return how many were confirmed by the broker.

    Rows are locked with SKIP LOCKED, so the after-commit relay and the periodic sweep never
    send the same row at the same time; a crash between publish and mark leads to a second
    publish, which the consumers' inbox absorbs.
    """
    sent = 0
    while True:
        with transaction.atomic():
            pending = OutboxEvent.objects.select_for_update(skip_locked=True).filter(
                published_at__isnull=True
            )
            if event_ids is not None:
                pending = pending.filter(id__in=event_ids)
            rows = list(pending.order_by("created_at")[:batch_size])
            if not rows:
                return sent
            published, failed = _publish_rows(rows)
            _mark(published, failed)
        sent += len(published)
        for row in published:
            EVENTS_PUBLISHED.labels(row.type).inc()
        if failed is not None or event_ids is not None:
            return sent


def _publish_rows(rows: list[OutboxEvent]) -> tuple[list[OutboxEvent], OutboxEvent | None]:
    """The rows the broker confirmed, and the row it refused (the relay stops there), if any."""
    app = service_app()
    published: list[OutboxEvent] = []
    try:
        with app.producer_or_acquire() as producer:
            # Declared once per connection (kombu remembers), not named in every message.
            producer.maybe_declare(EVENTS_EXCHANGE)
            for row in rows:
                send_event(app, producer, row.envelope)
                published.append(row)
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the rest pending
        failed = rows[len(published)]
        failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.warning("outbox relay paused: %s", failed.last_error)
        return published, failed
    return published, None


def _mark(published: list[OutboxEvent], failed: OutboxEvent | None) -> None:
    # Two plain UPDATEs: bulk_update's per-row CASE expressions cost more than publishing.
    attempted = F("attempts") + 1
    if published:
        OutboxEvent.objects.filter(id__in=[row.id for row in published]).update(
            published_at=timezone.now(), attempts=attempted, last_error=""
        )
    if failed is not None:
        OutboxEvent.objects.filter(id=failed.id).update(
            attempts=attempted, last_error=failed.last_error
        )


def send_event(app, producer, envelope: dict) -> None:
    """Put `envelope` on the events exchange, routed by its type, as the relay does."""
    app.send_task(
        DELIVER_TASK,
        args=[envelope],
        producer=producer,
        exchange=EVENTS_EXCHANGE.name,
        exchange_type=EVENTS_EXCHANGE.type,
        routing_key=envelope["type"],
        headers={"ce_id": envelope["id"], "ce_type": envelope["type"]},
        retry=False,
    )
