"""Every event type the gateway service consumes, and the handler that applies it."""

HANDLERS: dict[str, str] = {}
