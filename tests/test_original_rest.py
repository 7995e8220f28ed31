"""Clients written for the original system's REST API find, in Streamify's JSON answers, every
field the original sent them, under the same name and with the same JSON type.

The whole platform is booted once; every route of CONTRACT.md §1.2-1.7 is called once, in an
order that gives each what it needs, as the original's client called it: through the gateway
(health routes on the service itself), with the credentials Streamify requires where it is
stricter on purpose (a bearer token on analytics reads, service tokens on internal routes, the
signed media URL). The answers are kept; each route's test then lists everything missing at
once. `tests/compat/original_rest.py` holds the original's side; docs/compat.md shows the table
`render_table` draws from both.
"""

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from common.paths import REPO_ROOT
from common.testing.doc_tables import table_shown
from deploy.bench_http.dataset import clip
from tests.compat.original_rest import (
    ACTIVITY_ROW,
    ARRAY,
    BOOL,
    BYTES,
    CALLER,
    DIFFERENCES,
    EMPTY,
    INT,
    NUMBER,
    OBJECT,
    ROUTES,
    STRING,
    SUBJECT,
    TRANSACTION_ROW,
    UPSTREAMS,
    VIDEO_ANALYTICS_ROW,
    VIDEO_ROW,
    Field,
    Ref,
    Route,
)
from tests.support.full_platform import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    INTERNAL_CALLERS,
    FullPlatform,
    booted_full_platform,
)

COMPAT = REPO_ROOT / "docs" / "compat.md"
BEARER, STAFF = "bearer token", "staff bearer token"
# A user id nobody has: what the internal routes are called for when registration failed.
NOBODY = 2_000_000_000
# Where Streamify keeps the record the original sent as a raw row, when not where it was.
STREAMIFY_RECORDS = {"V1": "videos[]", "V2": "", "B5": "transactions[]", "N5": "videos[]"}
ROW_KINDS = {
    VIDEO_ROW: "video record",
    TRANSACTION_ROW: "transaction record",
    VIDEO_ANALYTICS_ROW: "video-analytics record",
    ACTIVITY_ROW: "activity record",
}
# The saga's steps run on these services' workers (the booted platform starts none).
SAGA_WORKERS = ("gateway", "auth", "billing", "analytics")
SAGA_SETTLED = {"completed", "failed", "stuck"}
MISSING = object()


@dataclass
class Seen:
    """One answer, and how Streamify had to be asked where its client would not have."""

    status: int
    body: object = None
    content_type: str = ""
    via: str = ""
    creds: str = ""
    subject: int | None = None
    note: str = ""


@dataclass
class Observed:
    demo_user_id: int
    seen: dict[str, Seen] = field(default_factory=dict)

    def refs(self, seen: Seen) -> dict[Ref, object]:
        return {CALLER: self.demo_user_id, SUBJECT: seen.subject}


# --- calling every route ------------------------------------------------------------------------


class Journey:
    def __init__(self, full: FullPlatform, workdir: Path):
        self.full = full
        self.workdir = workdir
        self.observed = Observed(full.demo_user_id)
        self.bearer = full.user_headers()
        self.staff = full.user_headers(staff=True)
        self.newcomer, self.newcomer_email = NOBODY, f"compat-{uuid.uuid4().hex[:8]}@example.com"

    def call(self, key: str, method: str, path: str, *, service: str = "gateway", **kwargs) -> Seen:
        """`path` on `service`; `via`, `creds`, `subject` and `note` describe the call."""
        described = {k: kwargs.pop(k) for k in ("via", "creds", "subject", "note") if k in kwargs}
        try:
            response = self.full.http.request(
                method, self.full.url(service, path), timeout=60, **kwargs
            )
        except requests.RequestException as exc:
            seen = Seen(0, note=f"no answer: {type(exc).__name__}")
        else:
            seen = Seen(response.status_code, _json(response), _media_type(response))
        for name, value in described.items():
            if value:
                setattr(seen, name, value)
        self.observed.seen[key] = seen
        return seen

    def skip(self, key: str, why: str) -> None:
        self.observed.seen[key] = Seen(0, note=why)

    def internal(self, template: str, audience: str) -> dict:
        """Headers and description of the service token the route's own caller sends."""
        caller, scopes = INTERNAL_CALLERS[template]
        headers = self.full.service_headers(caller=caller, audience=audience, scopes=scopes)
        return {"headers": headers, "creds": f"service token of {caller} ({', '.join(scopes)})"}

    @property
    def user_kwargs(self) -> dict:
        return {"headers": self.bearer, "creds": BEARER}

    @property
    def staff_kwargs(self) -> dict:
        return {"headers": self.staff, "creds": STAFF}


