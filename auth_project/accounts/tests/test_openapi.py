"""The published schema names every auth route, the bodies the views parse and the credentials."""

from common.testing.openapi import ERROR, body, operations, published_schema


def test_every_route_is_described_anonymously():
    schema = published_schema()

    assert operations(schema) == {
        "/api/auth/register": {"post"},
        "/api/auth/login": {"post"},
        "/api/auth/token/refresh": {"post"},
        "/api/auth/logout": {"post"},
        "/api/auth/verify": {"get", "post"},
        "/api/auth/profile": {"get", "put", "patch"},
        "/api/auth/users/{user_id}": {"delete"},
        "/api/auth/pending-credentials": {"post"},
    }


def test_post_bodies_are_the_serializers_the_views_parse():
    paths = published_schema()["paths"]

    assert body(paths["/api/auth/register"]["post"]) == "#/components/schemas/Register"
    assert body(paths["/api/auth/login"]["post"]) == "#/components/schemas/Login"
    assert body(paths["/api/auth/token/refresh"]["post"]) == "#/components/schemas/RefreshToken"
    assert body(paths["/api/auth/logout"]["post"]) == "#/components/schemas/RefreshToken"
    assert body(paths["/api/auth/profile"]["put"]) == "#/components/schemas/ProfileUpdate"
    pending = paths["/api/auth/pending-credentials"]["post"]
    assert body(pending) == "#/components/schemas/PendingCredential"
    assert "requestBody" not in paths["/api/auth/verify"]["post"]


def test_answers_and_errors_are_described():
    schema = published_schema()
    register = schema["paths"]["/api/auth/register"]["post"]["responses"]
    login = schema["paths"]["/api/auth/login"]["post"]["responses"]

    assert set(register) == {"201", "400", "409", "413"}
    assert register["409"]["content"]["application/json"]["schema"]["$ref"] == ERROR
    assert set(login) == {"200", "400", "401", "413"}
    login_answer = schema["components"]["schemas"]["LoggedIn"]["properties"]
    assert set(login_answer) == {"message", "token", "refreshToken"}
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error", "details"}


def test_each_route_names_the_credential_it_takes():
    schema = published_schema()
    paths = schema["paths"]

    assert schema["components"]["securitySchemes"]["userToken"]["scheme"] == "bearer"
    assert paths["/api/auth/login"]["post"]["security"] == [{}]
    assert paths["/api/auth/profile"]["get"]["security"] == [{"userToken": []}]
    assert paths["/api/auth/users/{user_id}"]["delete"]["security"] == [{"serviceToken": []}]
    assert paths["/api/auth/users/{user_id}"]["delete"]["tags"] == ["internal"]
    pending = paths["/api/auth/pending-credentials"]["post"]
    assert pending["security"] == [{"serviceToken": []}]
    assert pending["tags"] == ["internal"]
    assert set(pending["responses"]) == {"201", "400", "401", "403", "409", "413"}
