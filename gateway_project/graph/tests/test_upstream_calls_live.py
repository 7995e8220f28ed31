"""GraphQL cost = upstream calls, through a real gateway (gunicorn) whose video, analytics,
billing and streaming services are one recording upstream (counting_upstream.py): every call
that reaches a service is counted, so "refused before any call" is observed, not assumed."""

import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from conftest import CLOSED, GatewayPlatform

from common.service_registry import UPSTREAMS
from common.testing.processes import BIN, Process, free_port
from common.testing.tokens import bearer

HERE = Path(__file__).resolve().parent
USER = 7
SESSION = "0b0b7c4e-4f5d-4c61-9a59-8f4b0a1f2d3e"
CALL_CAP = 20


@pytest.fixture(scope="module")
def live():
    root = Path(tempfile.mkdtemp(prefix="gw-graph-calls-"))
    with ExitStack() as stack:
        platform = GatewayPlatform(stack, root)
        port = free_port()
        argv = [
            str(BIN / "gunicorn"), "--chdir", str(HERE), "counting_upstream:app",
            "--bind", f"127.0.0.1:{port}", "--workers", "1",
            "--worker-class", "gthread", "--threads", "4",
        ]  # fmt: skip
        upstream = f"http://127.0.0.1:{port}"
        platform.start(
            Process("counting-upstream", argv, env=platform.env(), cwd=HERE, log_dir=platform.logs),
            f"{upstream}/health",
        )
        for service in ("video", "analytics", "billing", "streaming"):
            platform.urls[service] = upstream
        for service in UPSTREAMS:
            platform.urls.setdefault(service, CLOSED)
        platform.service(
            "gateway",
            GATEWAY_RATE_GENERAL="100000/m",
            GRAPHQL_MAX_UPSTREAM_CALLS=str(CALL_CAP),
            AUTH_GRPC_TARGET=CLOSED.removeprefix("http://"),
            VIDEO_GRPC_TARGET=CLOSED.removeprefix("http://"),
        )
        platform.urls["counting"] = upstream
        yield platform
    shutil.rmtree(root, ignore_errors=True)


def calls_of(live, send) -> tuple[requests.Response, list[dict]]:
    """Send one request to the gateway; answer its response and the upstream calls it made."""
    requests.delete(f"{live.urls['counting']}/__calls", timeout=5)
    response = send(f"{live.urls['gateway']}/graphql")
    return response, requests.get(f"{live.urls['counting']}/__calls", timeout=5).json()["calls"]


def gql(live, query: str, variables: dict | None = None, *, user: int | None = USER):
    headers = bearer(user) if user else {}
    body = {"query": query, "variables": variables or {}}
    return calls_of(live, lambda url: requests.post(url, json=body, headers=headers, timeout=30))


