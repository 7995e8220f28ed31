"""CloudEvents 1.0 envelopes (JSON structured mode) with a correlation id extension."""

import uuid
from datetime import UTC, datetime

SPEC_VERSION = "1.0"


def make_envelope(*, type: str, data: dict, source: str, correlation_id: str | None = None) -> dict:
    event_id = str(uuid.uuid4())
    return {
        "specversion": SPEC_VERSION,
        "id": event_id,
        "source": source,
        "type": type,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        # CloudEvents extension names are lower-case alphanumerics only.
        "correlationid": correlation_id or event_id,
        "data": data,
    }


def validate_envelope(envelope) -> dict:
    """Return `envelope` if it has the CloudEvents required attributes, else raise ValueError."""
    if not isinstance(envelope, dict):
        raise ValueError("event envelope is not a JSON object")
    missing = [k for k in ("specversion", "id", "source", "type") if not envelope.get(k)]
    if missing:
        raise ValueError(f"event envelope lacks {', '.join(missing)}")
    uuid.UUID(str(envelope["id"]))
    return envelope
