"""Figures read at scrape time: how much is pending, parked, open or behind right now.

A function named in the `METRICS_STATE` setting returns prometheus_client metric families; it
runs on each scrape of the web process, never on a request's path. One that fails (a database
or broker down) is left out of that scrape and counted in `streamify_metrics_state_errors`,
so the rest of the page still answers.
"""

import logging
import time
from contextlib import suppress

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Count, Min
from django.utils.module_loading import import_string
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

STATE_ERRORS = Counter(
    "streamify_metrics_state_errors",
    "Scrape-time readings that failed and were left out of a scrape",
    ["reading"],
)


class StateCollector:
    """A prometheus_client collector that runs the `METRICS_STATE` readings."""

    def __init__(self, paths: list[str]):
        self.readings = [(path.rsplit(".", 1)[1], import_string(path)) for path in paths]

    def collect(self):
        close_old_connections()
        for name, reading in self.readings:
            try:
                families = list(reading())
            except Exception:  # noqa: BLE001 - one reading down must not blank the page
                logger.warning("metrics: reading %s failed", name, exc_info=True)
                STATE_ERRORS.labels(name).inc()
                continue
            yield from families


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    """A gauge without labels holding `value`."""
    return GaugeMetricFamily(name, documentation, value=value)


def outbox():
    """Events written but not yet confirmed by the broker, and how long the oldest has waited."""
    from common.events.models import OutboxEvent

    pending = OutboxEvent.objects.filter(published_at__isnull=True).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    yield gauge("streamify_outbox_pending", "Outbox rows not yet published", pending["count"])
    yield gauge(
        "streamify_outbox_oldest_pending_seconds",
        "Age of the oldest unpublished outbox row (0 when none)",
        seconds_since(pending["oldest"]),
    )


def queues():
    """What waits in this service's queues, and who consumes them.

    Read broker-side by the web process, so a stopped worker shows here: its queues lose their
    consumer and fill up (the outbox does not, as each writer relays its own rows on commit).
    """
    from common.events.topology import dead_letter_queue_name, events_queue_name, handled_types
    from common.saga import commands_queue
    from common.workers import service_app

    service = settings.SERVICE_NAME
    consumed = [service, commands_queue(service)]
    if handled_types(service):
        consumed.append(events_queue_name(service))
    dlq = dead_letter_queue_name(service)
    with service_app().connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        found = {queue: _depth(connection, queue) for queue in [*consumed, dlq]}
        # The embedded broker's queues are folders: nobody attaches to them, so no count.
        counts_consumers = connection.transport.driver_type == "amqp"
    messages = GaugeMetricFamily(
        "streamify_queue_messages",
        "Messages ready in this service's queues (delivered but unacknowledged ones excluded)",
        labels=["queue"],
    )
    consumers = GaugeMetricFamily(
        "streamify_queue_consumers",
        "Consumers attached to this service's queues (RabbitMQ only)",
        labels=["queue"],
    )
    for queue in consumed:
        messages.add_metric([queue], found[queue][0])
        if counts_consumers:
            consumers.add_metric([queue], found[queue][1])
    yield messages
    yield consumers
    yield gauge("streamify_dlq_messages", "Events parked in this service's dead-letter queue",
                found[dlq][0])  # fmt: skip


def _depth(connection, queue: str) -> tuple[int, int]:
    """(ready messages, consumers) of `queue`; (0, 0) for one never declared."""
    channel = connection.channel()
    try:
        answer = channel.queue_declare(queue=queue, passive=True)
        return answer.message_count, answer.consumer_count
    except connection.channel_errors:
        return 0, 0
    finally:
        # The broker closes a channel that asked about a missing queue.
        with suppress(Exception):
            channel.close()


def breakers():
    """Each breaker this service knows, one series per state, 1 for the one it is in."""
    from common import breakers as breaker_board

    family = GaugeMetricFamily(
        "streamify_breaker_state",
        "Circuit breaker state per upstream: 1 for the current state, 0 for the others",
        labels=["upstream", "state"],
    )
    for name, stats in breaker_board.stats().items():
        for state in breaker_board.STATE_NAMES.values():
            family.add_metric([name, state.lower()], 1.0 if stats["state"] == state else 0.0)
    yield family


def seconds_since(moment) -> float:
    return max(0.0, time.time() - moment.timestamp()) if moment else 0.0