def walk(full: FullPlatform, workdir: Path) -> Observed:
    journey = Journey(full, workdir)
    journey.call("G1", "GET", "/health")
    journey.call("G2", "GET", "/api/circuit-breaker/stats")
    for key, service in (
        ("A7", "auth"), ("V6", "video"), ("S5", "streaming"), ("B8", "billing"),
        ("N15", "analytics"),
    ):  # fmt: skip
        journey.call(key, "GET", "/health", service=service)
    _auth(journey)
    _videos(journey)
    session_id = _playback(journey)
    _billing(journey, session_id)
    _analytics(journey)
    _compensations(journey)
    _saga(journey)
    return journey.observed


def _auth(journey: Journey) -> None:
    registered = journey.call(
        "A1",
        "POST",
        "/api/auth/register",
        json={
            "email": journey.newcomer_email,
            "password": "compat-password",
            "firstName": "Compat",
            "lastName": "Client",
        },
    )
    journey.newcomer = _int(_dig(registered.body, "user.id")) or NOBODY
    login = journey.call(
        "A2", "POST", "/api/auth/login", json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    )
    # The original's client sends the token its login answered.
    token, signed_in = _dig(login.body, "token"), journey.user_kwargs
    if isinstance(token, str):
        signed_in = {"headers": {"Authorization": f"Bearer {token}"}, "creds": BEARER}
    verified = journey.call("A3", "POST", "/api/auth/verify", **signed_in)
    journey.call("A4", "GET", "/api/auth/profile", **signed_in)
    # The demo user's own first name again: an edit that changes nothing the reads see.
    first_name = _dig(verified.body, "firstName")
    journey.call(
        "A5",
        "PUT",
        "/api/auth/profile",
        json={"firstName": first_name if isinstance(first_name, str) else "Demo"},
        **signed_in,
    )


def _videos(journey: Journey) -> None:
    watched = journey.full.video_ids[0]
    journey.call("V1", "GET", "/api/videos")
    journey.call("V3", "GET", f"/api/videos/{watched}")
    with clip(journey.workdir).open("rb") as handle:
        uploaded = journey.call(
            "V2",
            "POST",
            "/api/videos",
            data={"title": "Compat upload", "category": "general", "pricePerMinute": "10"},
            files={"videoFile": ("compat.mp4", handle, "video/mp4")},
            **journey.user_kwargs,
        )
    video_id = _int(_dig(uploaded.body, "video.id")) or _int(_dig(uploaded.body, "id"))
    if video_id is None:
        for key in ("V4", "V5"):
            journey.skip(key, "not called: V2 uploaded no video")
        return
    journey.call(
        "V4",
        "PUT",
        f"/api/videos/{video_id}",
        json={"title": "Compat upload, renamed"},
        **journey.user_kwargs,
    )
    journey.call("V5", "DELETE", f"/api/videos/{video_id}", **journey.user_kwargs)


