"""A registration whose fields are of the wrong JSON type starts no saga and calls nobody."""

import pytest
from rest_framework.test import APIClient

from registration.models import Saga

pytestmark = pytest.mark.django_db

BODY = {
    "email": "ann@example.com",
    "password": "password123",
    "firstName": "Ann",
    "lastName": "Lee",
}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"firstName": 123}, "firstName"),
        ({"lastName": 2**64}, "lastName"),
        ({"password": 12345678}, "password"),
        ({"password": -(2**63) - 1}, "password"),
        ({"isStaff": True}, "isStaff"),
    ],
)
def test_a_register_body_of_wrong_types_or_keys_is_400_and_starts_nothing(overrides, field):
    # AUTH_URL is a closed port here: a saga that started would answer 503, not 400.
    response = APIClient().post("/api/saga/register", {**BODY, **overrides}, format="json")

    assert response.status_code == 400, response.json()
    assert field in {d["field"] for d in response.json()["details"]}
    assert Saga.objects.count() == 0
