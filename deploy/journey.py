"""A new user's first hour, through the gateway only: the seed document's curl examples, a
paid viewing, and analytics catching up from the bus alone.

    python -m deploy.journey [--gateway http://127.0.0.1:3000]

`deploy.smoke` runs it against the platform `make run` started. Figures are compared as
differences, so it also holds on databases that already have history (the real backends).
Exits non-zero at the first step that does not do what the README says.
"""

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime

import requests

from common.service_registry import UPSTREAMS

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@streamify.local", "streamify-admin"


class Journey:
    def __init__(self, gateway: str):
        self.gateway = gateway.rstrip("/")
        self.http = requests.Session()

    def call(self, method: str, path: str, expect: int, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self.http.request(
            method, self.gateway + path, headers=headers, timeout=30, **kwargs
        )
        if response.status_code != expect:
            raise AssertionError(
                f"{method} {path}: expected {expect}, got {response.status_code} {response.text}"
            )
        return response

    def graphql(self, query: str, token: str | None = None) -> dict:
        body = self.call("POST", "/graphql", 200, token, json={"query": query}).json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL {query}: {body['errors']}")
        return body["data"]

    def login(self, email: str, password: str) -> str:
        body = {"email": email, "password": password}
        return self.call("POST", "/api/auth/login", 200, json=body).json()["token"]

    def eventually(self, what: str, probe, timeout: float = 30.0):
        """Analytics learns from the bus, so its answers lag by a moment: poll, then fail."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            last = probe()
            if last[0]:
                return last[1]
            time.sleep(0.5)
        raise AssertionError(f"{what} not seen within {timeout:.0f}s; last answer: {last[1]}")


def step(name: str) -> None:
    print(f"  - {name}", flush=True)


def walk(gateway: str) -> None:
    j = Journey(gateway)
    tag = uuid.uuid4().hex[:8]

    step("GET /health: the gateway and every upstream are up")
    health = j.call("GET", "/health", 200).json()
    assert health["status"] == "ok", health

    step("POST /api/saga/register (seed body): user, wallet and analytics profile")
    email, password = f"saga-{tag}@example.com", "password123"
    seed_body = {"email": email, "password": password, "firstName": "Saga", "lastName": "Test"}
    response = j.http.post(f"{j.gateway}/api/saga/register", json=seed_body, timeout=60)
    if response.status_code == 202:
        location = response.headers["Location"]
        saga = j.eventually(
            "saga completion",
            lambda: (
                (doc := j.call("GET", location, 200).json())["status"] == "completed",
                doc,
            ),
        )
        state = saga["sagaState"]
    else:
        assert response.status_code == 201, response.text
        saga = response.json()
        assert saga["success"] is True, saga
        state = saga["sagaState"]
    assert state == {
        "userCreated": True,
        "walletCreated": True,
        "analyticsCreated": True,
        "userId": saga["user"]["id"],
        "errors": [],
    }, saga
    j.call("POST", "/api/saga/register", 409, json=seed_body)

    step("POST /api/auth/register and /api/auth/login (seed bodies)")
    plain = {"email": f"test-{tag}@example.com", "password": "password123",
             "firstName": "Test", "lastName": "User"}  # fmt: skip
    created = j.call("POST", "/api/auth/register", 201, json=plain).json()
    assert created["user"]["email"] == plain["email"], created
    j.login(plain["email"], plain["password"])
    token = j.login(email, password)
    me = j.call("POST", "/api/auth/verify", 200, token).json()
    assert me["email"] == email, me

    step("GraphQL: videos (anonymous) and userBalance (with the token)")
    listing = j.graphql("{ videos(page: 1, limit: 10) { videos { id title status } total } }")
    assert listing["videos"]["total"] >= 1, listing
    assert j.graphql("{ userBalance { userId balance } }", token)["userBalance"] == {
        "userId": me["id"],
        "balance": 0,
    }

    step("POST /api/billing/deposit 5000 cents, GET /api/billing/balance")
    deposit = j.call("POST", "/api/billing/deposit", 200, token, json={"amount": 5000}).json()
    assert deposit["newBalance"] == 5000, deposit
    assert j.call("GET", "/api/billing/balance", 200, token).json()["balance"] == 5000

    videos = j.call("GET", "/api/videos?limit=50", 200).json()["videos"]
    video = next((v for v in videos if v["status"] == "ready"), None)
    assert video, f"no ready video in the catalog: {videos}"
    path = f"/api/analytics/cqrs/video/{video['id']}/stats"
    before = j.call("GET", path, 200, token).json()
    platform_before = j.call("GET", "/api/analytics/cqrs/platform/stats", 200, token).json()

    step(f"watch video {video['id']}: start, fetch a byte range and HLS, heartbeat, end")
    session = j.call("POST", f"/api/stream/start/{video['id']}", 200, token).json()
    sid = session["sessionId"]
    assert session["streamUrl"].startswith(f"/api/stream/url/{sid}/"), session
    chunk = j.call("GET", session["streamUrl"], 206, headers={"Range": "bytes=0-99"})
    assert len(chunk.content) == 100 and chunk.headers["Content-Range"].startswith("bytes 0-99/")
    assert chunk.headers["Cache-Control"] == "private, no-store", chunk.headers
    assert j.call("GET", session["hlsUrl"], 200).text.startswith("#EXTM3U")
    # The bare session id is no capability any more: media URLs are signed.
    j.call("GET", f"/api/stream/url/{sid}", 403, headers={"Range": "bytes=0-99"})
    beat = j.call("PUT", f"/api/stream/heartbeat/{sid}", 200, token).json()
    assert beat["edgeSeconds"] > beat["paidSeconds"] > 0, beat
    assert beat["streamUrl"].startswith(f"/api/stream/url/{sid}/"), beat
    ended = j.call("POST", f"/api/stream/end/{sid}", 200, token).json()
    j.call("GET", session["streamUrl"], 410, headers={"Range": "bytes=0-99"})
    charged = ended["amountCharged"]
    assert ended["status"] == "ended" and charged == video["pricePerMinute"], ended
    balance = j.call("GET", "/api/billing/balance", 200, token).json()["balance"]
    assert balance == 5000 - charged, balance

    step("POST /api/analytics/cqrs/record-view (seed body, user from the token)")
    j.call("POST", "/api/analytics/cqrs/record-view", 401, json={"userId": 1, "videoId": 1})
    recorded = {"userId": me["id"], "videoId": video["id"], "watchTime": 120}
    j.call("POST", "/api/analytics/cqrs/record-view", 201, token, json=recorded)

    step("analytics reflects the viewing, from the bus alone")
    stats = j.eventually(
        "the viewing in the video's stats",
        lambda: (
            (s := j.call("GET", path, 200, token).json())["totalViews"] == before["totalViews"] + 2
            and s["revenue"] == before["revenue"] + charged,
            s,
        ),
    )
    history = j.call("GET", f"/api/analytics/cqrs/user/{me['id']}/history", 200, token).json()
    assert {h["videoId"] for h in history["history"]} == {video["id"]}, history
    platform = j.call("GET", "/api/analytics/cqrs/platform/stats", 200, token).json()
    assert platform["totalViews"] == platform_before["totalViews"] + 2, platform
    today = datetime.now(UTC).date().isoformat()
    daily = j.eventually(
        "today's row in the daily report",
        lambda: (
            (r := j.call("GET", "/api/analytics/reports/daily", 200, token).json())["freshness"][
                "lagEvents"
            ]
            == 0,
            r,
        ),
    )
    assert any(row["start"] == today and row["views"] >= 2 for row in daily["rows"]), daily
    dashboard = j.call("GET", "/api/analytics/dashboard", 200, token).json()
    assert dashboard["platform"]["totalViews"] == platform["totalViews"], dashboard

    step("replay (staff): every read model rebuilt from the event store, same numbers")
    j.call("POST", "/api/analytics/cqrs/replay-events", 403, token, json={})
    staff = j.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    replayed = j.call("POST", "/api/analytics/cqrs/replay-events", 200, staff, json={}).json()
    assert replayed["eventsReplayed"] >= 2, replayed
    again = j.call("GET", path, 200, token).json()
    keys = ("totalViews", "uniqueViewers", "totalWatchTime", "revenue")
    assert {k: again[k] for k in keys} == {k: stats[k] for k in keys}, (stats, again)

    step("GET /api/circuit-breaker/stats: every upstream closed")
    breakers = j.call("GET", "/api/circuit-breaker/stats", 200).json()
    states = {name: b["state"] for name, b in breakers["breakers"].items()}
    assert all(states.get(s) == "CLOSED" for s in UPSTREAMS), states


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", default="http://127.0.0.1:3000")
    args = parser.parse_args()
    try:
        walk(args.gateway)
    except AssertionError as exc:
        print(f"JOURNEY FAILED: {exc}", file=sys.stderr)
        return 1
    print("journey: every step answered as documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
