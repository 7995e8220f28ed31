from common.events.consumer import Event
from insights.services import event_append


def handle_event(event: Event) -> None:
    """Append the bus event to the event store and project it; its id is stored once."""
    event_append(
        event_id=event.id,
        type=event.type,
        data=event.data,
        source=event.source,
        envelope_time=event.time,
        correlation_id=event.correlation_id,
    )
