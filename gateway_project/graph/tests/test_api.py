"""`/graphql` as HTTP: GET and form bodies still work, mutations need POST, GraphiQL renders,
and every refusal carries the platform's `{"error", "details"}` beside GraphQL's `errors`."""

import json

from django.test import Client


def test_a_query_over_get_runs_and_a_mutation_over_get_is_405():
    query = Client().get(
        "/graphql",
        {"query": "query($l: Int!) { videos(limit: $l) { total } }", "variables": '{"l": 3}'},
        HTTP_ACCEPT="application/json",
    )
    mutation = Client().get(
        "/graphql",
        {"query": "mutation { addFunds(amount: 1) { balance } }"},
        HTTP_ACCEPT="application/json",
    )

    # The upstream is a closed port here: the document ran and its one call failed.
    assert query.status_code == 200
    assert query.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert mutation.status_code == 405
    assert mutation.json() == {
        "error": "Send mutations with POST",
        "details": [{"field": None, "message": "Send mutations with POST"}],
        "errors": [{"message": "Send mutations with POST"}],
    }


def test_a_form_body_with_bad_variables_is_a_400_json_error():
    response = Client().post(
        "/graphql", {"query": "{ videos { total } }", "variables": json.dumps([1])}
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "`variables` must be an object",
        "details": [{"field": "variables", "message": "`variables` must be an object"}],
        "errors": [
            {"message": "`variables` must be an object", "extensions": {"code": "BAD_REQUEST"}}
        ],
    }


def test_graphiql_renders_for_a_browser():
    response = Client().get("/graphql", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


def test_a_document_refused_before_execution_carries_the_platform_error_shape():
    response = Client().post(
        "/graphql",
        json.dumps({"query": "query Q { __typename }", "operationName": "Other"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [{"message": "Unknown operation named 'Other'."}]
    assert body["error"] == "Unknown operation named 'Other'."
    assert body["details"] == [{"field": None, "message": "Unknown operation named 'Other'."}]
    assert "data" not in body