def _playback(journey: Journey) -> str | None:
    started = journey.call(
        "S1", "POST", f"/api/stream/start/{journey.full.video_ids[0]}", **journey.user_kwargs
    )
    session_id, stream_url = _dig(started.body, "sessionId"), _dig(started.body, "streamUrl")
    if isinstance(stream_url, str):
        journey.call(
            "S2",
            "GET",
            stream_url,
            headers={"Range": "bytes=0-1023"},
            via="the signed `streamUrl` S1 answers (the bare path is refused, 403)",
        )
    else:
        journey.skip("S2", "not called: S1 gave no streamUrl")
    if not isinstance(session_id, str):
        for key in ("S3", "S4"):
            journey.skip(key, "not called: S1 gave no sessionId")
        return None
    journey.call("S3", "PUT", f"/api/stream/heartbeat/{session_id}", **journey.user_kwargs)
    journey.call("S4", "POST", f"/api/stream/end/{session_id}", **journey.user_kwargs)
    return session_id


def _billing(journey: Journey, session_id: str | None) -> None:
    journey.call("B2", "GET", "/api/billing/balance", **journey.user_kwargs)
    journey.call("B3", "POST", "/api/billing/deposit", json={"amount": 5000}, **journey.user_kwargs)
    create = journey.internal("/api/billing/account/create", "billing")
    for key in ("B1 (new)", "B1 (exists)"):
        journey.call(
            key, "POST", "/api/billing/account/create", json={"userId": journey.newcomer}, **create
        )
    journey.call(
        "B4",
        "POST",
        "/api/billing/charge",
        json={
            "userId": journey.full.demo_user_id,
            "amount": 1,
            "sessionId": session_id or "",
            "idempotencyKey": f"compat-{uuid.uuid4()}",
        },
        via="body adds `idempotencyKey`",
        **journey.internal("/api/billing/charge", "billing"),
    )
    journey.call("B5", "GET", "/api/billing/transactions", **journey.user_kwargs)
    journey.call("B6", "GET", "/api/billing/revenue/total", **journey.user_kwargs)


def _analytics(journey: Journey) -> None:
    demo, video_ids = journey.full.demo_user_id, journey.full.video_ids
    watched = video_ids[0]
    unwatched = video_ids[-1] if len(video_ids) > 1 else 999_999
    journey.call(
        "N10",
        "POST",
        "/api/analytics/cqrs/record-view",
        json={"userId": demo, "videoId": watched, "watchTime": 120},
        **journey.user_kwargs,
    )
    # The original's exposed-internal track, as streaming's heartbeat called it.
    journey.call(
        "N1",
        "POST",
        "/api/analytics/track",
        json={"userId": demo, "videoId": watched, "watchTime": 30, "revenue": 10},
        **journey.user_kwargs,
    )
    has_data = _wait_for_views(journey, watched)
    reads = {
        "N2": "/api/analytics/dashboard",
        "N3 (no data)": f"/api/analytics/videos/{unwatched}",
        "N3 (has data)": f"/api/analytics/videos/{watched}",
        "N4": "/api/analytics/user",
        "N5": "/api/analytics/top-videos",
        "N6": "/api/analytics/revenue",
        "N7": "/api/analytics/reports/daily",
        "N11": f"/api/analytics/cqrs/video/{watched}/stats",
        "N12": f"/api/analytics/cqrs/user/{demo}/history",
        "N13": "/api/analytics/cqrs/platform/stats",
    }
    for key, path in reads.items():
        note = "" if has_data else "record-view's view never showed in the read models"
        journey.call(key, "GET", path, subject=demo, note=note, **journey.user_kwargs)


def _wait_for_views(journey: Journey, video_id: int, timeout: float = 15) -> bool:
    """Whether the view N10 recorded reached the read models (projected after the append)."""
    url = journey.full.url("gateway", f"/api/analytics/cqrs/video/{video_id}/stats")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = journey.full.http.get(url, headers=journey.bearer, timeout=30)
        body = _json(response)
        if _dig(body, "totalViews") not in (MISSING, None, 0):
            return True
        time.sleep(0.2)
    return False


