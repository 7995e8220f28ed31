"""`publish`: the only way a service emits an event."""

from django.conf import settings
from django.db import transaction

from common import tracing
from common.events.contracts import contract_check
from common.events.envelope import make_envelope
from common.events.models import OutboxEvent


def publish(type: str, data: dict, *, correlation_id: str | None = None) -> dict:
    """Write the event to the outbox in the caller's transaction; relay it once that commits.

    `data` must keep to the type's contract (`common.events.contracts`): a payload that breaks
    it raises `ContractBroken` in the developer mode and in tests, and is logged elsewhere.

    A rolled-back transaction takes the event with it, and a broker that is down at commit
    time only delays delivery: the worker's sweep relays whatever is still pending.
    """
    contract_check(
        type=type,
        data=data,
        publisher=settings.SERVICE_NAME,
        strict=settings.EVENTS_ENFORCE_CONTRACTS,
    )
    envelope = tracing.stamp(
        make_envelope(
            type=type, data=data, source=settings.EVENTS_SOURCE, correlation_id=correlation_id
        )
    )
    OutboxEvent.objects.create(id=envelope["id"], type=type, envelope=envelope)
    transaction.on_commit(lambda: _relay_now(envelope["id"]), robust=True)
    return envelope


def _relay_now(event_id: str) -> None:
    from common.events.relay import relay_outbox

    relay_outbox(event_ids=[event_id])
