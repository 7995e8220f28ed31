"""The event registry (`common.events.contracts`) agrees with the code around it: each type is
published by the service the registry names and by no other, every handler binds a registered
type to a function that exists, and docs/events.md shows what the registry and the handlers say.
"""

import re
import runpy

import pytest
from jsonschema import Draft202012Validator

from common.events.contracts import (
    BUS_TYPES,
    CENTS,
    CONTRACTS,
    COUNT,
    ID,
    SECONDS,
    TEXT,
    TIME,
    UUID,
    ContractBroken,
    contract_check,
)
from common.events.topology import topic_matches
from common.paths import REPO_ROOT
from common.service_registry import SERVICES
from common.testing.doc_tables import table_shown
from common.testing.sources import production_modules

EVENTS_PAGE = REPO_ROOT / "docs" / "events.md"
PUBLISH_CALL = re.compile(r"""\bpublish\(\s*["']([a-z_.]+)["']""")
KINDS = {
    id(ID): "id",
    id(COUNT): "count",
    id(CENTS): "cents",
    id(SECONDS): "seconds",
    id(TEXT): "text",
    id(TIME): "time",
    id(UUID): "uuid",
}


def event_handlers(service: str) -> dict:
    """The names `<service>_project/event_handlers.py` defines (plain literals, no imports)."""
    return runpy.run_path(str(REPO_ROOT / f"{service}_project/{service}_project/event_handlers.py"))


def production_sources(service: str):
    return production_modules(REPO_ROOT / f"{service}_project")


def published_types(service: str) -> set[str]:
    found = set()
    for path in production_sources(service):
        found.update(PUBLISH_CALL.findall(path.read_text()))
    return found


def test_each_schema_is_valid_json_schema():
    for contract in CONTRACTS.values():
        Draft202012Validator.check_schema(contract.schema)


def test_each_service_publishes_exactly_the_types_the_registry_gives_it():
    # analytics publishes projections.advanced through a named constant; its store-only
    # commands go through its own append, so both are found by their type string instead.
    for service in SERVICES:
        owned = {t for t, c in CONTRACTS.items() if c.publisher == service}
        found = published_types(service)
        if service == "analytics":
            text = "".join(p.read_text() for p in production_sources(service))
            found |= {t for t in owned if f'"{t}"' in text}
        assert found == owned, service


def test_every_handler_binds_a_registered_type_to_a_function_that_exists():
    for service in SERVICES:
        for event_type, path in event_handlers(service)["HANDLERS"].items():
            assert event_type in BUS_TYPES, f"{service} handles unregistered {event_type}"
            module, function = path.rsplit(".", 1)
            source = REPO_ROOT / f"{service}_project" / (module.replace(".", "/") + ".py")
            assert f"\ndef {function}(" in source.read_text(), f"{service}: {path} not found"


def test_every_edge_purge_pattern_matches_a_registered_type():
    for pattern in event_handlers("gateway")["EDGE_PURGES"]:
        assert any(topic_matches(pattern, t) for t in BUS_TYPES), pattern


@pytest.mark.parametrize(
    ("type", "data", "publisher", "problem"),
    [
        ("user.logged_in", {"userId": 7, "at": "2026-12-07T10:00:00+00:00"}, "auth", None),
        ("user.logged_in", {"userId": 7, "at": "yesterday"}, "auth", "at: 'yesterday'"),
        ("user.logged_in", {"userId": 7, "at": "2026-12-07T10:00:00"}, "auth", "at:"),
        ("user.logged_in", {"userId": "7", "at": "2026-12-07T10:00:00Z"}, "auth", "userId:"),
        ("user.logged_in", {"userId": 7}, "auth", "'at' is a required property"),
        ("user.deleted", {"userId": 7, "email": "a@b.c", "pw": "x"}, "auth", "'pw' was unexpected"),
        ("user.deleted", {"userId": 7, "email": "a@b.c"}, "billing", "auth owns user.deleted"),
        ("user.vanished", {"userId": 7}, "auth", "not a registered event type"),
        ("stream.ended", {"sessionId": "not-a-uuid"}, "streaming", "sessionId:"),
        (
            "payment.processed",
            {
                "transactionId": 1,
                "userId": 2,
                "videoId": None,
                "sessionId": None,
                "amount": 30,
                "balanceAfter": 70,
                "idempotencyKey": None,
            },
            "billing",
            None,
        ),
    ],
)
def test_a_payload_that_breaks_its_contract_is_refused(type, data, publisher, problem):
    if problem is None:
        contract_check(type=type, data=data, publisher=publisher, strict=True)
        return
    with pytest.raises(ContractBroken, match=re.escape(problem)):
        contract_check(type=type, data=data, publisher=publisher, strict=True)
    contract_check(type=type, data=data, publisher=publisher, strict=False)  # logged only


def _field(name: str, schema: dict, optional: tuple) -> str:
    if "anyOf" in schema:
        kind = f"{KINDS[id(schema['anyOf'][0])]} or null"
    elif "enum" in schema:
        kind = " / ".join(schema["enum"])
    else:
        kind = KINDS.get(id(schema), schema.get("type"))
    return f"{name}{'?' if name in optional else ''} ({kind})"


def events_table() -> list[str]:
    handlers = {s: event_handlers(s) for s in SERVICES}
    rows = [
        "| type | published by | what happened | data | consumed by |",
        "|---|---|---|---|---|",
    ]
    for type, contract in CONTRACTS.items():
        consumers = [
            f"{service}: `{found['HANDLERS'][type]}`"
            for service, found in handlers.items()
            if type in found["HANDLERS"]
        ]
        purges = handlers["gateway"]["EDGE_PURGES"]
        consumers += [
            f"gateway: drops its cached `{'`, `'.join(tags)}` answers"
            for pattern, tags in purges.items()
            if topic_matches(pattern, type)
        ]
        if not contract.on_bus:
            consumers = ["(never on the bus: kept in analytics' event store)"]
        summary = contract.summary + (f" ({contract.notes})" if contract.notes else "")
        data = ", ".join(_field(n, s, contract.optional) for n, s in contract.data.items())
        row = [f"`{type}`", contract.publisher, summary, data, "<br>".join(consumers) or "-"]
        rows.append("| " + " | ".join(row) + " |")
    return rows


def test_the_events_page_shows_the_registry():
    table = events_table()
    assert table_shown(EVENTS_PAGE, "events-table", table) == table, (
        "rewrite: STREAMIFY_DOCS_REWRITE=1"
    )
