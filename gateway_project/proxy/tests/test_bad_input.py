"""A client's oversized body is the client's mistake: the upstream refuses it unread and closes
that connection, and the gateway must not send the next request down the dead connection and
count the failure against the upstream's breaker (five such requests would lock everyone out)."""

import requests

ROUNDS = 20


def test_oversized_bodies_never_fail_the_next_request_nor_count_against_the_breaker(
    platform, gateway
):
    platform.service("auth")
    url = gateway()
    oversized = b'{"email":"' + b"x" * 70_000 + b'"}'  # past auth's 16 KiB body limit
    small = {"email": "nobody@example.com", "password": "password123"}

    answers = []
    for _ in range(ROUNDS):
        refused = requests.post(
            f"{url}/api/auth/login",
            data=oversized,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        after = requests.post(f"{url}/api/auth/login", json=small, timeout=30)
        answers.append((refused.status_code, after.status_code))
    breaker = requests.get(f"{url}/api/circuit-breaker/stats", timeout=10).json()["breakers"]

    assert answers == [(413, 401)] * ROUNDS
    assert breaker["auth"]["state"] == "CLOSED"
    assert breaker["auth"]["totalFailures"] == 0, breaker["auth"]