def _compensations(journey: Journey) -> None:
    """The saga's internal routes, for a user of this run only; the undoing in saga order."""
    newcomer = journey.newcomer
    saga_id = f"compat-{uuid.uuid4().hex}"
    created = journey.internal("/api/analytics/internal/profiles", "analytics")
    for key in ("N8 (new)", "N8 (exists)"):
        journey.call(
            key,
            "POST",
            "/api/analytics/internal/profiles",
            json={"sagaId": saga_id, "userId": newcomer, "email": journey.newcomer_email},
            via="Streamify route `POST /api/analytics/internal/profiles`; body adds `sagaId`, "
            "`email`",
            subject=newcomer,
            **created,
        )
    journey.call(
        "N9",
        "DELETE",
        f"/api/analytics/internal/profiles/{newcomer}?sagaId={saga_id}",
        via="Streamify route `DELETE /api/analytics/internal/profiles/:userId?sagaId=`",
        subject=newcomer,
        **journey.internal("/api/analytics/internal/profiles/{user_id}", "analytics"),
    )
    journey.call(
        "B7",
        "DELETE",
        f"/api/billing/account/{newcomer}",
        subject=newcomer,
        **journey.internal("/api/billing/account/{user_id}", "billing"),
    )
    journey.call(
        "A6",
        "DELETE",
        f"/api/auth/users/{newcomer}",
        subject=newcomer,
        **journey.internal("/api/auth/users/{user_id}", "auth"),
    )
    # Last of analytics: the replay rebuilds the read models the reads above answered from.
    journey.call(
        "N14", "POST", "/api/analytics/cqrs/replay-events", json={}, **journey.staff_kwargs
    )


