"""Every event type the video service consumes, and the handler that applies it."""

HANDLERS: dict[str, str] = {}
