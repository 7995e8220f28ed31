"""Analytics' projection in the events' traces: a `<type> project` span per event projected."""

from common import tracing
from insights.models import StoredEvent


def record(after: int, upto: int, started_ns: int, *, generation: int) -> None:
    """A `<type> project` span in the trace of each event just projected (read only when spans
    are recorded: the projection itself never loads the events on PostgreSQL)."""
    stored = StoredEvent.objects.filter(position__gt=after, position__lte=upto).exclude(
        traceparent=""
    )
    for type, traceparent in stored.values_list("type", "traceparent"):
        tracing.done_later(
            f"{type} project",
            traceparent,
            start_ns=started_ns,
            attributes={"analytics.generation": generation, "analytics.positions": upto - after},
        )
