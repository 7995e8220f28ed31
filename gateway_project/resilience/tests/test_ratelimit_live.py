"""Rate limits on a real gateway: two workers sharing Redis, or one counting in memory."""

import pytest
import requests

from common.testing.redis import private_redis


@pytest.fixture(params=["redis, two workers", "memory, one worker"])
def counters(request) -> dict:
    """Where the gateway counts: a private Redis shared by two workers, or its own memory."""
    if request.param.startswith("memory"):
        yield {"WEB_CONCURRENCY": "1"}
        return
    with private_redis() as url:
        yield {"WEB_CONCURRENCY": "2", "REDIS_URL": url}


def test_auth_limit_answers_429_with_retry_after_and_ignores_spoofed_forwarded_for(
    platform, gateway, counters
):
    platform.upstream("auth")
    url = gateway(GATEWAY_RATE_AUTH="5/m", GATEWAY_RATE_GENERAL="1000/m", **counters)

    allowed = [requests.post(f"{url}/api/auth/login", json={}, timeout=5) for _ in range(5)]
    refused = requests.post(f"{url}/api/auth/login", json={}, timeout=5)
    spoofed = requests.post(
        f"{url}/api/auth/login", json={}, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5
    )
    other_group = requests.get(f"{url}/api/videos", timeout=5)

    assert [r.status_code for r in allowed] == [201] * 5
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json() == {
        "error": "Too many requests",
        "details": [{"group": "auth", "limit": 5, "retryAfter": retry_after}],
    }
    assert spoofed.status_code == 429
    assert other_group.status_code != 429


def test_forwarded_for_is_the_key_behind_a_trusted_proxy(platform, gateway, counters):
    platform.upstream("auth")
    url = gateway(GATEWAY_RATE_AUTH="2/m", GATEWAY_TRUSTED_PROXIES="127.0.0.1", **counters)

    def login(client_ip: str) -> int:
        headers = {"X-Forwarded-For": client_ip}
        return requests.post(
            f"{url}/api/auth/login", json={}, headers=headers, timeout=5
        ).status_code

    first = [login("198.51.100.1") for _ in range(3)]
    second = [login("198.51.100.2") for _ in range(2)]

    assert first == [201, 201, 429]
    assert second == [201, 201]
