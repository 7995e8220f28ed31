"""`POST /api/auth/pending-credentials`: the gateway hands a saga's password over, once."""

import pytest
from django.contrib.auth.hashers import check_password

from accounts.models import PendingCredential
from accounts.tests.factories import bearer, login, make_user
from common.testing.tokens import service_header

pytestmark = pytest.mark.django_db

URL = "/api/auth/pending-credentials"
BODY = {"sagaId": "3f1c2b9e-0000-4000-8000-000000000001", "password": "password123"}


def _as_service(scopes=("users:create",), audience="auth", issuer="gateway") -> dict:
    header = service_header(issuer, audience=audience, scopes=scopes)["Authorization"]
    return {"HTTP_AUTHORIZATION": header}


def test_a_service_with_the_scope_gets_a_reference_and_auth_keeps_only_a_hash(api):
    response = api.post(URL, BODY, format="json", **_as_service())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"credentialRef", "expiresAt"}
    pending = PendingCredential.objects.get()
    assert str(pending.ref) == body["credentialRef"]
    assert pending.saga_id == BODY["sagaId"]
    assert pending.expires_at.isoformat() == body["expiresAt"]
    assert pending.password_hash.startswith("argon2$argon2id$")
    assert BODY["password"] not in pending.password_hash
    assert check_password(BODY["password"], pending.password_hash)
    assert BODY["password"] not in response.content.decode()


def test_anonymous_users_and_wrong_scopes_are_refused_and_nothing_is_held(api):
    user = make_user()
    token = login(api, user)["token"]

    answers = {
        "anonymous": api.post(URL, BODY, format="json"),
        "user token": api.post(URL, BODY, format="json", **bearer(token)),
        "user token as service": api.post(
            URL, BODY, format="json", HTTP_AUTHORIZATION=f"Service {token}"
        ),
        "wrong scope": api.post(URL, BODY, format="json", **_as_service(scopes=["users:delete"])),
        "wrong audience": api.post(URL, BODY, format="json", **_as_service(audience="billing")),
        "another service": api.post(URL, BODY, format="json", **_as_service(issuer="video")),
    }

    assert {name: r.status_code for name, r in answers.items()} == {
        "anonymous": 401,
        "user token": 401,
        "user token as service": 403,
        "wrong scope": 403,
        "wrong audience": 403,
        "another service": 403,
    }
    assert all(set(r.json()) >= {"error", "details"} for r in answers.values())
    assert PendingCredential.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "password": "short"}, "password"),
        ({**BODY, "password": "x" * 65}, "password"),
        ({**BODY, "password": 12345678}, "password"),
        ({**BODY, "sagaId": "x" * 65}, "sagaId"),
        ({**BODY, "sagaId": "a\x00b"}, None),  # refused by the JSON parser, before any field
        ({"password": "password123"}, "sagaId"),
        ({**BODY, "passwordHash": "argon2$..."}, "passwordHash"),
    ],
)
def test_bad_bodies_are_400_with_details_and_hold_nothing(api, body, field):
    response = api.post(URL, body, format="json", **_as_service())

    assert response.status_code == 400
    assert response.json()["error"]
    if field is not None:
        assert field in {d["field"] for d in response.json()["details"]}
    assert PendingCredential.objects.count() == 0


def test_a_saga_hands_its_password_over_only_once(api):
    first = api.post(URL, BODY, format="json", **_as_service())
    second = api.post(URL, {**BODY, "password": "another-one"}, format="json", **_as_service())

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["error"] == "This saga already handed over its password"
    pending = PendingCredential.objects.get()
    assert str(pending.ref) == first.json()["credentialRef"]
    assert check_password(BODY["password"], pending.password_hash)
