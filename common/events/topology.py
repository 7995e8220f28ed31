"""Exchanges, queues and bindings, declared by code alike on RabbitMQ and the embedded broker.

streamify.events (topic) --<event type>--> <service>.events --> the service's Celery worker
streamify.events.dlx (direct) --<service>--> <service>.events.dlq   (held for an operator)
"""

from importlib import import_module

from kombu import Exchange, Queue, binding

from common.events.contracts import BUS_TYPES

EVENTS_EXCHANGE = Exchange("streamify.events", type="topic", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("streamify.events.dlx", type="direct", durable=True)


def handled_types(service: str) -> list[str]:
    """Event types `service` consumes: the keys of `<service>_project/event_handlers.py`, each
    a bus type of `common.events.contracts` (a misspelt one would bind a queue to nothing)."""
    types = sorted(import_module(f"{service}_project.event_handlers").HANDLERS)
    unknown = [t for t in types if t not in BUS_TYPES]
    if unknown:
        raise ValueError(f"{service} handles event types nobody publishes: {unknown}")
    return types


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` is exactly one dot-separated word, `#` zero or more."""
    want, have = pattern.split("."), routing_key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(have)
        if want[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(have) + 1))
        return j < len(have) and want[i] in ("*", have[j]) and match(i + 1, j + 1)

    return match(0, 0)


def events_queue_name(service: str) -> str:
    return f"{service}.events"


def dead_letter_queue_name(service: str) -> str:
    return f"{service}.events.dlq"


def events_queue(service: str) -> Queue:
    """The service's event queue: bound to its event types, and reachable directly by name.

    The direct route (an exchange named like the queue, as Celery gives every queue) is how a
    retry comes back to this queue alone instead of fanning out to every subscriber again.
    """
    name = events_queue_name(service)
    bindings = [binding(EVENTS_EXCHANGE, routing_key=t) for t in handled_types(service)]
    queue = Queue(name, bindings=bindings, durable=True)
    queue.exchange = Exchange(name, type="direct", durable=True)
    queue.routing_key = name
    return queue


def dead_letter_queue(service: str) -> Queue:
    return Queue(
        dead_letter_queue_name(service),
        exchange=DEAD_LETTER_EXCHANGE,
        routing_key=service,
        durable=True,
    )


def declare_topology(connection, service: str, *, prune: bool = False) -> None:
    """Declare both exchanges, the service's event queue with its bindings, and its DLQ.

    `prune` also removes the queue's bindings to types the service no longer handles: a broker
    keeps bindings across deploys, so a dropped handler would still draw its events. Only the
    deploy's prepare step prunes (`setup_broker`); a worker starting only adds, so an older
    replica restarting during a rollout cannot unbind what the new version handles."""
    channel = connection.default_channel
    EVENTS_EXCHANGE(channel).declare()
    DEAD_LETTER_EXCHANGE(channel).declare()
    handled = handled_types(service)
    if handled:
        queue = events_queue(service)(channel)
        queue.declare()
        for type in sorted(set(BUS_TYPES) - set(handled)) if prune else ():
            queue.unbind_from(EVENTS_EXCHANGE, routing_key=type)
    dead_letter_queue(service)(channel).declare()
