"""Take a service's event queue in batches: many events per transaction, acked after commit.

A service opts in from its Celery module:

    app = create_app("analytics")
    consume_events_in_batches(app, handler="insights.events.handle_events")

Its workers then stop taking `<service>.events` one `deliver_event` task at a time. Each worker
process runs consumer threads instead: each takes up to `size` messages, records the events
it has not applied before in the inbox and hands them to the handler in ONE transaction, and
acks them once that has committed. What `deliver_event` promises per event still holds:

- a redelivered event, or the same event twice in one batch, is applied once (inbox);
- a batch that fails is split in halves until the failing event stands alone: the others are
  applied and acked, and that one is sent back to the queue with its attempt count and an
  `eta` (whichever consumer takes it holds it until then), or after `EVENTS_MAX_RETRIES`
  retries parked in the dead-letter queue, exactly as `deliver_event` does;
- a database that cannot be reached is not the events' fault: the batch stays unacked and is
  tried again until it can be;
- a worker killed mid-batch has acked nothing it had not committed: the broker gives the rest
  back, and the inbox turns whatever had committed into a no-op.

The messages are `deliver_event` task messages (Celery protocol 2) as the outbox relay sends
them, so retries scheduled by either consumer are understood by the other.
"""

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from celery import Celery, bootsteps
from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.utils.module_loading import import_string
from kombu import Consumer

from common.events.batch_inbox import apply_events
from common.events.topology import events_queue, events_queue_name
from common.metrics.instruments import EVENTS_CONSUMED

# The modules with models are imported where they are used: a Celery app module imports this
# one while Django's apps are still loading.

logger = logging.getLogger(__name__)

# Errors of the database rather than of an event: the whole batch waits and is tried again.
UNAVAILABLE = (OperationalError, InterfaceError)
IDLE_POLL_SECONDS = 1.0


def consume_events_in_batches(
    app: Celery, *, handler: str, size: int = 500, linger: float = 0.02, consumers: int = 1
) -> None:
    """Have `app`'s workers take the service's event queue in batches through `handler`.

    `handler(events: list[Event])` gets the events not applied before, inside the transaction
    that records them in the inbox, and raises to refuse the batch. A batch closes when it has
    `size` events or no further message arrived within `linger` seconds. Each worker process
    runs `consumers` such threads, whose transactions overlap their waits on the database.
    """
    name = events_queue_name(app.main)
    app.conf.task_queues = [queue for queue in app.conf.task_queues if queue.name != name]
    options = {"handler": handler, "size": size, "linger": linger, "consumers": consumers}
    app.steps["worker"].add(type("EventBatches", (EventBatchStep,), options))


@dataclass(order=True)
class Delivery:
    """A taken message: its envelope, its attempt count and when it is due (0: now)."""

    due: float
    order: int
    message: object = field(compare=False)
    envelope: dict = field(compare=False)
    attempt: int = field(compare=False)
    settled: bool = field(default=False, compare=False)


def delivery_from(body, message, order: int) -> Delivery | None:
    """Read a `deliver_event` task message; None if it is not one."""
    from common.events.relay import DELIVER_TASK

    headers = message.headers or {}
    if headers.get("task") != DELIVER_TASK or not isinstance(body, list | tuple) or not body:
        return None
    args = body[0]
    if not isinstance(args, list | tuple) or len(args) != 1 or not isinstance(args[0], dict):
        return None
    eta = headers.get("eta")
    due = datetime.fromisoformat(eta).timestamp() if eta else 0.0
    return Delivery(due, order, message, args[0], int(headers.get("retries") or 0))


