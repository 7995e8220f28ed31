"""Events as the bus delivers them, appended through the same service the consumer calls."""

import uuid
from datetime import UTC, datetime

from insights.services import event_append

SOURCES = {
    "user": "/streamify/auth",
    "video": "/streamify/video",
    "stream": "/streamify/streaming",
    "payment": "/streamify/billing",
    "wallet": "/streamify/billing",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def bus_event(type: str, *, when: datetime | str | None = None, event_id=None, **data):
    """Append one bus event (envelope time `when`); return (stored event, appended?)."""
    if isinstance(when, str):
        when = at(when)
    return event_append(
        event_id=event_id or uuid.uuid4(),
        type=type,
        data=data,
        source=SOURCES.get(type.split(".")[0], "/streamify/test"),
        envelope_time=(when or datetime.now(UTC)).isoformat(),
    )


def watched(*, user: int, video: int, seconds: int = 60, when=None, **extra):
    return bus_event(
        "video.watched",
        when=when,
        userId=user,
        videoId=video,
        watchSeconds=seconds,
        sessionId=str(uuid.uuid4()),
        amount=0,
        **extra,
    )


def paid(*, user: int, video: int, amount: int, when=None, type="payment.processed"):
    return bus_event(
        type,
        when=when,
        transactionId=uuid.uuid4().int % 10**9,
        userId=user,
        videoId=video,
        sessionId=str(uuid.uuid4()),
        amount=amount,
        balanceAfter=0,
        idempotencyKey=uuid.uuid4().hex,
    )


def ready(*, video: int, title: str = "A video", when=None):
    return bus_event(
        "video.ready",
        when=when,
        videoId=video,
        title=title,
        category="demo",
        duration=120.0,
        pricePerMinute=10,
        uploadedBy=1,
    )


def registered(*, user: int, when=None):
    return bus_event(
        "user.registered",
        when=when,
        userId=user,
        email=f"user{user}@example.com",
        firstName="Test",
        lastName="User",
    )
