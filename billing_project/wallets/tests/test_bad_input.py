"""Money moves only on a body of exactly the declared keys and JSON types: a number where a
string goes, or a key billing does not know, is a 400 and moves nothing."""

import pytest

from wallets.models import LedgerEntry, Wallet
from wallets.tests.factories import funded_user
from wallets.tests.test_api import service_client, user_client

pytestmark = pytest.mark.django_db


def _money() -> tuple:
    return (
        list(Wallet.objects.order_by("user_id").values_list("user_id", "balance")),
        LedgerEntry.objects.count(),
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"idempotencyKey": 123}, "idempotencyKey"),
        ({"idempotencyKey": 2**64}, "idempotencyKey"),
        ({"sessionId": -(2**63) - 1}, "sessionId"),
        ({"description": True}, "description"),
        ({"amount": "5"}, "amount"),
        ({"amount": 1.0}, "amount"),
        ({"userId": 2**64}, "userId"),
        ({"currency": "EUR"}, "currency"),
    ],
)
def test_a_charge_of_the_wrong_types_or_keys_moves_nothing(overrides, field):
    user_id = funded_user(100)
    before = _money()
    body = {"userId": user_id, "amount": 5, "idempotencyKey": "k:1", **overrides}

    response = service_client("streaming", "billing.charge").post(
        "/api/billing/charge", body, format="json"
    )

    assert response.status_code == 400, response.json()
    assert field in {d["field"] for d in response.json()["details"]}
    assert _money() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"idempotencyKey": 7}, "idempotencyKey"),
        ({"idempotencyKey": "k:1", "reason": 2**64}, "reason"),
        ({"idempotencyKey": "k:1", "amount": 5}, "amount"),
    ],
)
def test_a_refund_of_the_wrong_types_or_keys_moves_nothing(body, field):
    user_id = funded_user(100)
    client = service_client("streaming", "billing.charge")
    client.post(
        "/api/billing/charge",
        {"userId": user_id, "amount": 5, "idempotencyKey": "k:1"},
        format="json",
    )
    before = _money()

    response = client.post("/api/billing/refund", body, format="json")

    assert response.status_code == 400, response.json()
    assert field in {d["field"] for d in response.json()["details"]}
    assert _money() == before


def test_a_deposit_with_its_key_in_the_body_is_refused_not_taken_twice():
    user_id = funded_user(0)
    client = user_client(user_id)
    body = {"amount": 500, "idempotencyKey": "once"}

    answers = [client.post("/api/billing/deposit", body, format="json") for _ in range(2)]

    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json()["details"] == [
        {"field": "idempotencyKey", "message": "Unknown field."}
    ]
    assert Wallet.objects.get(user_id=user_id).balance == 0
