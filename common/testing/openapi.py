"""Reading a service's published OpenAPI schema in its tests (drf-spectacular's /api/schema)."""

from django.test import Client

ERROR = "#/components/schemas/Error"


def published_schema() -> dict:
    """The schema the service serves, fetched as any client would, without a token."""
    response = Client().get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict) -> dict[str, set[str]]:
    """Each path's methods."""
    return {path: set(item) - {"parameters"} for path, item in schema["paths"].items()}


def body(operation: dict, media_type: str = "application/json") -> str:
    """The schema reference of an operation's request body."""
    return operation["requestBody"]["content"][media_type]["schema"]["$ref"]
