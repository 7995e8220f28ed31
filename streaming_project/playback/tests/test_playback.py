import re
import time

import pytest
from rest_framework.test import APIClient

from common.events.models import OutboxEvent
from common.testing.concurrency import together
from common.testing.tokens import bearer
from playback import services
from playback.models import StreamSession

pytestmark = pytest.mark.django_db


def client_for(user_id: int) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user_id)["Authorization"])
    return client


def start(client: APIClient, video_id: int):
    return client.post(f"/api/stream/start/{video_id}")


def heartbeat(client: APIClient, session_id: str):
    return client.put(f"/api/stream/heartbeat/{session_id}")


def events(type_: str, session_id: str) -> list[dict]:
    found = [e.envelope["data"] for e in OutboxEvent.objects.filter(type=type_)]
    return [d for d in found if d.get("sessionId") == session_id]


def test_start_charges_the_first_minute_and_reports_the_video(platform, users, clock):
    user_id = users(balance=100)
    client = client_for(user_id)
    video_id = platform.videos["ten_minutes"]

    response = start(client, video_id)

    assert response.status_code == 200, response.content
    body = response.json()
    session_id = body["sessionId"]
    signed = rf"/api/stream/url/{session_id}/\d+\.[\w-]{{43}}"
    assert re.fullmatch(rf"{signed}/video\.mp4", body["streamUrl"])
    assert re.fullmatch(rf"{signed}/hls/index\.m3u8", body["hlsUrl"])
    assert (body["paidSeconds"], body["edgeSeconds"]) == (60, 90)
    assert body["videoDetails"]["id"] == video_id
    assert body["videoDetails"]["pricePerMinute"] == 10
    assert body["videoDetails"]["duration"] == 600.0
    assert (body["minutesCharged"], body["charged"], body["balance"]) == (1, 10, 90)
    assert [c["idempotencyKey"] for c in platform.charges(user_id)] == [f"{session_id}:1"]
    [started] = events("stream.started", session_id)
    assert started == {
        "sessionId": session_id,
        "userId": user_id,
        "videoId": video_id,
        "pricePerMinute": 10,
        "startedAt": clock().isoformat(),
    }


def test_a_three_and_a_half_minute_watch_of_a_price_10_video_costs_40(platform, users, clock):
    user_id = users(balance=1000)
    client = client_for(user_id)
    session_id = start(client, platform.videos["ten_minutes"]).json()["sessionId"]

    beats = []
    for _ in range(7):
        clock.advance(seconds=30)
        beats.append(heartbeat(client, session_id).json())
    ended = client.post(f"/api/stream/end/{session_id}").json()

    # Minute m is due once more than (m - 1) * 60 s have been watched.
    assert [b["charged"] for b in beats] == [10, 10, 20, 20, 30, 30, 40]
    assert beats[-1]["watchedTime"] == 210.0 and beats[-1]["balance"] == 960
    assert ended["amountCharged"] == 40 and ended["minutesCharged"] == 4
    assert ended["watchedTime"] == 210.0 and ended["status"] == "ended"
    assert platform.balance(user_id) == 960
    assert sorted(c["idempotencyKey"] for c in platform.charges(user_id)) == [
        f"{session_id}:{m}" for m in (1, 2, 3, 4)
    ]
    [watched] = events("video.watched", session_id)
    assert watched == {
        "sessionId": session_id,
        "userId": user_id,
        "videoId": platform.videos["ten_minutes"],
        "watchSeconds": 210.0,
        "amount": 40,
    }
    [stream_ended] = events("stream.ended", session_id)
    assert stream_ended["reason"] == "user" and stream_ended["minutesCharged"] == 4
    assert stream_ended["amountCharged"] == 40 and stream_ended["watchSeconds"] == 210.0


def test_end_charges_minutes_started_since_the_last_heartbeat(platform, users, clock):
    user_id = users(balance=1000)
    client = client_for(user_id)
    session_id = start(client, platform.videos["ten_minutes"]).json()["sessionId"]

    clock.advance(seconds=61)
    ended = client.post(f"/api/stream/end/{session_id}").json()
    again = client.post(f"/api/stream/end/{session_id}")

    assert ended["minutesCharged"] == 2 and platform.balance(user_id) == 980
    assert again.status_code == 200 and again.json()["minutesCharged"] == 2
    assert len(events("stream.ended", session_id)) == 1


def test_sessions_are_numbered_and_their_owner_can_end_one_by_number(platform, users, clock):
    owner, stranger = client_for(users(balance=1000)), client_for(users(balance=1000))
    first = start(owner, platform.videos["ten_minutes"]).json()
    second = start(owner, platform.videos["ten_minutes"]).json()
    number, started_at = second["sessionNumber"], clock().isoformat()

    listed = owner.get("/api/stream/sessions/active").json()["sessions"]
    by_stranger = stranger.post(f"/api/stream/end/{number}")
    clock.advance(seconds=61)
    ended = owner.post(f"/api/stream/end/{number}")
    never = [owner.post(f"/api/stream/end/{n}") for n in ("0", "1" + "0" * 18, "-1")]

    assert number > first["sessionNumber"] >= 1
    assert (second["status"], second["startedAt"]) == ("active", started_at)
    assert {(s["sessionNumber"], s["sessionId"]) for s in listed} == {
        (first["sessionNumber"], first["sessionId"]),
        (number, second["sessionId"]),
    }
    assert by_stranger.status_code == 404
    assert ended.status_code == 200, ended.content
    assert (ended.json()["sessionId"], ended.json()["status"]) == (second["sessionId"], "ended")
    assert ended.json()["minutesCharged"] == 2
    assert [r.status_code for r in never] == [404, 404, 404]
    assert StreamSession.objects.get(pk=first["sessionId"]).status == "active"


