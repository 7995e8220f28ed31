"""A user token is verified once per process, and never trusted past its expiry."""

import time

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.backends import TokenBackend

from common.auth import authentication
from common.testing.tokens import user_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def decodes(monkeypatch):
    """How many times a token's signature was checked."""
    calls = []
    real = TokenBackend.decode

    def counting(self, token, verify=True):
        calls.append(token.decode() if isinstance(token, bytes) else token)
        return real(self, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", counting)
    monkeypatch.setattr(authentication, "_verified", authentication.VerifiedTokens())
    return calls


def _balance(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/billing/balance")


def test_a_token_is_verified_once_then_recognised(decodes):
    first, second = user_token(41), user_token(42)

    answers = [_balance(first) for _ in range(5)] + [_balance(second)]

    assert [a.json()["userId"] for a in answers] == [41] * 5 + [42]
    assert decodes == [first, second]


def test_a_known_token_is_refused_once_it_expires(decodes):
    # `exp` is whole seconds: a token made to last 2 s is good for at least 1 s, at most 2.
    token = user_token(43, expires_in=2)
    assert _balance(token).status_code == 200

    time.sleep(2.1)
    refused = _balance(token)

    assert refused.status_code == 403 and "expired" in refused.json()["error"]
    assert decodes == [token, token]


def test_a_forged_token_is_never_remembered(decodes):
    forged = user_token(44)[:-4] + "AAAA"

    assert [_balance(forged).status_code for _ in range(2)] == [403, 403]
    assert decodes == [forged, forged]


@pytest.mark.django_db(transaction=True)
def test_two_users_read_only_their_own_balance_under_concurrent_load(live_server):
    """The token cache maps a token to its user: under load from both users at once, each
    answer is the caller's own balance, never the other's."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from wallets.services import deposit_create

    deposit_create(user_id=51, amount=111)
    deposit_create(user_id=52, amount=222)
    tokens = {51: user_token(51), 52: user_token(52)}
    url = f"{live_server.url}/api/billing/balance"

    def read(user_id: int) -> tuple[int, dict]:
        with requests.Session() as http:
            header = {"Authorization": f"Bearer {tokens[user_id]}"}
            return user_id, [http.get(url, headers=header, timeout=10).json() for _ in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(read, [51, 52] * 4))

    expected = {51: {"userId": 51, "balance": 111}, 52: {"userId": 52, "balance": 222}}
    for user_id, answers in runs:
        assert answers == [expected[user_id]] * 25
