"""Circuit breakers across a real gateway (two gunicorn workers) and a real upstream."""

import time

import psycopg2
import requests

from common.service_registry import UPSTREAMS
from common.testing import backends
from common.testing.processes import wait_for

FAIL_MAX = 3
RESET = 2


def _stats(url: str, name: str) -> dict:
    return requests.get(f"{url}/api/circuit-breaker/stats", timeout=5).json()["breakers"][name]


def test_breaker_opens_when_upstream_stops_fails_fast_and_recovers(platform, gateway):
    upstream = platform.upstream("billing")
    url = gateway(STREAMIFY_BREAKER_FAIL_MAX=FAIL_MAX, STREAMIFY_BREAKER_RESET_SECONDS=RESET)
    assert requests.get(f"{url}/api/billing/ok", timeout=5).status_code == 201

    platform.stop_process("billing-echo")
    failures = [requests.get(f"{url}/api/billing/ok", timeout=5) for _ in range(FAIL_MAX)]
    rejected, timings = [], []
    for _ in range(20):
        started = time.perf_counter()
        rejected.append(requests.get(f"{url}/api/billing/ok", timeout=5))
        timings.append(time.perf_counter() - started)
    opened = _stats(url, "billing")

    assert [r.status_code for r in failures] == [503] * FAIL_MAX
    assert failures[0].json()["service"] == "billing"
    assert all(r.status_code == 503 for r in rejected)
    body = rejected[-1].json()
    assert body["service"] == "billing" and body["error"] == "Service billing is unavailable"
    assert 1 <= body["retryAfter"] <= RESET
    assert rejected[-1].headers["Retry-After"] == str(body["retryAfter"])
    # Both gunicorn workers refuse without calling: the open state is shared between them.
    assert max(timings) < 0.05, timings
    assert opened["state"] == "OPEN"
    assert opened["totalFailures"] == FAIL_MAX
    assert opened["rejected"] == 20
    assert opened["lastError"] == "connection failed"

    platform.restart("billing-echo", f"{upstream}/health")
    time.sleep(RESET + 0.2)
    probe = requests.get(f"{url}/api/billing/ok", timeout=5)
    closed = _stats(url, "billing")

    assert probe.status_code == 201
    assert closed["state"] == "CLOSED" and closed["failures"] == 0
    assert closed["lastStateChange"] > opened["lastStateChange"]


def test_client_errors_do_not_count_server_errors_do(platform, gateway):
    platform.upstream("billing")
    url = gateway(STREAMIFY_BREAKER_FAIL_MAX=FAIL_MAX, STREAMIFY_BREAKER_RESET_SECONDS=60)

    answers = [requests.get(f"{url}/api/billing/status/404", timeout=5) for _ in range(10)]
    after_4xx = _stats(url, "billing")
    errors = [requests.get(f"{url}/api/billing/status/500", timeout=5) for _ in range(FAIL_MAX)]
    after_5xx = _stats(url, "billing")
    refused = requests.get(f"{url}/api/billing/status/200", timeout=5)

    assert {r.status_code for r in answers} == {404}
    assert after_4xx["state"] == "CLOSED" and after_4xx["totalFailures"] == 0
    # The upstream's own 500s are relayed as they are; once the breaker opens, calls stop.
    assert [r.status_code for r in errors] == [500] * FAIL_MAX
    assert after_5xx["state"] == "OPEN" and after_5xx["lastError"] == "billing answered 500"
    assert refused.status_code == 503


def test_stats_list_every_upstream_and_health_reports_them(platform, gateway):
    platform.upstream("analytics")
    url = gateway()

    stats = requests.get(f"{url}/api/circuit-breaker/stats", timeout=5).json()["breakers"]
    health = requests.get(f"{url}/health", timeout=10)

    assert set(stats) >= set(UPSTREAMS)
    assert set(stats) >= {"auth-grpc", "video-grpc"}
    assert stats["analytics"]["state"] == "CLOSED"
    assert health.status_code == 200  # the gateway itself can serve
    payload = health.json()
    assert payload["status"] == "degraded"
    assert payload["checks"]["database"]["status"] == "up"
    assert payload["upstreams"]["analytics"]["http"]["status"] == "up"
    assert payload["upstreams"]["billing"]["http"]["status"] == "down"
    assert payload["upstreams"]["auth"]["grpc"]["status"] == "down"
    assert payload["services"]["analytics"] == platform.urls["analytics"]


def test_health_is_503_when_the_gateway_cannot_reach_its_database(platform, gateway):
    url = gateway()
    name = platform.database_urls["gateway"].rsplit("/", 1)[1]
    conn = psycopg2.connect(f"{backends.postgres_url()}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
    try:
        payload = wait_for(
            lambda: (
                (r := requests.get(f"{url}/health", timeout=10)).status_code == 503 and r.json()
            ),
            timeout=10,
            what="503 from /health",
        )
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.close()

    assert payload["status"] == "unavailable"
    assert payload["checks"]["database"]["status"] == "down"
