"""Analytics figures as signed-in viewers read them through the gateway, kept in the gateway's
memory, never outlive the projections that computed them: once a view is applied, the gateway
answers what analytics answers."""

import time

import jwt
import pytest
import requests

from common.testing.processes import wait_for
from common.testing.tokens import user_claims

VIDEO_ID = 4242


@pytest.mark.parametrize("kind", ["embedded", "real"])
def test_a_kept_stat_is_dropped_when_the_view_that_changes_it_is_applied(make_platform, kind):
    platform = make_platform(kind, ["analytics", "gateway"])
    platform.upstreams_closed("auth", "video", "streaming", "billing")
    platform.start_web("analytics")
    platform.start_worker("analytics")
    platform.start_web("gateway", WEB_CONCURRENCY="1")
    gateway, analytics = platform.url("gateway", ""), platform.url("analytics", "")
    key = (platform.var / "secrets" / "jwt_private.pem").read_text()
    viewer, other = (
        {"Authorization": f"Bearer {jwt.encode(user_claims(n), key, 'RS256')}"} for n in (51, 52)
    )
    stats = f"/api/analytics/cqrs/video/{VIDEO_ID}/stats"

    def views(base: str, headers: dict) -> int:
        answer = requests.get(f"{base}{stats}", headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["totalViews"]

    def record_view() -> None:
        recorded = requests.post(
            f"{gateway}/api/analytics/cqrs/record-view",
            json={"videoId": VIDEO_ID, "watchTime": 30},
            headers=viewer,
            timeout=10,
        )
        assert recorded.status_code == 201, recorded.text

    record_view()
    wait_for(lambda: views(gateway, other) == 1, timeout=60, interval=0.2, what="first view")
    for _ in range(3):
        record_view()
        started = time.monotonic()
        expected = views(analytics, viewer)
        wait_for(
            lambda n=expected: views(gateway, other) == n, timeout=10, interval=0.05, what="purge"
        )
        print(f"{kind}: gateway answered {expected} views {time.monotonic() - started:.2f} s later")
        assert all(views(gateway, other) == expected for _ in range(10))
    kept = requests.get(f"{gateway}{stats}", headers=other, timeout=10)
    direct = requests.get(f"{analytics}{stats}", headers=viewer, timeout=10)
    assert (kept.json(), kept.headers["ETag"]) == (direct.json(), direct.headers["ETag"])
    assert views(analytics, viewer) == 4
