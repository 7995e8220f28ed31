"""Client mistakes are 4xx, never 5xx, and never count against a breaker.

Every route that takes a body, on every service (read from each service's own OpenAPI schema,
plus the gateway's `/graphql`), is sent what a careless or hostile client sends: JSON nested
100,000 levels deep, a body of the wrong JSON type, fields of the wrong type, NUL characters,
bytes that are not UTF-8, numbers past any column (2**64, 1e400, -2**63-1), strings past any
limit, the wrong Content-Type and no body at all. Every route with a path or query parameter
gets NUL bytes, numbers past 64 bits, bytes that are not UTF-8 and words where a number goes.

Each case goes to the service directly and again through the gateway, with credentials that
pass (a bearer token, or a service token minted by the calling service), so what answers is the
route's parsing and validation. Each answer must be a 4xx carrying `{"error", "details"}`, no
table of any service may change, and afterwards the gateway's breakers must all be CLOSED with
no failure ever counted.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import requests

from common.service_registry import SERVICES, UPSTREAMS
from tests.support.full_platform import FullPlatform, booted_full_platform

# Routes each service must publish with a body: the suite fails if one goes missing from the
# schema (it would then be fuzzed no more).
BODY_ROUTES = {
    "gateway": {"POST /api/saga/register", "POST /graphql"},
    "auth": {
        "POST /api/auth/register",
        "POST /api/auth/login",
        "POST /api/auth/token/refresh",
        "POST /api/auth/logout",
        "PUT /api/auth/profile",
        "PATCH /api/auth/profile",
        "POST /api/auth/pending-credentials",
    },
    "video": {"POST /api/videos", "PUT /api/videos/{video_id}", "PATCH /api/videos/{video_id}"},
    "billing": {
        "POST /api/billing/deposit",
        "POST /api/billing/account/create",
        "POST /api/billing/charge",
        "POST /api/billing/refund",
    },
    "streaming": set(),
    "analytics": {
        "POST /api/analytics/cqrs/record-view",
        "POST /api/analytics/cqrs/replay-events",
        "POST /api/analytics/internal/profiles",
    },
}

# The gateway's GraphQL endpoint is not in its OpenAPI schema (graphene serves its own).
GRAPHQL = {
    "post": {
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string", "example": "query Q { __typename }"},
                            "variables": {"type": "object", "nullable": True},
                            "operationName": {"type": "string", "nullable": True, "example": "Q"},
                        },
                        "required": ["query"],
                    }
                }
            }
        },
        "security": [{}],
    }
}

# Routes for which no body at all is a complete request (every field has a default).
EMPTY_BODY_ACCEPTED = {"POST /api/analytics/cqrs/replay-events"}

DEEP = 100_000
HUGE_STRING_BYTES = 4 * 1024 * 1024  # past every service's body limit
LONG_STRING_CHARS = 200_000  # within the upstreams' limits, past every field's max_length


@dataclass(frozen=True)
class Case:
    """One request: what it is, the raw body and its Content-Type (None: no header)."""

    name: str
    body: bytes | None = None
    content_type: str | None = "application/json"
    path: str | None = None
    query: str = ""


@dataclass
class Route:
    service: str
    method: str
    path: str
    operation: dict
    schema: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def media_types(self) -> list[str]:
        return list(self.operation.get("requestBody", {}).get("content", {}))

    def body_schema(self) -> dict:
        content = self.operation.get("requestBody", {}).get("content", {})
        found = content.get("application/json") or next(iter(content.values()), {})
        return _resolve(self.schema, found.get("schema", {}))

    def parameters(self, location: str) -> list[dict]:
        return [p for p in self.operation.get("parameters", []) if p["in"] == location]


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = schema["components"]["schemas"][name]
    if "allOf" in node:
        merged = {"type": "object", "properties": {}, "required": []}
        for part in node["allOf"]:
            part = _resolve(schema, part)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return merged
    return node


def routes(full: FullPlatform, service: str) -> list[Route]:
    schema = full.schema(service)
    paths = dict(schema["paths"])
    if service == "gateway":
        paths["/graphql"] = GRAPHQL
    found = []
    for path, operations in sorted(paths.items()):
        for method, operation in operations.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                found.append(Route(service, method, path, operation, schema))
    return found


# --- valid values ---------------------------------------------------------------


def valid_path_values(full: FullPlatform) -> dict[str, str]:
    session = full.session
    token = session["hlsUrl"].split("/")[-3]
    return {
        "video_id": str(full.video_ids[0]),
        "user_id": str(full.demo_user_id),
        "session_id": session["sessionId"],
        "token": token,
        "name": session["hlsUrl"].rsplit("/", 1)[1],
        "saga_id": "00000000-0000-4000-8000-000000000000",
        "period": "daily",
        "service": "auth",
    }


def _sample(node: dict, name: str):
    kind = node.get("type")
    if "example" in node:
        return node["example"]
    if node.get("enum"):
        return node["enum"][0]
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if node.get("format") == "email" or name == "email":
        return "fuzz@example.com"
    if node.get("format") == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    if node.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    return "abcdefgh12"


def base_body(route: Route) -> dict:
    """A body whose fields are all plausible, so a bad one alone is what is wrong."""
    node = route.body_schema()
    properties = node.get("properties", {})
    return {name: _sample(prop, name) for name, prop in properties.items()}


# --- the cases ----------------------------------------------------------------------------------


def _json(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


BAD_VALUES = {
    "false": b"false",
    "true": b"true",
    "null": b"null",
    "a list": b"[]",
    "a number": b"123",
    "a string": b'"x"',
    "2**64": str(2**64).encode(),
    "1e400": b"1e400",
    "-2**63-1": str(-(2**63) - 1).encode(),
    "an object": b'{"nested":{"deeper":[1,2,{"x":null}]}}',
    "a NUL string": b'"a\\u0000b"',
    "a lone surrogate": b'"\\ud800"',
    "a long string": b'"' + b"x" * LONG_STRING_CHARS + b'"',
}


def body_cases(route: Route) -> Iterator[Case]:
    yield Case("nested 100000 lists deep", b"[" * DEEP + b"]" * DEEP)
    yield Case("nested 100000 objects deep", b'{"a":' * DEEP + b"1" + b"}" * DEEP)
    for name, raw in BAD_VALUES.items():
        yield Case(f"body {name}", raw)
    if route.label not in EMPTY_BODY_ACCEPTED:
        yield Case("empty body", b"")
        yield Case("empty body, no Content-Type", b"", None)
        yield Case("empty object", b"{}")
    yield Case("NUL byte outside a string", b'{"a":1}\x00')
    yield Case("not UTF-8", b'{"email":"\xff\xfe\xfa"}')
    yield Case("UTF-16", '{"a":"b"}'.encode("utf-16"), "application/json; charset=utf-16")
    yield Case("truncated JSON", b'{"a": [1, 2')
    yield Case("body past the size limit", b'{"a":"' + b"x" * HUGE_STRING_BYTES + b'"}')
    yield Case("text/plain", b'{"a":1}', "text/plain")
    yield Case("application/xml", b"<a>1</a>", "application/xml")
    yield Case("multipart without a boundary", b'{"a":1}', "multipart/form-data")
    yield Case("form-encoded nonsense", b"a=%00&b=%ff&c", "application/x-www-form-urlencoded")
    base = base_body(route)
    properties = route.body_schema().get("properties", {})
    for name in base:
        for label, raw in BAD_VALUES.items():
            if label in _fitting(properties[name]):
                continue
            body = (
                b"{"
                + b",".join(
                    _json(key) + b":" + (raw if key == name else _json(value))
                    for key, value in base.items()
                )
                + b"}"
            )
            yield Case(f"field {name} = {label}", body)


def _fitting(node: dict) -> set[str]:
    """The labels of BAD_VALUES that are no mistake for a field described by `node`."""
    kind = node.get("type")
    fitting = {"null"} if node.get("nullable") else set()
    if kind == "string" and not (node.get("format") or node.get("enum") or node.get("pattern")):
        fitting.add("a string")
    if kind == "string" and "maxLength" not in node:
        fitting.add("a long string")
    if kind in {"integer", "number"} and node.get("maximum", 123) >= 123:
        fitting.add("a number")
    if kind == "boolean":
        fitting |= {"true", "false"}
    if kind == "object":
        fitting.add("an object")
    if kind == "array":
        fitting.add("a list")
    return fitting


BAD_SEGMENTS = {
    "NUL": "%00",
    "NUL after a valid prefix": None,  # filled per parameter
    "2**64": str(2**64),
    "-2**63-1": str(-(2**63) - 1),
    "30 digits": "9" * 30,
    "not UTF-8": "%ff%fe",
    "a word": "abc",
    "a traversal": "..%2f..%2fetc%2fpasswd",
}


def path_cases(route: Route, valid: dict[str, str]) -> Iterator[Case]:
    for parameter in route.parameters("path"):
        name = parameter["name"]
        for label, bad in BAD_SEGMENTS.items():
            if bad is None:
                bad = quote(valid[name]) + "%00"
            values = {k: quote(v, safe="") for k, v in valid.items()}
            values[name] = bad
            yield Case(f"path {name} = {label}", None, None, path=route.path.format(**values))


BAD_QUERY_VALUES = {
    "NUL": "%00",
    "2**64": str(2**64),
    "-2**63-1": str(-(2**63) - 1),
    "1e400": "1e400",
    "not UTF-8": "%ff%fe",
    "a word": "abc",
    "long": "9" * 5000,
}


def query_cases(route: Route) -> Iterator[Case]:
    for parameter in route.parameters("query"):
        name, node = parameter["name"], parameter.get("schema", {})
        for label, bad in BAD_QUERY_VALUES.items():
            if _free_text(node) and not _bad_text(label, node):
                continue
            yield Case(f"query {name} = {label}", None, None, query=f"{name}={bad}")


def _free_text(node: dict) -> bool:
    return node.get("type") == "string" and not (node.get("format") or node.get("enum"))


def _bad_text(label: str, node: dict) -> bool:
    """Any word or number is free text; only a NUL, or more than it may hold, is not."""
    return label == "NUL" or (label == "long" and "maxLength" in node)


# --- sending and judging ------------------------------------------------------------------------


@dataclass
class Outcome:
    route: str
    case: str
    via: str
    status: int
    problem: str | None


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    body_routes: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def wrong(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.problem]

    @property
    def server_errors(self) -> int:
        return sum(o.status >= 500 or o.status == 0 for o in self.outcomes)

    def report(self) -> str:
        lines = [f"{len(self.wrong)} of {len(self.outcomes)} cases answered wrongly:"]
        lines += [f"  {o.route} [{o.case}] via {o.via}: {o.problem}" for o in self.wrong[:60]]
        return "\n".join(lines + self.changes)


def send(full: FullPlatform, route: Route, case: Case, *, via: str, headers: dict, valid: dict):
    path = case.path or route.path.format(**{k: quote(v, safe="") for k, v in valid.items()})
    if case.query:
        path = f"{path}?{case.query}"
    if case.content_type is not None:
        headers = {**headers, "Content-Type": case.content_type}
    # A fresh connection each time, as a new client would open.
    return requests.request(
        route.method.upper(), full.url(via, path), data=case.body, headers=headers, timeout=60
    )


def judge(response: requests.Response) -> str | None:
    """What is wrong with the answer to a bad request, or None."""
    if response.status_code >= 500:
        return f"server error {response.status_code}: {response.text[:300]}"
    if response.status_code < 400:
        return f"accepted ({response.status_code}): {response.text[:300]}"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} without a JSON body: {response.text[:200]!r}"
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return f"{response.status_code} without an error message: {body!r:.300}"
    if not isinstance(body.get("details"), list):
        return f"{response.status_code} without a details list: {body!r:.300}"
    return None


def fuzz_service(full: FullPlatform, service: str) -> Run:
    """Send every case to every route of `service`, directly and through the gateway."""
    valid = valid_path_values(full)
    run = Run()
    for route in routes(full, service):
        cases = [*path_cases(route, valid), *query_cases(route)]
        if route.media_types:
            run.body_routes.append(route.label)
            cases = [*body_cases(route), *cases]
        if not cases:
            continue
        before = {s: full.fingerprint(s) for s in _owners(service)}
        for via in dict.fromkeys((service, "gateway")):
            headers = full.route_headers(service, route.path, route.operation)
            for case in cases:
                try:
                    response = send(full, route, case, via=via, headers=headers, valid=valid)
                except requests.ConnectionError as exc:
                    problem, status = f"no answer: {exc}", 0
                else:
                    problem, status = judge(response), response.status_code
                run.outcomes.append(Outcome(route.label, case.name, via, status, problem))
        for owner, tables in before.items():
            after = full.fingerprint(owner)
            changed = sorted(t for t in after if after[t] != tables.get(t))
            if changed:
                run.changes.append(f"  {route.label} changed {owner}'s tables {changed}")
    return run


def _owners(service: str) -> tuple[str, ...]:
    """Whose tables a request to `service` could change (the gateway's reach every upstream)."""
    return SERVICES if service == "gateway" else (service, "gateway")


def assert_breakers_untouched(full: FullPlatform) -> None:
    breakers = full.breakers()
    assert set(breakers) >= set(UPSTREAMS), breakers
    counted = {
        name: (b["state"], b["failures"], b["totalFailures"], b["lastError"])
        for name, b in breakers.items()
        if (b["state"], b["failures"], b["totalFailures"]) != ("CLOSED", 0, 0)
    }
    assert not counted, f"breakers that counted a client's mistake: {counted}"


@pytest.fixture(scope="module")
def full() -> Iterator[FullPlatform]:
    with booted_full_platform() as platform:
        yield platform


@pytest.mark.real_backends
@pytest.mark.parametrize("service", SERVICES)
def test_bad_input_is_a_4xx_that_changes_nothing_and_trips_no_breaker(full, service):
    run = fuzz_service(full, service)

    print(
        f"\n{service}: {len(run.outcomes)} cases on {len(run.body_routes)} body routes, "
        f"{run.server_errors} server errors, {len(run.wrong)} wrong answers"
    )
    assert set(run.body_routes) >= BODY_ROUTES[service], BODY_ROUTES[service] - set(run.body_routes)
    assert not run.wrong and not run.changes, run.report()
    assert_breakers_untouched(full)