def test_billable_time_is_capped_at_the_video_duration(platform, users, clock):
    user_id = users(balance=1000)
    client = client_for(user_id)
    session_id = start(client, platform.videos["ninety_seconds"]).json()["sessionId"]

    clock.advance(seconds=80)
    heartbeat(client, session_id)
    clock.advance(seconds=80)
    beat = heartbeat(client, session_id).json()

    assert beat["watchedTime"] == 90.0 and beat["charged"] == 20
    assert platform.balance(user_id) == 980


def test_duplicate_heartbeats_do_not_double_charge(platform, users, clock, settings):
    settings.STREAMING_IDLE_TIMEOUT_SECONDS = 600
    user_id = users(balance=1000)
    client = client_for(user_id)
    session_id = start(client, platform.videos["ten_minutes"]).json()["sessionId"]

    clock.advance(seconds=125)
    first = heartbeat(client, session_id).json()
    second = heartbeat(client, session_id).json()

    assert first["charged"] == second["charged"] == 30
    assert platform.balance(user_id) == 970
    assert len(platform.charges(user_id)) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_heartbeats_do_not_double_charge(platform, users, clock, settings):
    settings.STREAMING_IDLE_TIMEOUT_SECONDS = 600
    user_id = users(balance=1000)
    client = client_for(user_id)
    session_id = start(client, platform.videos["ten_minutes"]).json()["sessionId"]
    clock.advance(seconds=150)
    answers = [
        answer.json()
        for answer in together(*[lambda: heartbeat(client_for(user_id), session_id)] * 8)
    ]

    assert [a["charged"] for a in answers] == [30] * 8
    assert platform.balance(user_id) == 970
    assert sorted(c["idempotencyKey"] for c in platform.charges(user_id)) == [
        f"{session_id}:{m}" for m in (1, 2, 3)
    ]
    assert StreamSession.objects.get(pk=session_id).minutes_charged == 3


def test_insufficient_funds_mid_stream_ends_the_session_with_402(platform, users, clock):
    user_id = users(balance=25)
    client = client_for(user_id)
    started = start(client, platform.videos["ten_minutes"]).json()
    session_id = started["sessionId"]

    clock.advance(seconds=70)
    paid = heartbeat(client, session_id)
    clock.advance(seconds=60)
    short = heartbeat(client, session_id)
    after = heartbeat(client, session_id)

    assert paid.status_code == 200 and paid.json()["balance"] == 5
    assert short.status_code == 402
    assert short.json()["balance"] == 5 and short.json()["sessionEnded"] is True
    assert after.status_code == 410 and after.json()["error"] == "Session has ended"
    session = StreamSession.objects.get(pk=session_id)
    assert (session.status, session.end_reason, session.minutes_charged) == (
        "ended",
        "insufficient_funds",
        2,
    )
    assert client.get(started["streamUrl"], HTTP_RANGE="bytes=0-9").status_code == 410
    assert platform.balance(user_id) == 5
    [stream_ended] = events("stream.ended", session_id)
    assert stream_ended["reason"] == "insufficient_funds"


def test_start_answers_402_when_the_first_minute_cannot_be_paid(platform, users, clock):
    user_id = users(balance=9)

    response = start(client_for(user_id), platform.videos["ten_minutes"])

    assert response.status_code == 402 and response.json()["balance"] == 9
    assert not StreamSession.objects.filter(user_id=user_id).exists()
    assert platform.balance(user_id) == 9


def test_unknown_missing_and_not_ready_videos(platform, users, clock):
    client = client_for(users(balance=100))

    missing = start(client, 987654321)
    huge = start(client, 2**64)
    processing = start(client, platform.videos["processing"])

    assert missing.status_code == 404 and missing.json()["error"] == "Video not found"
    assert huge.status_code == 404
    assert processing.status_code == 409
    assert not StreamSession.objects.exists()


def test_a_free_video_charges_nothing(platform, users, clock, settings):
    settings.STREAMING_IDLE_TIMEOUT_SECONDS = 600
    user_id = users()
    client = client_for(user_id)

    body = start(client, platform.videos["free"]).json()
    clock.advance(minutes=3)
    beat = heartbeat(client, body["sessionId"]).json()

    assert beat["charged"] == 0 and platform.ledger(user_id) == []


