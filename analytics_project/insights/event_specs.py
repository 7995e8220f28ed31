"""What analytics knows about each event type it stores: its aggregate, its checks, its time.

Bus events follow docs/events.md; the `analytics.*` types are commands analytics accepted
itself (record-view, the saga's profile steps) and are documented there too.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime


class InvalidEvent(ValueError):
    """The event cannot be stored: unknown type or a payload that breaks its contract."""


@dataclass(frozen=True)
class EventSpec:
    aggregate_type: str
    aggregate_key: str
    ids: tuple[str, ...] = ()  # required positive integers
    amounts: tuple[str, ...] = ()  # required non-negative integers (cents, seconds)
    time_key: str | None = None  # payload field holding when it happened, if any


VIEW_TYPES = frozenset({"video.watched", "analytics.view_recorded"})
# Billing's money moves on a charge: the charge, and its refund (revenue given back).
PAYMENT_TYPES = frozenset({"payment.processed", "payment.refunded"})

CATALOG: dict[str, EventSpec] = {
    "user.registered": EventSpec("user", "userId", ids=("userId",)),
    "user.logged_in": EventSpec("user", "userId", ids=("userId",), time_key="at"),
    "user.deleted": EventSpec("user", "userId", ids=("userId",)),
    "video.uploaded": EventSpec("video", "videoId", ids=("videoId",)),
    "video.ready": EventSpec("video", "videoId", ids=("videoId",)),
    "video.failed": EventSpec("video", "videoId", ids=("videoId",)),
    "video.deleted": EventSpec("video", "videoId", ids=("videoId",)),
    "stream.started": EventSpec(
        "session", "sessionId", ids=("userId", "videoId"), time_key="startedAt"
    ),
    "stream.ended": EventSpec(
        "session", "sessionId", ids=("userId", "videoId"), time_key="endedAt"
    ),
    "video.watched": EventSpec(
        "video", "videoId", ids=("userId", "videoId"), amounts=("watchSeconds",)
    ),
    "payment.processed": EventSpec("user", "userId", ids=("userId",), amounts=("amount",)),
    "payment.refunded": EventSpec("user", "userId", ids=("userId",), amounts=("amount",)),
    "wallet.credited": EventSpec("user", "userId", ids=("userId",), amounts=("amount",)),
    "analytics.view_recorded": EventSpec(
        "video", "videoId", ids=("userId", "videoId"), amounts=("watchSeconds",)
    ),
    "analytics.profile_created": EventSpec("user", "userId", ids=("userId",)),
    "analytics.profile_deleted": EventSpec("user", "userId", ids=("userId",)),
}


# Ids fit the read models' bigint columns; one amount stays small enough that sums of millions
# of them do too. A value the projectors could not write is refused here, at the door: a stored
# event must never stop a projector (it applies the store in order and cannot skip one).
MAX_ID = 2**63 - 1
MAX_AMOUNT = 10**12


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fits(value) -> bool:
    return _is_int(value) and -MAX_ID <= value <= MAX_ID


def event_normalize(*, type: str, data: dict) -> dict:
    """Return the payload to store, with watch seconds rounded to whole seconds; raise if invalid.

    Checking here keeps the store clean: a malformed bus event is retried and dead-lettered
    by the consumer instead of becoming a fact every future replay has to tiptoe around.
    """
    spec = CATALOG.get(type)
    if spec is None:
        raise InvalidEvent(f"analytics does not store {type!r} events")
    if not isinstance(data, dict):
        raise InvalidEvent(f"{type} data is not an object")
    payload = dict(data)
    for key in spec.ids:
        if not _is_int(payload.get(key)) or not 0 < payload[key] <= MAX_ID:
            raise InvalidEvent(f"{type} needs a positive integer {key}, got {payload.get(key)!r}")
    for key in spec.amounts:
        value = payload.get(key)
        if isinstance(value, float) and key == "watchSeconds" and 0 <= value <= MAX_AMOUNT:
            payload[key] = value = round(value)
        if not _is_int(value) or not 0 <= value <= MAX_AMOUNT:
            raise InvalidEvent(
                f"{type} needs an integer {key} from 0 to {MAX_AMOUNT}, got {value!r}"
            )
    video_id = payload.get("videoId")
    if type in PAYMENT_TYPES and video_id is not None and not _fits(video_id):
        raise InvalidEvent(f"{type} videoId must be an integer, got {video_id!r}")
    if payload.get(spec.aggregate_key) in (None, ""):
        raise InvalidEvent(f"{type} lacks {spec.aggregate_key}")
    return payload


def event_aggregate(*, type: str, payload: dict) -> tuple[str, str]:
    spec = CATALOG[type]
    return spec.aggregate_type, str(payload[spec.aggregate_key])[:64]


def event_occurred_at(*, type: str, payload: dict, envelope_time: str, default: datetime):
    """When it happened: the payload's own timestamp, else the envelope's, else `default`."""
    spec = CATALOG[type]
    for raw in (payload.get(spec.time_key) if spec.time_key else None, envelope_time):
        if isinstance(raw, str) and raw:
            parsed = parse_datetime(raw)
            if parsed is not None:
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return default
