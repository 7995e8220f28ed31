import pytest
from rest_framework.test import APIClient

from common.testing.tokens import bearer, service_header
from wallets import services
from wallets.models import LedgerEntry, Wallet
from wallets.tests.factories import funded_user, new_user_id

pytestmark = pytest.mark.django_db


def user_client(user_id: int) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user_id)["Authorization"])
    return client


def service_client(issuer: str, *scopes: str) -> APIClient:
    """A client holding a token `issuer` minted for billing with `scopes`."""
    client = APIClient()
    header = service_header(issuer, audience="billing", scopes=scopes)["Authorization"]
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_deposit_then_balance_then_transactions_newest_first():
    user_id = new_user_id()
    client = user_client(user_id)

    assert client.get("/api/billing/balance").json() == {"userId": user_id, "balance": 0}
    first = client.post("/api/billing/deposit", {"amount": 5000}, format="json")
    client.post("/api/billing/deposit", {"amount": 125}, format="json")
    services.charge_create(user_id=user_id, amount=10, idempotency_key="t:1", video_id=3)

    assert first.status_code == 200
    assert first.json()["message"] == "Deposit successful"
    assert first.json()["newBalance"] == 5000
    assert client.get("/api/billing/balance").json() == {"userId": user_id, "balance": 5115}
    page = client.get("/api/billing/transactions?limit=2").json()
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 0
    assert [(t["type"], t["amount"], t["balanceAfter"]) for t in page["transactions"]] == [
        ("charge", -10, 5115),
        ("deposit", 125, 5125),
    ]
    rest = client.get("/api/billing/transactions?limit=2&offset=2").json()["transactions"]
    assert [(t["type"], t["amount"]) for t in rest] == [("deposit", 5000)]


def test_deposit_idempotency_key_returns_the_first_result():
    user_id = new_user_id()
    client = user_client(user_id)

    first = client.post(
        "/api/billing/deposit", {"amount": 300}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    again = client.post(
        "/api/billing/deposit", {"amount": 300}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    other = client.post(
        "/api/billing/deposit", {"amount": 301}, format="json", HTTP_IDEMPOTENCY_KEY="abc"
    )

    assert first.json()["transactionId"] == again.json()["transactionId"]
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert again.json()["newBalance"] == 300
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["error"]
    assert Wallet.objects.get(user_id=user_id).balance == 300


@pytest.mark.parametrize(
    "body",
    [
        {"amount": -5},
        {"amount": 0},
        {"amount": 10.5},
        {"amount": 10.0},
        {"amount": "100"},
        {"amount": True},
        {"amount": None},
        {"amount": 1_000_001},
        {"amount": 10**40},
        {},
        [],
    ],
)
def test_bad_deposits_answer_400_and_leave_the_balance_alone(body):
    user_id = funded_user(100)

    response = user_client(user_id).post("/api/billing/deposit", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] and isinstance(response.json()["details"], list)
    assert Wallet.objects.get(user_id=user_id).balance == 100


def test_bad_idempotency_key_and_bad_paging_are_400():
    client = user_client(funded_user(0))

    long_key = client.post(
        "/api/billing/deposit", {"amount": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
    )
    assert long_key.status_code == 400
    for query in ["limit=0", "limit=101", "limit=x", "offset=-1", f"offset={10**30}"]:
        assert client.get(f"/api/billing/transactions?{query}").status_code == 400
    assert not LedgerEntry.objects.exists()


def test_user_routes_need_a_user_token():
    assert APIClient().get("/api/billing/balance").status_code == 401
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = forged.get("/api/billing/balance")
    assert response.status_code == 403 and "Invalid token" in response.json()["error"]


def test_revenue_total_counts_charges_minus_refunds():
    user_id = funded_user(1000)
    services.charge_create(user_id=user_id, amount=100, idempotency_key="rv:1")
    services.charge_create(user_id=user_id, amount=50, idempotency_key="rv:2")
    services.charge_refund(idempotency_key="rv:2")

    body = user_client(user_id).get("/api/billing/revenue/total").json()

    assert body == {
        "totalRevenue": 100,
        "totalCharged": 150,
        "totalRefunded": 50,
        "chargeCount": 2,
        "refundCount": 1,
    }


def charge(client, **overrides):
    body = {"userId": 1, "amount": 10, "idempotencyKey": "k", **overrides}
    return client.post("/api/billing/charge", body, format="json")


def test_internal_charge_is_idempotent_and_answers_402_with_the_balance():
    user_id = funded_user(25)
    client = service_client("streaming", "billing.charge")

    first = charge(client, userId=user_id, idempotencyKey="sess:1", videoId=4, sessionId="sess")
    again = charge(client, userId=user_id, idempotencyKey="sess:1", videoId=4, sessionId="sess")
    short = charge(client, userId=user_id, amount=20, idempotencyKey="sess:2")
    conflict = charge(client, userId=user_id, amount=11, idempotencyKey="sess:1")

    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == {
        "message": "Charge successful",
        "transactionId": first.json()["transactionId"],
        "userId": user_id,
        "amount": 10,
        "balance": 15,
        "remainingBalance": 15,
        "idempotencyKey": "sess:1",
        "replayed": False,
    }
    assert again.json() == {**first.json(), "replayed": True}
    assert short.status_code == 402
    assert short.json()["balance"] == 15 and short.json()["error"] == "Insufficient funds"
    assert conflict.status_code == 409
    assert Wallet.objects.get(user_id=user_id).balance == 15


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 0},
        {"amount": -1},
        {"amount": 1.5},
        {"amount": "10"},
        {"userId": "1"},
        {"userId": 0},
        {"idempotencyKey": ""},
        {"idempotencyKey": "x" * 201},
        {"userId": 2**63},
        {"amount": 2**64},
        {"videoId": 2**63},
    ],
)
def test_bad_charges_are_400(overrides):
    user_id = funded_user(100)

    response = charge(
        service_client("streaming", "billing.charge"), **{"userId": user_id, **overrides}
    )

    assert response.status_code == 400
    assert Wallet.objects.get(user_id=user_id).balance == 100