class BatchConsumer:
    """One consumer thread: takes, applies and acks in batches on its own broker connection."""

    def __init__(self, app: Celery, *, handler: str, size: int, linger: float):
        self.app, self.size, self.linger = app, size, linger
        self.handler = import_string(handler)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="event-batches", daemon=True)
        self.consumer: Consumer | None = None
        self.window = 2 * size
        self.ready: list[Delivery] = []
        self.held: list[Delivery] = []  # heap of retries waiting for their eta
        self.unacked = 0  # deliveries taken from the channel and not settled yet
        self.ack_many = False
        self.order = itertools.count()

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Finish the batch in hand, then leave; what is not acked goes back to the queue."""
        self.stopping.set()
        self.thread.join(timeout)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with self.app.connection_for_read() as broker:
                    self.consume(broker)
            except Exception:
                logger.exception("event batches: consumer stopped; reconnecting")
                self.stopping.wait(IDLE_POLL_SECONDS)
            finally:
                # Their delivery tags died with the channel; the broker redelivers them.
                self.ready, self.held, self.unacked = [], [], 0
                connection.close()

    def consume(self, broker) -> None:
        queue = events_queue(settings.SERVICE_NAME)
        with Consumer(
            broker, queues=[queue], callbacks=[self.received], accept=["json"],
            prefetch_count=2 * self.size,
        ) as consumer:  # fmt: skip
            self.consumer, self.window = consumer, 2 * self.size
            # RabbitMQ acks every delivery up to a tag with one frame; the embedded broker
            # acks them one by one.
            self.ack_many = broker.transport.driver_type == "amqp"
            while not self.stopping.is_set():
                self.fill(broker)
                if batch := self.take():
                    self.apply(batch)

    def received(self, body, message) -> None:
        delivery = delivery_from(body, message, next(self.order))
        if delivery is None:
            logger.error("event batches: not an event delivery, dropped: %r", message.headers)
            message.reject()
            return
        self.unacked += 1
        if delivery.due > time.time():
            heapq.heappush(self.held, delivery)
        else:
            self.ready.append(delivery)

    def _widen(self) -> None:
        # The window holds two batches, so the next one is already here when one is applied;
        # held retries widen it, so they never fill it and starve the events behind them.
        # (Not from `received`: a synchronous call inside a delivery callback would re-enter.)
        window = 2 * self.size + len(self.held)
        if window != self.window:
            self.consumer.qos(prefetch_count=window)
            self.window = window

    def fill(self, broker) -> None:
        """Take messages until the batch is full or none arrives within `linger`."""
        while len(self.ready) < self.size and not self.stopping.is_set():
            timeout = self.linger if self.ready else IDLE_POLL_SECONDS
            if self.held:
                timeout = max(0.0, min(timeout, self.held[0].due - time.time()))
            try:
                broker.drain_events(timeout=timeout)
            except TimeoutError:  # kombu's socket.timeout
                return
            finally:
                self._widen()

    def take(self) -> list[Delivery]:
        now = time.time()
        while self.held and self.held[0].due <= now:
            self.ready.append(heapq.heappop(self.held))
        self._widen()
        batch, self.ready = self.ready, []
        return batch

    def apply(self, batch: list[Delivery]) -> None:
        pause = 1.0
        while True:
            close_old_connections()
            try:
                self.settle([d for d in batch if not d.settled])
                return
            except UNAVAILABLE as exc:
                logger.warning("event batches: database unavailable (%r); retrying", exc)
                if self.stopping.wait(pause):
                    return
                pause = min(pause * 2, 30.0)

    def settle(self, deliveries: list[Delivery]) -> None:
        """Apply and ack `deliveries`, or halve them until the one that fails stands alone."""
        if not deliveries:
            return
        try:
            with transaction.atomic():
                apply_events([d.envelope for d in deliveries], self.handler)
        except UNAVAILABLE:
            raise
        except Exception as exc:
            if len(deliveries) == 1:
                self.failed(deliveries[0], exc)
                return
            middle = len(deliveries) // 2
            self.settle(deliveries[:middle])
            self.settle(deliveries[middle:])
            return
        self.ack(deliveries)

    def ack(self, deliveries: list[Delivery]) -> None:
        """Ack `deliveries`: in one frame when they are all the channel has unacked."""
        if self.ack_many and len(deliveries) == self.unacked > 1:
            max(deliveries, key=lambda d: d.message.delivery_tag).message.ack(multiple=True)
        else:
            for delivery in deliveries:
                delivery.message.ack()
        for delivery in deliveries:
            delivery.settled = True
        self.unacked -= len(deliveries)

    def failed(self, delivery: Delivery, error: Exception) -> None:
        """Send the event back to be retried later, or after the last attempt dead-letter it."""
        from common.events.consumer import dead_letter, event_type, retry_delay
        from common.events.relay import DELIVER_TASK

        envelope, attempt = delivery.envelope, delivery.attempt
        if attempt >= settings.EVENTS_MAX_RETRIES:
            try:
                dead_letter(envelope, error=error, attempts=attempt + 1)
            except UNAVAILABLE:
                raise
            except Exception:
                logger.exception("event %r could not be recorded as dead", envelope.get("id"))
        else:
            logger.warning(
                "event %s failed (attempt %d): %r", envelope.get("id"), attempt + 1, error
            )
            EVENTS_CONSUMED.labels(event_type(envelope), "retried").inc()
            self.app.send_task(
                DELIVER_TASK,
                args=[envelope],
                retries=attempt + 1,
                countdown=retry_delay(attempt),
                queue=events_queue_name(settings.SERVICE_NAME),
            )
        self.ack([delivery])


class EventBatchStep(bootsteps.StartStopStep):
    """Worker component running the batch consumer threads (see `consume_events_in_batches`)."""

    handler: str
    size: int
    linger: float
    consumers: int

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.threads: list[BatchConsumer] = []

    def start(self, worker):
        options = {"handler": self.handler, "size": self.size, "linger": self.linger}
        self.threads = [BatchConsumer(worker.app, **options) for _ in range(self.consumers)]
        for consumer in self.threads:
            consumer.start()

    def stop(self, worker):
        for consumer in self.threads:
            consumer.stopping.set()
        for consumer in self.threads:
            consumer.stop()

    terminate = stop