def test_another_users_session_is_not_found(platform, users, clock):
    owner, stranger = users(balance=100), users(balance=100)
    session_id = start(client_for(owner), platform.videos["ten_minutes"]).json()["sessionId"]
    other = client_for(stranger)

    assert heartbeat(other, session_id).status_code == 404
    assert other.post(f"/api/stream/end/{session_id}").status_code == 404
    assert other.get(f"/api/stream/url/{session_id}").status_code == 403
    assert heartbeat(other, "00000000-0000-4000-8000-000000000000").status_code == 404
    assert heartbeat(other, "not-a-uuid").status_code == 404
    assert StreamSession.objects.get(pk=session_id).status == "active"
    assert platform.balance(stranger) == 100


def test_routes_need_a_user_token(platform):
    anonymous = APIClient()
    assert anonymous.post("/api/stream/start/1").status_code == 401
    assert anonymous.get("/api/stream/sessions/active").status_code == 401


def test_active_sessions_lists_only_the_callers_live_sessions(platform, users, clock):
    user_id, other = users(balance=100), users(balance=100)
    client = client_for(user_id)
    first = start(client, platform.videos["ten_minutes"]).json()["sessionId"]
    second = start(client, platform.videos["ninety_seconds"]).json()["sessionId"]
    start(client_for(other), platform.videos["ten_minutes"])
    client.post(f"/api/stream/end/{first}")

    listed = client.get("/api/stream/sessions/active").json()["sessions"]

    assert [s["sessionId"] for s in listed] == [second]
    assert listed[0]["amountCharged"] == 10 and f"/{second}/" in listed[0]["streamUrl"]


def test_an_idle_session_stops_serving_and_the_sweep_ends_it(platform, users, clock, settings):
    settings.STREAMING_IDLE_TIMEOUT_SECONDS = 120
    user_id = users(balance=1000)
    client = client_for(user_id)
    started = start(client, platform.videos["ten_minutes"]).json()
    session_id = started["sessionId"]
    clock.advance(seconds=100)
    heartbeat(client, session_id)
    assert APIClient().get(started["streamUrl"], HTTP_RANGE="bytes=0-9").status_code == 206

    clock.advance(seconds=121)
    refused = APIClient().get(started["streamUrl"], HTTP_RANGE="bytes=0-9")
    swept = services.sessions_sweep()

    assert refused.status_code == 410
    assert swept == {"ended": 1, "abandoned": 0}
    session = StreamSession.objects.get(pk=session_id)
    assert (session.status, session.end_reason) == ("ended", "idle")
    assert session.ended_at == session.last_heartbeat_at
    assert session.minutes_charged == 2 and platform.balance(user_id) == 980
    assert heartbeat(client, session_id).status_code == 410
    assert client.get("/api/stream/sessions/active").json()["sessions"] == []
    [watched] = events("video.watched", session_id)
    assert watched["watchSeconds"] == 100.0 and watched["amount"] == 20


def test_a_late_heartbeat_ends_an_idle_session_instead_of_reviving_it(
    platform, users, clock, settings
):
    settings.STREAMING_IDLE_TIMEOUT_SECONDS = 60
    user_id = users(balance=1000)
    client = client_for(user_id)
    session_id = start(client, platform.videos["ten_minutes"]).json()["sessionId"]

    clock.advance(minutes=5)
    late = heartbeat(client, session_id)

    assert late.status_code == 410 and late.json()["reason"] == "idle"
    assert platform.balance(user_id) == 990


def test_billing_stopped_start_fails_fast_with_503_and_leaves_nothing(
    platform, users, clock, monkeypatch
):
    from common.testing.processes import free_port, wait_http_ok, web_process

    user_id = users(balance=100)
    port = free_port()
    spare = web_process("billing", port, env=platform.env, log_dir=platform.log_dir).start()
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/health", process=spare)
        monkeypatch.setenv("BILLING_URL", f"http://127.0.0.1:{port}")
        # Each process keeps one connection pool per upstream, made from its URL on first use.
        monkeypatch.setattr("common.upstreams._pools", {})
        client = client_for(user_id)
        assert start(client, platform.videos["ten_minutes"]).status_code == 200
    finally:
        spare.stop()

    timings, answers = [], []
    for _ in range(7):
        began = time.perf_counter()
        answers.append(start(client, platform.videos["ten_minutes"]))
        timings.append(time.perf_counter() - began)

    assert {a.status_code for a in answers} == {503}
    assert answers[0].json()["service"] == "billing" and answers[0]["Retry-After"]
    assert max(timings) < 1.0, timings
    from common import breakers

    assert breakers.stats(["billing"])["billing"]["state"] == "OPEN"
    # The one session opened while billing was up is the only one; its one minute the only charge.
    assert StreamSession.objects.filter(user_id=user_id).count() == 1
    assert platform.balance(user_id) == 90


def test_video_service_down_answers_503(platform, users, clock, monkeypatch):
    monkeypatch.setenv("VIDEO_GRPC_TARGET", f"127.0.0.1:{_closed_port()}")
    user_id = users(balance=100)

    response = start(client_for(user_id), platform.videos["ten_minutes"])

    assert response.status_code == 503 and response.json()["service"] == "video-grpc"
    assert platform.balance(user_id) == 100 and not StreamSession.objects.exists()


def _closed_port() -> int:
    from common.testing.processes import free_port

    return free_port()
