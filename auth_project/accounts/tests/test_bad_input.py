"""Bad input to auth is a 4xx that changes nothing, and a body refused unread closes the
connection so that a pooling client (the gateway) never reuses one the server dropped."""

import pytest
from django.conf import settings

from accounts.models import User
from accounts.tests.factories import make_user
from common.testing.tokens import service_header

pytestmark = pytest.mark.django_db


def test_deleting_a_user_id_past_bigint_is_404_and_deletes_nobody(api):
    make_user()
    header = service_header("gateway", audience="auth", scopes=["users:delete"])

    response = api.delete(f"/api/auth/users/{2**64}", HTTP_AUTHORIZATION=header["Authorization"])

    assert response.status_code == 404
    assert response.json() == {"error": "No such user", "details": []}
    assert User.objects.count() == 1


def test_unknown_keys_and_wrong_types_are_named_together(api):
    body = {"email": 12, "password": True, "firstName": "Ann", "lastName": 2**64, "admin": 1}

    response = api.post("/api/auth/register", body, format="json")

    assert response.status_code == 400
    fields = {d["field"]: d["message"] for d in response.json()["details"]}
    assert fields == {
        "email": "Must be a string.",
        "password": "Must be a string.",
        "lastName": "Must be a string.",
        "admin": "Unknown field.",
    }
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("content_type", "size", "status"),
    [
        ("text/plain", 4000, 415),  # refused before any parser reads it
        ("application/json", settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1, 413),
    ],
)
def test_a_body_refused_unread_closes_the_connection(api, content_type, size, status):
    body = b'{"email":"' + b"x" * size + b'"}'

    response = api.generic("POST", "/api/auth/login", body, content_type=content_type)

    assert response.status_code == status
    assert response["Connection"] == "close"
    assert set(response.json()) == {"error", "details"}


def test_a_body_read_and_refused_keeps_the_connection(api):
    response = api.post("/api/auth/login", {"email": 1, "password": "x"}, format="json")

    assert response.status_code == 400
    assert not response.has_header("Connection")


def test_a_token_refused_before_the_body_is_read_closes_the_connection(api):
    response = api.put("/api/auth/profile", {"firstName": "Ann"}, format="json")

    assert response.status_code == 401
    assert response["Connection"] == "close"