def codes(response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


def test_450_aliased_videos_are_refused_before_any_call(live):
    aliases = " ".join(f"v{i}: video(id: {i + 1}) {{ id }}" for i in range(450))

    response, calls = gql(live, f"{{ {aliases} }}")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {
        "code": "TOO_MANY_UPSTREAM_CALLS",
        "upstreamCalls": 450,
        "limit": CALL_CAP,
    }
    assert "data" not in response.json()
    assert calls == []


def test_the_cap_counts_distinct_videos_and_is_exact(live):
    def aliases(ids):
        return "{ " + " ".join(f"v{n}: video(id: {i}) {{ id }}" for n, i in enumerate(ids)) + " }"

    at_cap, at_cap_calls = gql(live, aliases(range(1, CALL_CAP + 1)))
    over, over_calls = gql(live, aliases(range(1, CALL_CAP + 2)))
    same, same_calls = gql(live, aliases([5] * 400))

    assert at_cap.status_code == 200 and "errors" not in at_cap.json()
    assert sorted(c["path"] for c in at_cap_calls) == sorted(
        f"/api/videos/{i}" for i in range(1, CALL_CAP + 1)
    )
    assert over.status_code == 400 and codes(over) == ["TOO_MANY_UPSTREAM_CALLS"]
    assert over_calls == []
    # One id 400 times is one call: the loader never asks twice, and the count knows it.
    assert same.status_code == 200, same.text
    assert {v["id"] for v in same.json()["data"].values()} == {5}
    assert [c["path"] for c in same_calls] == ["/api/videos/5"]


def test_a_limit_given_by_a_variable_is_counted(live):
    query = (
        "query($l: Int!) { videos(limit: $l) { videos { id title description category"
        "  duration status pricePerMinute createdAt stats { videoId totalViews } } total } }"
    )

    small, small_calls = gql(live, query, {"l": 5})
    large, large_calls = gql(live, query, {"l": 100})
    out_of_range, out_of_range_calls = gql(live, query, {"l": 1000})
    not_an_int, not_an_int_calls = gql(live, query, {"l": "100"})

    assert small.status_code == 200, small.text
    items = small.json()["data"]["videos"]["videos"]
    assert [(v["id"], v["stats"]["totalViews"]) for v in items] == [
        (i, 10 * i) for i in range(1, 6)
    ]
    # The list and one batched stats call for its five items.
    assert [c["path"] for c in small_calls] == ["/api/videos", "/api/analytics/cqrs/videos/stats"]
    assert "limit=5" in small_calls[0]["query"]
    assert large.status_code == 400 and codes(large) == ["QUERY_TOO_COMPLEX"]
    assert out_of_range.status_code == 400 and codes(out_of_range) == ["BAD_USER_INPUT"]
    assert not_an_int.status_code == 400 and codes(not_an_int) == ["BAD_USER_INPUT"]
    assert large_calls == out_of_range_calls == not_an_int_calls == []


def test_variables_decide_the_call_count(live):
    fields = " ".join(f"v{i}: video(id: {i + 1}) @include(if: $all) {{ id }}" for i in range(25))
    query = f"query($all: Boolean!, $a: Int!, $b: Int!) {{ {fields} x: video(id: $a) {{ id }}"
    query += " y: video(id: $b) { id } }"

    few, few_calls = gql(live, query, {"all": False, "a": 30, "b": 30})
    many, many_calls = gql(live, query, {"all": True, "a": 30, "b": 29})

    assert few.status_code == 200, few.text
    assert few.json()["data"] == {"x": {"id": 30}, "y": {"id": 30}}
    assert [c["path"] for c in few_calls] == ["/api/videos/30"]
    assert many.status_code == 400
    assert many.json()["errors"][0]["extensions"]["upstreamCalls"] == 27
    assert many_calls == []


@pytest.mark.parametrize(
    "session_id",
    [
        "../sessions/active",
        "../../billing/balance",
        "..%2Fsessions%2Factive",
        f"{SESSION}/../../sessions/active",
        f"{SESSION}?x=1",
        f" {SESSION}",
        "{" + SESSION + "}",
        f"urn:uuid:{SESSION}",
        SESSION.replace("-", ""),
        "",
        "0",
        " 42",
        "\u0664\u0662",  # 42 in Arabic-Indic digits
        "1" + "0" * 18,
    ],
)
def test_a_session_id_neither_uuid_nor_number_never_reaches_a_service(live, session_id):
    literal = session_id.replace("\\", "\\\\").replace('"', '\\"')
    inline, inline_calls = gql(
        live,
        "mutation { addFunds(amount: 5) { balance } "
        f'endStream(sessionId: "{literal}") {{ sessionId }} }}',
    )
    variable, variable_calls = gql(
        live, "mutation($s: ID!) { endStream(sessionId: $s) { sessionId } }", {"s": session_id}
    )

    for response in (inline, variable):
        assert response.status_code == 400, response.text
        assert codes(response) == ["BAD_USER_INPUT"]
        assert response.json()["errors"][0]["extensions"]["argument"] == "sessionId"
    # The whole document is refused: not even the deposit before the bad field ran.
    assert inline_calls == variable_calls == []


def test_ids_are_checked_before_any_call(live):
    response, calls = gql(
        live,
        "{ a: video(id: 0) { id } b: videoStats(videoId: -3) { videoId } c: videos(page: 0)"
        "  { total } d: activeStreams(limit: 0) { sessionId } }",
    )
    too_wide, too_wide_calls = gql(live, "{ video(id: 2147483648) { id } }")
    started, started_calls = gql(live, "mutation { startStream(videoId: -1) { sessionId } }")

    assert response.status_code == 400
    assert [
        (e["extensions"]["field"], e["extensions"]["argument"]) for e in response.json()["errors"]
    ] == [
        ("video", "id"),
        ("videoStats", "videoId"),
        ("videos", "page"),
        ("activeStreams", "limit"),
    ]
    assert too_wide.status_code == 400 and "Int cannot represent" in too_wide.text
    assert started.status_code == 400 and codes(started) == ["BAD_USER_INPUT"]
    assert calls == too_wide_calls == started_calls == []


def test_a_valid_session_id_reaches_exactly_its_route(live):
    response, calls = gql(
        live,
        "mutation($s: ID!) { endStream(sessionId: $s) { sessionId status video { title } } }",
        {"s": SESSION.upper()},
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["endStream"] == {
        "sessionId": SESSION,
        "status": "ended",
        "video": {"title": "Video 3"},
    }
    assert calls == [{"method": "POST", "path": f"/api/stream/end/{SESSION}", "query": ""}]


def test_a_session_number_reaches_the_route_that_takes_numbers(live):
    inline, inline_calls = gql(live, "mutation { endStream(sessionId: 42) { id sessionId } }")
    variable, variable_calls = gql(
        live, "mutation($s: ID!) { endStream(sessionId: $s) { id isActive } }", {"s": "42"}
    )

    assert inline.json()["data"]["endStream"] == {"id": 42, "sessionId": SESSION}
    assert variable.json()["data"]["endStream"] == {"id": 42, "isActive": False}
    assert (
        inline_calls
        == variable_calls
        == [{"method": "POST", "path": "/api/stream/end/42", "query": ""}]
    )


@pytest.mark.parametrize(
    ("query", "expected_paths"),
    [
        # The README's examples.
        ("{ videos(page: 1, limit: 10) { videos { id title } total } }", ["/api/videos"]),
        ("{ userBalance { userId balance } }", ["/api/billing/balance"]),
        (
            "{ a: videos(limit: 5) { videos { stats { totalViews } } }"
            "  b: videos(page: 2, limit: 5) { videos { stats { totalViews } } } }",
            ["/api/videos", "/api/analytics/cqrs/videos/stats"] * 2,
        ),
        (
            "{ video(id: 2) { title stats { totalViews } } videoStats(videoId: 2) { totalViews }"
            "  again: video(id: 2) { id } }",
            ["/api/videos/2", "/api/analytics/cqrs/videos/stats"],
        ),
        (
            "{ activeStreams { sessionId video { title stats { totalViews } } } }",
            ["/api/stream/sessions/active", "/api/analytics/cqrs/videos/stats"],
        ),
        (
            "mutation { startStream(videoId: 4) { sessionId video { stats { totalViews } } } }",
            ["/api/stream/start/4", "/api/analytics/cqrs/videos/stats"],
        ),
        (
            "query { ...Home } fragment Home on Query { platformStats { totalViews }"
            "  userBalance { balance } videos { total } }",
            [
                "/api/analytics/cqrs/platform/stats",
                "/api/billing/balance",
                "/api/videos",
            ],
        ),
        ("{ __typename __schema { queryType { name } } }", []),
    ],
)
def test_ordinary_documents_run_and_make_the_calls_counted(live, query, expected_paths):
    response, calls = gql(live, query)

    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    assert [c["path"] for c in calls] == expected_paths


def test_a_list_s_stats_come_in_one_call_with_every_id(live):
    response, calls = gql(live, "{ videos(limit: 12) { videos { id stats { videoId } } } }")

    items = response.json()["data"]["videos"]["videos"]
    assert [v["stats"]["videoId"] for v in items] == list(range(1, 13))
    assert calls[1]["query"] == "ids=" + "%2C".join(str(i) for i in range(1, 13))
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"query"', "application/json"),
        (b"null", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"query": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
        (b'{"query": 42}', "application/json"),
        (b'{"query": ["{ videos { total } }"]}', "application/json"),
        (b'{"query": "{ videos { total } }", "variables": [1]}', "application/json"),
        (b'{"query": "{ videos { total } }", "variables": "[1]"}', "application/json"),
        (b'{"query": "{ videos { total } }", "variables": "{broken"}', "application/json"),
        (b'{"query": "{ videos { total } }", "operationName": 7}', "application/json"),
        (b'{"query": "\\u0000{ videos { total } }"}', "application/json"),
        (b"\xff\xfe\x00{", "application/json"),
        (b"\xff\xfe\x00{", "application/graphql"),
        (b"{}", "application/json"),
    ],
)
def test_a_malformed_request_is_a_400_json_error(live, body, content_type):
    response, calls = calls_of(
        live,
        lambda url: requests.post(
            url, data=body, headers={"Content-Type": content_type}, timeout=30
        ),
    )

    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["error"] and isinstance(payload["details"], list)
    assert payload["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert calls == []


@pytest.mark.parametrize(
    "query",
    [
        "{ videos " * 3000 + "}" * 3000,
        "{ activeStreams { video { stats { videoId { a { b { c } } } } } } }",
        "{ " + " ".join(f"a{i}: __typename" for i in range(2000)) + " }",
        "# note\n" * 6000 + "{ videos { total } }",
    ],
)
def test_a_nested_or_oversized_document_is_a_400_graphql_error(live, query):
    response, calls = gql(live, query)

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["message"]
    assert calls == []
