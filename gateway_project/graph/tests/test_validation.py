"""Depth and complexity limits: refused during validation, before any resolver or upstream."""

from django.test import Client, override_settings


def post(query: str) -> dict:
    response = Client().post("/graphql", {"query": query}, content_type="application/json")
    assert response.status_code == 400
    return response.json()


@override_settings(GRAPHQL_MAX_DEPTH=2)
def test_documents_deeper_than_the_limit_are_refused_with_a_code():
    body = post("fragment V on Video { id } { activeStreams { video { ...V } } }")

    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_DEEP", "depth": 3}


@override_settings(GRAPHQL_MAX_COMPLEXITY=30)
def test_list_fields_multiply_the_cost_by_their_limit():
    body = post("{ videos(limit: 10) { videos { id title } } }")

    assert body["errors"][0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "complexity": 31}


def test_standard_validation_still_runs():
    body = post("{ nope }")

    assert body["errors"][0]["message"] == "Cannot query field 'nope' on type 'Query'."
