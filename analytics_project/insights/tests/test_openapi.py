"""The published schema names every analytics route, the bodies the views parse and the
credentials."""

from common.testing.openapi import ERROR, body, operations, published_schema

BASE = "/api/analytics"


def test_every_route_is_described_anonymously():
    schema = published_schema()

    assert operations(schema) == {
        f"{BASE}/dashboard": {"get"},
        f"{BASE}/videos/{{video_id}}": {"get"},
        f"{BASE}/user": {"get"},
        f"{BASE}/top-videos": {"get"},
        f"{BASE}/revenue": {"get"},
        f"{BASE}/reports/{{period}}": {"get"},
        f"{BASE}/cqrs/record-view": {"post"},
        f"{BASE}/cqrs/video/{{video_id}}/stats": {"get"},
        f"{BASE}/cqrs/videos/stats": {"get"},
        f"{BASE}/cqrs/user/{{user_id}}/history": {"get"},
        f"{BASE}/cqrs/platform/stats": {"get"},
        f"{BASE}/cqrs/replay-events": {"post"},
        f"{BASE}/internal/profiles": {"post"},
        f"{BASE}/internal/profiles/{{user_id}}": {"delete"},
    }


def test_post_bodies_are_the_serializers_the_views_parse():
    paths = published_schema()["paths"]

    assert body(paths[f"{BASE}/cqrs/record-view"]["post"]) == "#/components/schemas/RecordView"
    assert body(paths[f"{BASE}/cqrs/replay-events"]["post"]) == "#/components/schemas/Replay"
    assert body(paths[f"{BASE}/internal/profiles"]["post"]) == (
        "#/components/schemas/ProfileCreate"
    )


def test_query_parameters_and_refusals_are_described():
    paths = published_schema()["paths"]
    report = paths[f"{BASE}/reports/{{period}}"]["get"]
    top = paths[f"{BASE}/top-videos"]["get"]
    record = paths[f"{BASE}/cqrs/record-view"]["post"]

    assert {p["name"]: p["in"] for p in report["parameters"]} == {
        "period": "path",
        "from": "query",
        "to": "query",
        "If-None-Match": "header",
    }
    assert {p["name"] for p in top["parameters"]} == {"limit", "by", "If-None-Match"}
    assert "304" in report["responses"] and "304" in top["responses"]
    assert set(record["responses"]) == {"201", "400", "401", "403", "413"}
    assert record["responses"]["403"]["content"]["application/json"]["schema"]["$ref"] == ERROR
    assert "409" in paths[f"{BASE}/cqrs/replay-events"]["post"]["responses"]


def test_user_routes_take_the_bearer_token_and_internal_ones_a_service_token():
    schema = published_schema()
    paths = schema["paths"]
    internal = paths[f"{BASE}/internal/profiles/{{user_id}}"]["delete"]

    assert schema["components"]["securitySchemes"]["userToken"]["scheme"] == "bearer"
    assert paths[f"{BASE}/dashboard"]["get"]["security"] == [{"userToken": []}]
    assert internal["security"] == [{"serviceToken": []}]
    assert internal["tags"] == ["internal"]
    assert {p["name"]: p["in"] for p in internal["parameters"]}["sagaId"] == "query"
