"""The published schema names every billing route, the bodies the views parse and the
credentials."""

from common.testing.openapi import ERROR, body, operations, published_schema


def test_every_route_is_described_anonymously():
    schema = published_schema()

    assert operations(schema) == {
        "/api/billing/balance": {"get"},
        "/api/billing/deposit": {"post"},
        "/api/billing/transactions": {"get"},
        "/api/billing/revenue/total": {"get"},
        "/api/billing/account/create": {"post"},
        "/api/billing/account/{user_id}": {"delete"},
        "/api/billing/charge": {"post"},
        "/api/billing/refund": {"post"},
    }


def test_post_bodies_are_the_serializers_the_views_parse():
    paths = published_schema()["paths"]

    assert body(paths["/api/billing/deposit"]["post"]) == "#/components/schemas/Deposit"
    assert body(paths["/api/billing/charge"]["post"]) == "#/components/schemas/Charge"
    assert body(paths["/api/billing/refund"]["post"]) == "#/components/schemas/Refund"
    assert body(paths["/api/billing/account/create"]["post"]) == ("#/components/schemas/Account")


def test_answers_and_errors_are_described():
    schema = published_schema()
    charge = schema["paths"]["/api/billing/charge"]["post"]["responses"]
    transactions = schema["paths"]["/api/billing/transactions"]["get"]

    assert set(charge) == {"200", "201", "400", "401", "402", "403", "409", "413"}
    assert charge["409"]["content"]["application/json"]["schema"]["$ref"] == ERROR
    assert schema["components"]["schemas"]["InsufficientFunds"]["allOf"][0]["$ref"] == ERROR
    assert {p["name"] for p in transactions["parameters"]} == {"limit", "offset"}
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error", "details"}


def test_user_routes_take_the_bearer_token_and_internal_ones_a_service_token():
    schema = published_schema()
    paths = schema["paths"]

    assert schema["components"]["securitySchemes"]["userToken"]["scheme"] == "bearer"
    assert "serviceToken" in schema["components"]["securitySchemes"]
    assert paths["/api/billing/deposit"]["post"]["security"] == [{"userToken": []}]
    assert paths["/api/billing/charge"]["post"]["security"] == [{"serviceToken": []}]
    assert paths["/api/billing/charge"]["post"]["tags"] == ["internal"]
    assert paths["/api/billing/refund"]["post"]["tags"] == ["internal"]
    assert "internal" not in paths["/api/billing/deposit"]["post"]["tags"]