def _saga(journey: Journey, timeout: float = 120) -> None:
    """Register through the saga with its workers running, and read the finished document."""
    platform = journey.full.platform
    with ThreadPoolExecutor(max_workers=len(SAGA_WORKERS)) as pool:
        list(pool.map(lambda s: platform.start_worker(s, concurrency=1), SAGA_WORKERS))
    seen = journey.call(
        "G3",
        "POST",
        "/api/saga/register",
        json={
            "email": f"compat-saga-{uuid.uuid4().hex[:8]}@example.com",
            "password": "compat-password",
            "firstName": "Saga",
            "lastName": "Client",
        },
    )
    saga_id = _dig(seen.body, "sagaId")
    if seen.status != 202 or not isinstance(saga_id, str):
        return
    # Answered 202 (the booted platform waits only briefly): read what a 201 would carry.
    url = journey.full.url("gateway", f"/api/saga/{saga_id}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document = _json(journey.full.http.get(url, timeout=30))
        if _dig(document, "status") in SAGA_SETTLED:
            seen.body = document
            return
        time.sleep(0.5)
    seen.note = f"still running after {timeout:g} s"


# --- reading the answers ------------------------------------------------------------------------


def _json(response: requests.Response):
    if "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def _dig(body, path: str):
    node = body
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def json_type(value) -> str:
    if value is MISSING:
        return "absent"
    if value is None:
        return "null"
    for kind, types in (
        (BOOL, bool), (INT, int), (NUMBER, float), (STRING, str), (ARRAY, list), (OBJECT, dict),
    ):  # fmt: skip
        if isinstance(value, types):
            return kind
    return type(value).__name__


def _fits(value, wanted: str) -> bool:
    found = json_type(value)
    return found == wanted or (wanted == NUMBER and found == INT)


STATUS = "(status)"


@dataclass(frozen=True)
class Gap:
    field: str
    problem: str
    declared: bool

    def __str__(self) -> str:
        label = {"": "", STATUS: "status "}.get(self.field, f"`{self.field}` ")
        return f"{'declared ' if self.declared else ''}{label}{self.problem}"


def gaps(route: Route, seen: Seen | None, refs: dict) -> list[Gap]:
    """What a client of the original misses in `seen`, its answer to `route`."""
    if seen is None or seen.status == 0:
        return [Gap("", (seen.note if seen else "") or "not called", not route.worked)]
    if not 200 <= seen.status < 300:
        error = _dig(seen.body, "error")
        said = f" `{error}`" if isinstance(error, str) else ""
        return [Gap("", f"answered {seen.status}{said}", not route.worked)]
    found: list[Gap] = []
    if route.body == BYTES:
        if seen.content_type != "video/mp4":
            found.append(Gap("", f"answered `{seen.content_type}`", not route.worked))
    elif route.body != EMPTY and json_type(seen.body) != route.body:
        found.append(Gap("", f"body is {json_type(seen.body)}, not {route.body}", not route.worked))
    for wanted in route.fields:
        problem = _field_problem(wanted, _dig(seen.body, wanted.path), refs)
        if problem:
            found.append(Gap(wanted.path, problem, wanted.declared or not route.worked))
    if seen.status not in (route.status, *route.also):
        found.append(Gap(STATUS, f"{seen.status}, not {route.status}", not route.worked))
    return found


def _field_problem(wanted: Field, value, refs: dict) -> str | None:
    if value is MISSING:
        return "absent"
    if not _fits(value, wanted.type):
        return f"is {json_type(value)}, not {wanted.type}"
    if isinstance(wanted.value, Ref):
        expected = refs.get(wanted.value)
        return None if expected is None or value == expected else f"is not {wanted.value.name}"
    if wanted.value is not None and value != wanted.value:
        return f"is {json.dumps(value)}, not {json.dumps(wanted.value)}"
    return None


def _records(body, at: str) -> list:
    if at.endswith("[]"):
        container = body if at == "[]" else _dig(body, at[:-2])
        return [r for r in container if isinstance(r, dict)] if isinstance(container, list) else []
    record = body if at == "" else _dig(body, at)
    return [record] if isinstance(record, dict) else []


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def row_names(route: Route, seen: Seen | None) -> str:
    """Which of the raw row's snake_case names Streamify's record carries (documented only)."""
    if not route.rows or seen is None or not 200 <= seen.status < 300:
        return ""
    at = STREAMIFY_RECORDS.get(route.id, route.rows_at)
    records = _records(seen.body, at)
    if not records:
        return f"no record at `{at or 'the body'}` to compare"
    record = records[0]
    same = [n for n in route.rows if n in record]
    camel = [_camel(n) for n in route.rows if n not in record and _camel(n) in record]
    absent = [n for n in route.rows if n not in record and _camel(n) not in record]
    parts = [
        f"as is {_names(same)}" if same else "",
        f"camelCase {_names(camel)}" if camel else "",
        f"absent {_names(absent)}" if absent else "",
    ]
    where = f" (record at `{at or 'the body'}`)" if at != route.rows_at else ""
    return "row names: " + "; ".join(p for p in parts if p) + where


def _names(names: list[str]) -> str:
    return " ".join(f"`{n}`" for n in names)


# --- the table docs/compat.md shows -------------------------------------------------------------


def _general(text: str) -> str:
    upstream = "|".join(UPSTREAMS)
    text = re.sub(rf"\.({upstream})`", ".<upstream>`", text)
    return re.sub(rf"`({upstream})\.", "`<upstream>.", text)


def _collapsed(texts: list[str]) -> list[str]:
    """One text for five that differ only in the upstream named (G1 and G2 name all five)."""
    counts = Counter(_general(t) for t in texts)
    shown = [_general(t) if counts[_general(t)] == len(UPSTREAMS) else t for t in texts]
    return list(dict.fromkeys(shown))


def _wanted(wanted: Field) -> str:
    text = f"`{wanted.path}` {wanted.type}"
    if isinstance(wanted.value, Ref):
        text += " (the caller)" if wanted.value is CALLER else " (the user named)"
    elif wanted.value is not None:
        text += f" `{json.dumps(wanted.value)}`"
    return text + (" (declared)" if wanted.declared else "")


def _original_cell(route: Route) -> str:
    parts = {ARRAY: ["array"], BYTES: [BYTES], EMPTY: ["empty body"]}.get(route.body, [])
    parts += _collapsed([_wanted(f) for f in route.fields])
    if route.rows:
        many = "s" if route.rows_at.endswith("[]") else ""
        parts.append(f"{ROW_KINDS[route.rows]}{many} at `{route.rows_at or 'the body'}`")
    return ", ".join(parts) or "no field (`{}`)"


def _streamify_cell(route: Route, seen: Seen | None, refs: dict) -> str:
    found = gaps(route, seen, refs)
    text = "; ".join(_collapsed([str(g) for g in found])) or "all present"
    rows = row_names(route, seen)
    return f"{text}. {rows}" if rows else text


def _notes_cell(route: Route, seen: Seen | None) -> str:
    notes = [route.note]
    if any("<upstream>" in t for t in _collapsed([f"`{f.path}`" for f in route.fields])):
        notes.append(f"`<upstream>`: each of {', '.join(UPSTREAMS)}")
    if not route.worked:
        notes.append("never answered success in the original (§7): declared shape")
    if seen is not None:
        notes += [seen.via, seen.note]
        if seen.creds and not (route.bearer and seen.creds == BEARER):
            notes.append(f"sent with a {seen.creds}")
    return "; ".join(n for n in notes if n)


def _why_cell(route: Route) -> str:
    """Why Streamify differs where it does on purpose."""
    reasons = [
        f"{'status' if f == STATUS else f'`{f}`' if f else 'body'}: {why}"
        for (key, f), why in DIFFERENCES.items()
        if key == route.key
    ]
    return "; ".join(_collapsed(reasons)) or "–"


def _route_cell(route: Route) -> str:
    where = f" on {route.direct}" if route.direct else ""
    return f"{route.key} `{route.method} {route.path}`{where}"


def render_table(observed: Observed) -> list[str]:
    lines = [
        "| route | original fields | Streamify | why it differs | notes |",
        "|---|---|---|---|---|",
    ]
    for route in ROUTES:
        seen = observed.seen.get(route.key)
        refs = observed.refs(seen) if seen else {}
        cells = (
            _route_cell(route),
            _original_cell(route),
            _streamify_cell(route, seen, refs),
            _why_cell(route),
            _notes_cell(route, seen),
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines


# --- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Iterator[Observed]:
    with booted_full_platform() as full:
        yield walk(full, tmp_path_factory.mktemp("original-rest"))


@pytest.mark.real_backends
@pytest.mark.parametrize("route", ROUTES, ids=[r.key.replace(" ", "-") for r in ROUTES])
def test_a_client_of_the_original_finds_every_field_it_read(observed, route):
    seen = observed.seen.get(route.key)
    found = gaps(route, seen, observed.refs(seen) if seen else {})
    on_purpose = {f for key, f in DIFFERENCES if key == route.key}
    missing = [str(g) for g in found if not g.declared and g.field not in on_purpose]
    declared = [str(g) for g in found if g.declared and g.field not in on_purpose]
    stale = on_purpose - {g.field for g in found}
    assert not stale, f"{route.key}: listed in DIFFERENCES but answered as the original: {stale}"
    context = f"{route.key} {route.method} {route.path}: answered {seen.status if seen else '-'}"
    assert not missing, f"{context}\n  " + "\n  ".join(missing + declared)
    if declared:
        # Shapes the original declared but never sent: nice to have, listed, not required.
        pytest.xfail(f"{context}; declared only: " + "; ".join(declared))


@pytest.mark.real_backends
def test_the_rest_table_renders_one_row_per_route(observed):
    table = render_table(observed)
    assert len(table) == 2 + len(ROUTES)
    print("\n" + "\n".join(table))


@pytest.mark.real_backends
def test_the_compat_page_shows_the_rest_table(observed):
    table = render_table(observed)
    assert table_shown(COMPAT, "rest-table", table) == table, "rewrite: STREAMIFY_DOCS_REWRITE=1"
