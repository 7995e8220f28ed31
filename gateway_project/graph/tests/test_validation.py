"""What a document may ask for, measured before any resolver runs (graph.validation), and the
loader rules that count relies on (graph.dataloaders)."""

import re
import uuid

import pytest
from django.test import Client, override_settings
from graphql import GraphQLError, get_introspection_query

from graph.client import Upstreams, upstream_path
from graph.dataloaders import DataLoader
from graph.schema import schema
from graph.validation import document_check

SESSION = "0b0b7c4e-4f5d-4c61-9a59-8f4b0a1f2d3e"


def check(query: str, variables: dict | None = None, operation_name: str | None = None):
    return document_check(
        schema=schema.graphql_schema,
        query=query,
        variables=variables,
        operation_name=operation_name,
    )


def post(query: str, variables: dict | None = None) -> dict:
    response = Client().post(
        "/graphql", {"query": query, "variables": variables or {}}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    return response.json()


# Each root field, alone and in the shapes that batch; (document, variables, upstream calls).
COSTS = [
    ("{ videos { total } }", None, 1),
    ("{ videos { videos { id stats { videoId } } } }", None, 2),
    ("{ a: videos { videos { stats { videoId } } } b: videos { videos { stats { videoId } } } }",
     None, 4),
    ("{ videos { total } videos { page } }", None, 1),
    ("{ a: video(id: 1) { id } b: video(id: 1) { title } c: video(id: 2) { id } }", None, 2),
    ("{ video(id: 1) { stats { videoId } } videoStats(videoId: 1) { videoId } }", None, 2),
    ("{ a: videoStats(videoId: 1) { videoId } b: videoStats(videoId: 2) { videoId } }", None, 2),
    ("query($s: Boolean!) { videos { videos { stats @include(if: $s) { videoId } } } }",
     {"s": False}, 1),
    ("query($s: Boolean!) { videos { videos { stats @include(if: $s) { videoId } } } }",
     {"s": True}, 2),
    ("query($a: Int!, $b: Int!) { x: video(id: $a) { id } y: video(id: $b) { id } }",
     {"a": 4, "b": 4}, 1),
    ("query($a: Int!, $b: Int!) { x: video(id: $a) { id } y: video(id: $b) { id } }",
     {"a": 4, "b": 5}, 2),
    ("{ ...F } fragment F on Query { userBalance { balance } platformStats { totalViews } }",
     None, 2),
    ("{ activeStreams { video { title } } }", None, 1),
    ("{ activeStreams(limit: 100) { video { title stats { videoId } } } }", None, 2),
    ("mutation { a: addFunds(amount: 1) { balance } b: addFunds(amount: 2) { balance } }",
     None, 2),
    ("mutation { startStream(videoId: 3) { sessionId video { stats { videoId } } } }", None, 2),
    (f'mutation {{ endStream(sessionId: "{SESSION}") {{ video {{ stats {{ videoId }} }} }} }}',
     None, 2),
    ("{ __typename __schema { queryType { name } } }", None, 0),
]  # fmt: skip


@pytest.mark.parametrize(("query", "variables", "calls"), COSTS)
def test_upstream_calls_are_counted_with_aliases_variables_and_batching(query, variables, calls):
    checked = check(query, variables)

    assert checked.errors == []
    assert checked.upstream_calls == calls


def test_every_root_field_has_a_counted_cost():
    graphql_schema = schema.graphql_schema
    root_fields = {*graphql_schema.query_type.fields, *graphql_schema.mutation_type.fields}
    measured = {name for query, _, _ in COSTS for name in re.findall(r"\w+", query)}

    assert root_fields <= measured


@override_settings(GRAPHQL_MAX_UPSTREAM_CALLS=3)
def test_a_document_over_the_call_cap_is_refused_with_its_count():
    body = post("{ a: video(id: 1) { id } b: video(id: 2) { id } c: video(id: 3) { id } "
                "d: video(id: 3) { id } e: video(id: 4) { id } }")  # fmt: skip

    assert body["errors"][0]["extensions"] == {
        "code": "TOO_MANY_UPSTREAM_CALLS",
        "upstreamCalls": 4,
        "limit": 3,
    }
    assert "data" not in body


@override_settings(GRAPHQL_MAX_DEPTH=2)
def test_documents_deeper_than_the_limit_are_refused_with_a_code():
    body = post("fragment V on Video { id } { activeStreams { video { ...V } } }")

    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_DEEP", "limit": 2}


@override_settings(GRAPHQL_MAX_COMPLEXITY=21)
def test_list_items_count_once_per_item_of_the_limit_even_from_a_variable():
    query = "query($l: Int!) { videos(limit: $l) { videos { id title } } }"

    assert check(query, {"l": 9}).errors == []  # videos, videos.videos, 9 x (id, title) = 20
    assert check(query, {"l": 10}).errors[0].extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": 21,
    }


def test_a_fragment_bomb_is_measured_without_expanding_it():
    fragments = " ".join(
        f"fragment F{i} on ViewStats {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)
    )
    query = (
        "{ videoStats(videoId: 1) { ...F0 } } "
        + fragments
        + " fragment F40 on ViewStats { videoId }"
    )

    checked = check(query)

    assert checked.errors == [] and checked.upstream_calls == 1


