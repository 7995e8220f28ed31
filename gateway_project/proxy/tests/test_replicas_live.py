"""An upstream with two replicas behind the gateway (`BILLING_URL` lists both): calls take
turns; a stopped replica is skipped, first by going on to the other for a call that never
reached it, then by its own breaker; the service is unavailable only when both are."""

from collections import Counter
from urllib.parse import urlsplit

import requests

FAIL_MAX = 3


def _breakers(url: str) -> dict:
    return requests.get(f"{url}/api/circuit-breaker/stats", timeout=5).json()["breakers"]


def test_replicas_take_turns_and_a_stopped_one_is_skipped(platform, gateway):
    first, second = platform.upstream("billing", replicas=2).split(",")
    # One gateway process: one rotation, so the turns are exact.
    url = gateway(
        WEB_CONCURRENCY="1", STREAMIFY_BREAKER_FAIL_MAX=FAIL_MAX, STREAMIFY_BREAKER_RESET_SECONDS=60
    )
    served_by = Counter(
        requests.get(f"{url}/api/billing/ok", timeout=5).json()["pid"] for _ in range(10)
    )

    platform.stop("billing-echo")
    after = [requests.get(f"{url}/api/billing/ok", timeout=5) for _ in range(20)]
    breakers = _breakers(url)
    stopped, alive = (breakers[f"billing@{urlsplit(u).netloc}"] for u in (first, second))

    platform.stop("billing-echo-2")
    neither = requests.get(f"{url}/api/billing/ok", timeout=5)

    assert sorted(served_by.values()) == [5, 5]
    assert [r.status_code for r in after] == [201] * 20
    assert len({r.json()["pid"] for r in after}) == 1
    assert stopped["state"] == "OPEN" and stopped["totalFailures"] == FAIL_MAX
    assert alive["state"] == "CLOSED" and alive["failures"] == 0
    assert neither.status_code == 503
    assert neither.json()["service"] == "billing"
    # The stopped replicas were both tried: the live-looking one first, the open one last.
    assert neither.json()["details"][-1]["message"].startswith(f"billing@{urlsplit(first).netloc}")
