"""Every event type the auth service consumes, and the handler that applies it."""

HANDLERS: dict[str, str] = {}
