from common.events.consumer import Event
from insights import services


def _new(event: Event) -> services.NewEvent:
    return services.NewEvent(
        event_id=event.id,
        type=event.type,
        data=event.data,
        source=event.source,
        envelope_time=event.time,
        correlation_id=event.correlation_id,
        traceparent=event.traceparent,
    )


def handle_event(event: Event) -> None:
    """Append the bus event to the event store and project it; its id is stored once."""
    services.event_append(**vars(_new(event)))


def handle_events(events: list[Event]) -> None:
    """Append a batch of bus events in the consumer's transaction; project them after commit.

    The consumer records the same ids in its inbox in this transaction; an `InvalidEvent` in
    any payload refuses the whole batch, and the consumer then singles the culprit out.
    """
    services.events_ingest(events=[_new(event) for event in events])
