"""Billing's internal routes accept only the services they name: streaming charges and refunds,
the gateway (the registration saga) creates and deletes wallets. A compromised video service,
holding only its own key, can do none of it, whatever scope or name it writes in its token.

The same attack against a real billing process: tests/test_token_checks.py."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from common.auth import keys
from common.service_registry import SERVICES
from common.testing.tokens import service_header
from wallets import services
from wallets.models import LedgerEntry, Wallet
from wallets.tests.factories import funded_user, new_user_id

pytestmark = pytest.mark.django_db


@dataclass
class Route:
    method: str
    path: str
    body: dict | None
    scope: str
    caller: str


@pytest.fixture
def ledger():
    """A funded wallet with one charge to refund, and an empty wallet: what a forger targets."""
    funded = funded_user(1000)
    services.charge_create(user_id=funded, amount=10, idempotency_key="play:1")
    empty = funded_user(0)
    fresh = new_user_id()
    routes = {
        "charge": Route(
            "post",
            "/api/billing/charge",
            {"userId": funded, "amount": 990, "idempotencyKey": "forged:1"},
            "billing.charge",
            "streaming",
        ),
        "refund": Route(
            "post",
            "/api/billing/refund",
            {"idempotencyKey": "play:1"},
            "billing.charge",
            "streaming",
        ),
        "account create": Route(
            "post", "/api/billing/account/create", {"userId": fresh}, "billing.accounts", "gateway"
        ),
        "account delete": Route(
            "delete", f"/api/billing/account/{empty}", None, "billing.accounts", "gateway"
        ),
    }
    return funded, empty, fresh, routes


def send(route: Route, authorization: str):
    client = APIClient(HTTP_AUTHORIZATION=authorization)
    return getattr(client, route.method)(route.path, route.body, format="json")


def state(funded: int, empty: int, fresh: int) -> tuple:
    return (
        Wallet.objects.get(user_id=funded).balance,
        LedgerEntry.objects.count(),
        Wallet.objects.filter(user_id__in=[empty, fresh]).count(),
    )


def test_video_minting_billing_scopes_is_refused_on_every_internal_route(ledger):
    funded, empty, fresh, routes = ledger
    video_key = keys.service_private_key("video")
    before = state(funded, empty, fresh)

    answers = {}
    for name, route in routes.items():
        for scopes in ([route.scope], ["billing.charge", "billing.accounts"]):
            # As itself: a genuine video token with the scope the route asks for.
            as_video = service_header("video", audience="billing", scopes=scopes)
            # As the route's caller, signed with the only key video holds.
            as_caller = service_header(
                route.caller, audience="billing", scopes=scopes, key=video_key
            )
            answers[name, "as video", len(scopes)] = send(route, as_video["Authorization"])
            answers[name, "as caller", len(scopes)] = send(route, as_caller["Authorization"])

    assert {key: r.status_code for key, r in answers.items()} == {key: 403 for key in answers}
    for (_, claimed, _), response in answers.items():
        expected = (
            "This endpoint does not accept calls from video"
            if claimed == "as video"
            else "Invalid service token: Signature verification failed"
        )
        assert response.json() == {"error": expected, "details": []}
    assert state(funded, empty, fresh) == before == (990, 2, 1)


@pytest.mark.parametrize("route_name", ["charge", "refund", "account create", "account delete"])
def test_only_the_named_caller_may_use_a_route_even_with_its_scope(ledger, route_name):
    funded, empty, fresh, routes = ledger
    route = routes[route_name]
    before = state(funded, empty, fresh)

    refused = {
        issuer: send(
            route,
            service_header(issuer, audience="billing", scopes=[route.scope])["Authorization"],
        ).status_code
        for issuer in SERVICES
        if issuer != route.caller
    }
    unchanged = state(funded, empty, fresh)
    accepted = send(
        route,
        service_header(route.caller, audience="billing", scopes=[route.scope])["Authorization"],
    )

    assert refused == {issuer: 403 for issuer in SERVICES if issuer != route.caller}
    assert unchanged == before
    assert accepted.status_code in (200, 201), accepted.json()
    assert state(funded, empty, fresh) != before


def test_the_right_callers_still_charge_refund_create_and_delete(ledger):
    funded, empty, fresh, routes = ledger

    answers = {
        name: send(
            route,
            service_header(route.caller, audience="billing", scopes=[route.scope])["Authorization"],
        )
        for name, route in routes.items()
    }

    assert {name: r.status_code for name, r in answers.items()} == {
        "charge": 201,
        "refund": 200,
        "account create": 201,
        "account delete": 200,
    }
    assert answers["charge"].json()["balance"] == 0
    assert answers["refund"].json()["balance"] == 10
    assert Wallet.objects.get(user_id=funded).balance == 10
    assert Wallet.objects.filter(user_id=fresh).exists()
    assert not Wallet.objects.filter(user_id=empty).exists()
