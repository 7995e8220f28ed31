"""Every event type: who publishes it and what its data holds, as a JSON Schema.

The one registry of event types. `publish` checks each payload against it (refusing in the
embedded developer mode and in tests, logging elsewhere), every service's `event_handlers.py`
may bind only the types named here, analytics' catalog is checked against it, and so is the
table in docs/events.md (`common/tests/test_event_contracts.py`;
STREAMIFY_DOCS_REWRITE=1 rewrites it).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from jsonschema import Draft202012Validator, FormatChecker

logger = logging.getLogger(__name__)

ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
COUNT = {"type": "integer", "minimum": 0}
CENTS = {"type": "integer", "minimum": 0}
SECONDS = {"type": "number", "minimum": 0}
TEXT = {"type": "string"}
TIME = {"type": "string", "format": "date-time"}
UUID = {"type": "string", "format": "uuid"}


def one_of(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


_formats = FormatChecker(formats=("uuid",))


@_formats.checks("date-time", raises=ValueError)
def _is_time(value) -> bool:
    # Python's own ISO 8601 reading, so what the publishers' isoformat() writes always passes.
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@dataclass(frozen=True)
class Contract:
    type: str
    publisher: str  # the service that owns the fact
    summary: str
    data: dict[str, dict]  # field name -> JSON Schema of its value
    optional: tuple[str, ...] = ()  # fields that may be left out
    on_bus: bool = True  # False: analytics' own commands, kept in its event store only
    notes: str = field(default="", compare=False)

    @cached_property
    def schema(self) -> dict:
        return {
            "type": "object",
            "properties": self.data,
            "required": [name for name in self.data if name not in self.optional],
            "additionalProperties": False,
        }

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.schema, format_checker=_formats)

    def violations(self, data) -> list[str]:
        return [
            f"{'.'.join(map(str, e.absolute_path)) or 'data'}: {e.message}"
            for e in self._validator.iter_errors(data)
        ]


class ContractBroken(ValueError):
    """A payload its event type's contract does not allow, or a type nobody registered."""


_PAYMENT = {
    "transactionId": ID,
    "userId": ID,
    "videoId": nullable(ID),
    "sessionId": nullable(TEXT),
    "amount": CENTS,
    "balanceAfter": CENTS,
    "idempotencyKey": nullable(TEXT),
}
_VIDEO = {
    "videoId": ID,
    "title": TEXT,
    "category": TEXT,
    "uploadedBy": ID,
    "pricePerMinute": CENTS,
}
_VIEW = {"userId": ID, "videoId": ID, "watchSeconds": SECONDS}

CONTRACTS: dict[str, Contract] = {
    c.type: c
    for c in (
        Contract(
            "user.registered",
            "auth",
            "an account was created",
            {"userId": ID, "email": TEXT, "firstName": TEXT, "lastName": TEXT},
        ),
        Contract("user.logged_in", "auth", "a user signed in", {"userId": ID, "at": TIME}),
        Contract("user.deleted", "auth", "an account was removed", {"userId": ID, "email": TEXT}),
        Contract("video.uploaded", "video", "a source file was stored", _VIDEO),
        Contract(
            "video.ready",
            "video",
            "processing finished; the video can be watched",
            {**_VIDEO, "duration": SECONDS},
        ),
        Contract("video.failed", "video", "processing failed", {"videoId": ID, "reason": TEXT}),
        Contract(
            "video.updated",
            "video",
            "the uploader edited it, or staff sent it back to processing",
            {**_VIDEO, "status": one_of("processing", "ready", "failed")},
        ),
        Contract(
            "video.deleted", "video", "a video was removed", {"videoId": ID, "uploadedBy": ID}
        ),
        Contract(
            "stream.started",
            "streaming",
            "a session opened, its first minute paid",
            {
                "sessionId": UUID,
                "userId": ID,
                "videoId": ID,
                "pricePerMinute": CENTS,
                "startedAt": TIME,
            },
        ),
        Contract(
            "stream.ended",
            "streaming",
            "a session closed",
            {
                "sessionId": UUID,
                "userId": ID,
                "videoId": ID,
                "watchSeconds": SECONDS,
                "amountCharged": CENTS,
                "minutesCharged": COUNT,
                "reason": one_of("user", "idle", "insufficient_funds", "video_deleted"),
                "endedAt": TIME,
            },
        ),
        Contract(
            "video.watched",
            "streaming",
            "what a closed session watched and paid",
            {"sessionId": UUID, **_VIEW, "amount": CENTS},
        ),
        Contract("payment.processed", "billing", "a wallet was charged", _PAYMENT),
        Contract(
            "payment.refunded",
            "billing",
            "a charge was paid back",
            _PAYMENT,
            notes="`idempotencyKey` is the refunded charge's; `amount` is positive",
        ),
        Contract(
            "wallet.credited",
            "billing",
            "money was deposited",
            {"transactionId": ID, "userId": ID, "amount": CENTS, "balanceAfter": CENTS},
        ),
        Contract(
            "analytics.projections.advanced",
            "analytics",
            "the read models now hold every stored event up to `position`",
            {"generation": ID, "position": COUNT},
            notes="sent in the transaction that moves them, and when a replay switches generation",
        ),
        Contract(
            "analytics.view_recorded",
            "analytics",
            "a view recorded through `POST /api/analytics/views`",
            _VIEW,
            on_bus=False,
        ),
        Contract(
            "analytics.profile_created",
            "analytics",
            "the registration saga's profile step",
            {"userId": ID, "email": TEXT, "sagaId": TEXT},
            on_bus=False,
        ),
        Contract(
            "analytics.profile_deleted",
            "analytics",
            "the registration saga's profile compensation",
            {"userId": ID, "sagaId": TEXT, "existed": {"type": "boolean"}},
            on_bus=False,
        ),
    )
}

BUS_TYPES = tuple(t for t, c in CONTRACTS.items() if c.on_bus)


def contract_of(type: str) -> Contract:
    try:
        return CONTRACTS[type]
    except KeyError:
        raise ContractBroken(f"{type!r} is not a registered event type") from None


def contract_check(*, type: str, data, publisher: str, strict: bool) -> None:
    """Raise `ContractBroken` (`strict`) or log if `publisher` may not send this payload."""
    try:
        contract = contract_of(type)
        problems = contract.violations(data)
        if contract.publisher != publisher:
            problems.append(f"published by {publisher}, but {contract.publisher} owns {type}")
    except ContractBroken as exc:
        problems = [str(exc)]
    if not problems:
        return
    message = f"{type} breaks its contract: {'; '.join(problems)}"
    if strict:
        raise ContractBroken(message)
    logger.error(message)
