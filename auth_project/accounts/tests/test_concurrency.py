"""Races settled by the database, not by luck: run with real threads on real connections."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.conftest import events
from accounts.tests.factories import login, make_user
from common.testing.concurrency import together

pytestmark = pytest.mark.django_db(transaction=True)


def _register(email):
    body = {"email": email, "password": "password123", "firstName": "Race", "lastName": "Case"}
    return lambda: APIClient().post("/api/auth/register", body, format="json").status_code


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_registrations_of_one_email_give_one_201_and_one_409(round_):
    email = f"race{round_}@example.com"

    statuses = together(_register(email), _register(email.upper()))

    assert sorted(statuses) == [201, 409]
    assert User.objects.filter(email=email).count() == 1
    assert len(events("user.registered")) == 1


def test_concurrent_refresh_with_one_token_yields_one_new_pair():
    tokens = login(APIClient(), make_user())

    def refresh():
        return (
            APIClient()
            .post(
                "/api/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
            )
            .status_code
        )

    assert sorted(together(refresh, refresh)) == [200, 401]


def test_events_reach_the_broker_after_commit():
    from common.events.models import OutboxEvent

    make_user()

    row = OutboxEvent.objects.get(type="user.registered")
    assert row.published_at is not None, row.last_error


def test_a_saga_step_delivered_twice_at_once_creates_one_user():
    from accounts import saga, services

    ref = str(services.pending_credential_stage(saga_id="saga-twice", password="password123").ref)
    kwargs = {
        "saga_id": "saga-twice",
        "email": "twice@example.com",
        "credential_ref": ref,
        "first_name": "Race",
        "last_name": "Case",
    }

    first, second = together(lambda: saga.create_user(**kwargs), lambda: saga.create_user(**kwargs))

    assert first == second and "userId" in first, (first, second)
    assert User.objects.filter(email="twice@example.com").count() == 1
    assert len(events("user.registered")) == 1
