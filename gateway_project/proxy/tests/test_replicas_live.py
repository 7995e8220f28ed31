"""An upstream with two replicas behind the gateway (`BILLING_URL` lists both): calls take
turns; a stopped replica is skipped, first by going on to the other for a call that never
reached it, then by its own breaker, and takes its turns again once back; the service is
unavailable only when both are."""

import time
from collections import Counter
from urllib.parse import urlsplit

import requests

FAIL_MAX = 3
RESET = 2


def _breakers(url: str) -> dict:
    return requests.get(f"{url}/api/circuit-breaker/stats", timeout=5).json()["breakers"]


def test_replicas_take_turns_a_stopped_one_is_skipped_and_rejoins(platform, gateway):
    first, second = platform.upstream("billing", replicas=2).split(",")
    # One gateway process: one rotation, so the turns are exact.
    url = gateway(
        WEB_CONCURRENCY="1",
        STREAMIFY_BREAKER_FAIL_MAX=FAIL_MAX,
        STREAMIFY_BREAKER_RESET_SECONDS=RESET,
    )

    def calls(count: int) -> list[requests.Response]:
        return [requests.get(f"{url}/api/billing/ok", timeout=5) for _ in range(count)]

    served_by = Counter(r.json()["pid"] for r in calls(10))

    platform.stop_process("billing-echo")
    after = calls(20)
    breakers = _breakers(url)
    stopped, alive = (breakers[f"billing@{urlsplit(u).netloc}"] for u in (first, second))

    platform.restart("billing-echo", f"{first}/health")
    time.sleep(RESET + 0.2)
    back = Counter(r.json()["pid"] for r in calls(10))
    rejoined = _breakers(url)[f"billing@{urlsplit(first).netloc}"]

    platform.stop_process("billing-echo")
    platform.stop_process("billing-echo-2")
    neither = calls(1)[0]

    assert sorted(served_by.values()) == [5, 5]
    assert [r.status_code for r in after] == [201] * 20
    assert len({r.json()["pid"] for r in after}) == 1
    assert stopped["state"] == "OPEN" and stopped["totalFailures"] == FAIL_MAX
    assert alive["state"] == "CLOSED" and alive["failures"] == 0
    # Once its breaker's timeout ran out, the first call it got was the probe; then turns.
    assert rejoined["state"] == "CLOSED"
    assert len(back) == 2 and min(back.values()) >= 4
    assert neither.status_code == 503
    assert neither.json()["service"] == "billing"


def test_health_checks_every_replica_and_names_the_one_that_is_down(platform, gateway):
    first, second = platform.upstream("billing", replicas=2).split(",")
    platform.stop_process("billing-echo")
    url = gateway()

    billing = requests.get(f"{url}/health", timeout=10).json()["upstreams"]["billing"]["http"]

    assert billing["status"] == "degraded"
    assert billing["instances"][first]["status"] == "down"
    assert billing["instances"][second]["status"] == "up"
    assert billing["instances"][second]["httpStatus"] == 200
