"""The consuming side: one Celery task, shared by every service, that applies an event once."""

import logging
import random
from dataclasses import dataclass
from functools import cache

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from common import tracing
from common.events.envelope import validate_envelope
from common.events.models import DeadLetter, InboxEvent
from common.events.relay import DELIVER_TASK
from common.events.topology import DEAD_LETTER_EXCHANGE, dead_letter_queue, events_queue_name
from common.metrics.instruments import EVENTS_CONSUMED
from common.workers import service_app

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    time: str
    correlation_id: str
    data: dict
    # The publisher's W3C trace context, for work that outlives the consumer's span.
    traceparent: str = ""

    @classmethod
    def from_envelope(cls, envelope: dict) -> "Event":
        return cls(
            id=envelope["id"],
            type=envelope["type"],
            source=envelope["source"],
            time=envelope.get("time", ""),
            correlation_id=envelope.get("correlationid", envelope["id"]),
            data=envelope.get("data") or {},
            traceparent=envelope.get("traceparent", ""),
        )


@cache
def handlers() -> dict:
    from importlib import import_module

    paths = import_module(f"{settings.SERVICE_NAME}_project.event_handlers").HANDLERS
    return {event_type: import_string(path) for event_type, path in paths.items()}


def apply_event(envelope: dict) -> bool:
    """Run the handler and record the event id in one transaction; False if already applied."""
    event = Event.from_envelope(validate_envelope(envelope))
    handler = handlers().get(event.type)
    if handler is None:
        logger.warning("no handler for %s in %s; dropped", event.type, settings.SERVICE_NAME)
        return False
    try:
        with transaction.atomic():
            InboxEvent.objects.create(event_id=event.id, type=event.type, source=event.source)
            handler(event)
    except IntegrityError:
        if InboxEvent.objects.filter(event_id=event.id).exists():
            logger.info("event %s already applied; redelivery ignored", event.id)
            EVENTS_CONSUMED.labels(event.type, "duplicate").inc()
            return False
        raise
    EVENTS_CONSUMED.labels(event.type, "applied").inc()
    return True


def event_type(envelope) -> str:
    """The type an envelope claims, for counting: a malformed one is `<malformed>`."""
    kind = envelope.get("type") if isinstance(envelope, dict) else None
    return kind if isinstance(kind, str) and kind else "<malformed>"


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(
        settings.EVENTS_RETRY_MAX_SECONDS, settings.EVENTS_RETRY_BASE_SECONDS * 2**attempt
    )
    return random.uniform(ceiling / 2, ceiling)


@shared_task(
    name=DELIVER_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    ignore_result=True,
)
def deliver_event(self, envelope: dict) -> None:
    """Apply `envelope` exactly once: retry with backoff, then park it in the dead-letter queue."""
    try:
        with tracing.consuming(envelope, settings.SERVICE_NAME):
            apply_event(envelope)
    except Exception as exc:
        attempt = self.request.retries
        if attempt >= settings.EVENTS_MAX_RETRIES:
            dead_letter(envelope, error=exc, attempts=attempt + 1)
            return
        logger.warning("event %s failed (attempt %d): %r", envelope.get("id"), attempt + 1, exc)
        EVENTS_CONSUMED.labels(event_type(envelope), "retried").inc()
        # Back onto this service's own queue only: the topic exchange would fan it out again.
        raise self.retry(
            exc=exc, countdown=retry_delay(attempt), queue=events_queue_name(settings.SERVICE_NAME)
        ) from exc


def dead_letter(envelope: dict, *, error: Exception, attempts: int) -> None:
    """Park a failing event in `<service>.events.dlq` and the admin, then let the queue move on."""
    service = settings.SERVICE_NAME
    reason = f"{type(error).__name__}: {error}"[:4000]
    app = service_app()
    with app.producer_or_acquire() as producer:
        producer.publish(
            envelope,
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key=service,
            declare=[dead_letter_queue(service)],
            serializer="json",
            headers={"x-error": reason, "x-attempts": attempts},
            delivery_mode=2,
            retry=False,
        )
    DeadLetter.objects.create(
        event_id=envelope.get("id"),
        type=str(envelope.get("type", ""))[:100],
        envelope=envelope,
        error=reason,
        attempts=attempts,
    )
    EVENTS_CONSUMED.labels(event_type(envelope), "dead_lettered").inc()
    logger.error(
        "event %s dead-lettered after %d attempts: %s", envelope.get("id"), attempts, reason
    )