def test_graphiql_introspection_passes_and_aliased_introspection_is_counted():
    full = check(get_introspection_query(descriptions=True))
    inner = " ".join(f"g{i}: fields {{ name }}" for i in range(40))
    outer = " ".join(f"f{i}: fields {{ type {{ ...Inner }} }}" for i in range(40))
    aliased = check(
        f"{{ __schema {{ types {{ {outer} }} }} }} fragment Inner on __Type {{ {inner} }}"
    )
    cyclic = check(
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    )

    assert full.errors == [] and full.upstream_calls == 0
    assert aliased.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
    assert cyclic.errors[0].message == "Maximum introspection depth exceeded"


@pytest.mark.parametrize(
    ("query", "variables", "field", "argument"),
    [
        ("{ video(id: 0) { id } }", None, "video", "id"),
        ("query($v: Int!) { videoStats(videoId: $v) { videoId } }", {"v": -1},
         "videoStats", "videoId"),
        ("{ videos(limit: 101) { total } }", None, "videos", "limit"),
        ("{ videos(page: 0) { total } }", None, "videos", "page"),
        ("{ activeStreams(limit: 0) { sessionId } }", None, "activeStreams", "limit"),
        ("mutation { startStream(videoId: 0) { sessionId } }", None, "startStream", "videoId"),
        ('mutation { endStream(sessionId: "../sessions/active") { sessionId } }', None,
         "endStream", "sessionId"),
        ("mutation($s: ID!) { endStream(sessionId: $s) { sessionId } }",
         {"s": SESSION.replace("-", "")}, "endStream", "sessionId"),
        # An explicit null for an argument that has a default.
        ("{ videos(limit: null) { total } }", None, "videos", "limit"),
        ("query($l: Int) { videos(limit: $l) { total } }", {"l": None}, "videos", "limit"),
        ("{ videos(page: null) { total } }", None, "videos", "page"),
        ("{ activeStreams(limit: null) { sessionId } }", None, "activeStreams", "limit"),
    ],
)  # fmt: skip
def test_arguments_reaching_an_upstream_are_checked(query, variables, field, argument):
    checked = check(query, variables)

    assert [e.extensions for e in checked.errors] == [
        {"code": "BAD_USER_INPUT", "field": field, "argument": argument}
    ]


@pytest.mark.parametrize("value", ["5", 5.5, True, None, [5], {"id": 5}, 2**31])
def test_an_int_variable_must_be_an_int_in_range(value):
    checked = check("query($v: Int!) { video(id: $v) { id } }", {"v": value})

    assert [e.extensions["code"] for e in checked.errors] == ["BAD_USER_INPUT"]


@override_settings(GRAPHQL_MAX_TOKENS=50)
def test_documents_over_the_token_limit_are_not_parsed():
    checked = check("{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }")

    assert checked.errors[0].message.endswith("more than 50 tokens. Parsing aborted.")


def test_standard_validation_still_runs():
    body = post("{ nope }")

    assert body["errors"][0]["message"] == "Cannot query field 'nope' on type 'Query'."


def test_upstream_paths_take_only_ints_and_uuids():
    assert upstream_path("/api/stream/end/{}", uuid.UUID(SESSION)) == f"/api/stream/end/{SESSION}"
    assert upstream_path("/api/videos/{}", 12) == "/api/videos/12"
    for value in ("../sessions/active", SESSION, True, 1.5):
        with pytest.raises(TypeError):
            upstream_path("/api/videos/{}", value)


def test_calls_past_the_checked_budget_are_refused():
    upstreams = Upstreams(None, budget=1)

    with pytest.raises(GraphQLError) as first:
        upstreams.call("video", "GET", "/api/videos")  # a closed port: unavailable
    with pytest.raises(GraphQLError) as second:
        upstreams.call("video", "GET", "/api/videos")

    assert first.value.extensions["code"] == "UNAVAILABLE"
    assert second.value.extensions == {"code": "TOO_MANY_UPSTREAM_CALLS", "limit": 1}
    assert len(upstreams.calls) == 1


def test_a_loader_fetches_a_list_in_one_batch_and_each_key_once():
    fetched = []

    def batch_load(keys):
        fetched.append(list(keys))
        return {k: k * 10 for k in keys}

    loader = DataLoader(batch_load, max_batch=3)
    loader.want([1, 2, 3, 4])
    first = [loader.load(k) for k in (1, 2, 3, 4)]
    loader.want([3, 4, 5])  # 3 and 4 are known: only 5 is left to fetch
    second = [loader.load(k) for k in (5, 3, 9, 9)]

    assert first == [10, 20, 30, 40] and second == [50, 30, 90, 90]
    assert fetched == [[1, 2, 3], [4], [5], [9]]


def test_a_failed_batch_is_not_asked_again_for_each_item():
    fetched = []

    def batch_load(keys):
        fetched.append(list(keys))
        raise GraphQLError("analytics is unavailable")

    loader = DataLoader(batch_load, max_batch=100)
    loader.want(range(1, 51))
    failures = 0
    for key in range(1, 51):
        with pytest.raises(GraphQLError):
            loader.load(key)
        failures += 1

    assert failures == 50
    assert fetched == [list(range(1, 51))]
