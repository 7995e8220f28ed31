"""Each action emits its event exactly once, with the payload of docs/events.md."""

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.tests.conftest import events
from accounts.tests.factories import PASSWORD, login, make_user

pytestmark = pytest.mark.django_db


def test_register_emits_user_registered_once():
    user = make_user(email="ev@example.com", first_name="Eve", last_name="Ntt")

    assert events("user.registered") == [
        {"userId": user.id, "email": "ev@example.com", "firstName": "Eve", "lastName": "Ntt"}
    ]


def test_login_emits_user_logged_in_once_per_login():
    user = make_user()
    api = APIClient()

    login(api, user)
    login(api, user)
    api.post("/api/auth/login", {"email": user.email, "password": "bad-password"}, format="json")

    logged = events("user.logged_in")
    assert [e["userId"] for e in logged] == [user.id, user.id]
    assert all(e["at"].endswith("+00:00") for e in logged)


def test_refresh_logout_and_profile_emit_nothing_extra():
    user = make_user()
    api = APIClient()
    tokens = login(api, user)

    api.post("/api/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    api.put(
        "/api/auth/profile",
        {"firstName": "Other"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['token']}",
    )

    assert len(events("user.registered")) == 1
    assert len(events("user.logged_in")) == 1
    assert events("user.deleted") == []


def test_delete_emits_user_deleted_once():
    user = make_user()

    assert services.user_delete(user_id=user.id) is True
    assert services.user_delete(user_id=user.id) is False

    assert events("user.deleted") == [{"userId": user.id, "email": user.email}]


def test_ensure_demo_user_emits_once_however_often_it_runs():
    for _ in range(2):
        services.user_ensure(
            email="demo@streamify.local", password=PASSWORD, first_name="Demo", last_name="Viewer"
        )

    assert [e["email"] for e in events("user.registered")] == ["demo@streamify.local"]