def test_internal_routes_refuse_users_anonymous_and_wrong_scopes():
    user_id = funded_user(100)

    assert charge(APIClient(), userId=user_id).status_code == 401
    assert charge(user_client(user_id), userId=user_id).status_code in {401, 403}
    assert (
        charge(service_client("streaming", "billing.accounts"), userId=user_id).status_code == 403
    )
    create = service_client("gateway", "billing.charge").post(
        "/api/billing/account/create", {"userId": 5}, format="json"
    )
    assert create.status_code == 403
    assert Wallet.objects.get(user_id=user_id).balance == 100
    assert not Wallet.objects.filter(user_id=5).exists()


def test_internal_account_create_and_delete():
    client = service_client("gateway", "billing.accounts")
    user_id = new_user_id()

    created = client.post("/api/billing/account/create", {"userId": user_id}, format="json")
    again = client.post("/api/billing/account/create", {"userId": user_id}, format="json")
    deleted = client.delete(f"/api/billing/account/{user_id}")
    gone = client.delete(f"/api/billing/account/{user_id}")
    funded = funded_user(5)
    kept = client.delete(f"/api/billing/account/{funded}")
    huge = client.delete(f"/api/billing/account/{2**64}")

    assert (created.status_code, created.json()) == (
        201,
        {
            "message": "Billing account created successfully",
            "userId": user_id,
            "balance": 0,
            "created": True,
        },
    )
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert again.json()["message"] == "Account already exists"
    assert deleted.json() == {
        "message": "Billing account deleted successfully (compensation)",
        "userId": user_id,
        "deleted": True,
    }
    assert gone.json() == {"message": "No such account", "userId": user_id, "deleted": False}
    assert kept.status_code == 409
    assert huge.status_code == 404
    assert Wallet.objects.get(user_id=funded).balance == 5


def test_internal_refund():
    user_id = funded_user(100)
    services.charge_create(user_id=user_id, amount=10, idempotency_key="rf:1")
    client = service_client("streaming", "billing.charge")

    refunded = client.post("/api/billing/refund", {"idempotencyKey": "rf:1"}, format="json")
    nothing = client.post("/api/billing/refund", {"idempotencyKey": "rf:9"}, format="json")

    assert refunded.json()["refunded"] is True and refunded.json()["balance"] == 100
    assert nothing.json() == {"refunded": False}
