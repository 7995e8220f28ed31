"""The fold every projector shares: the events it reads, and one pass over a batch of them."""

EVENT_FIELDS = ("position", "type", "payload", "occurred_at")


def events_list(events, limit: int) -> list:
    """The first `limit` events of a queryset by position, as light rows of `EVENT_FIELDS`."""
    return list(events.order_by("position").values_list(*EVENT_FIELDS, named=True)[:limit])


class Projector:
    """Shared mechanics; subclasses define `handlers`, `prefetch` and `flush`."""

    handlers: dict[str, str] = {}

    def __init__(self, generation: int, *, complete: bool, from_time=None):
        self.generation = generation
        self.complete = complete
        self.from_time = from_time

    def project(self, events: list) -> int:
        """Apply `events` (rows of `events_list`, ascending positions) and write the result.

        Returns how many events counted (those inside the generation's window).
        """
        counted = [e for e in events if self.from_time is None or e.occurred_at >= self.from_time]
        if not self.complete:
            self.prefetch(counted)
        for event in counted:
            name = self.handlers.get(event.type)
            if name:
                getattr(self, name)(event)
        self.flush()
        return len(counted)

    def prefetch(self, events: list) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        raise NotImplementedError
