"""A browser-like player watches the whole 3-minute video and pays exactly its 3 minutes.

The server's clock (`playback.clock`) moves 5 s per tick instead of the test sleeping. The
player heartbeats every 10 s, as the web UI does, and fetches media in playback order: the MP4
player asks for `bytes=<what it has>-` on every tick, as a video element reads ahead; the HLS
player keeps 20 s of segments buffered. Neither ever runs dry, and billing's own ledger shows
three charges of 10, one per minute.
"""

import math
import re

import pytest
from rest_framework.test import APIClient

from common.testing.tokens import bearer
from playback.tests.players import decoded_seconds, fetch, segments

pytestmark = pytest.mark.django_db

TICK, HEARTBEAT_EVERY, DURATION = 5, 10, 180.0


def start(platform, users):
    user_id = users(balance=1000)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user_id)["Authorization"])
    body = client.post(f"/api/stream/start/{platform.videos['three_minutes']}").json()
    return user_id, client, body


def assert_paid_exactly_three_minutes(platform, user_id, client, session_id):
    ended = client.post(f"/api/stream/end/{session_id}").json()
    minutes = math.ceil(DURATION / 60)
    assert (ended["minutesCharged"], ended["amountCharged"]) == (minutes, 10 * minutes)
    charges = platform.charges(user_id)
    assert sorted(c["idempotencyKey"] for c in charges) == [
        f"{session_id}:{m}" for m in range(1, minutes + 1)
    ]
    assert sum(c["amount"] for c in charges) == -10 * minutes
    assert platform.balance(user_id) == 1000 - 10 * minutes


def test_an_mp4_player_plays_to_the_end_paying_each_minute(platform, users, clock):
    user_id, client, body = start(platform, users)
    data = (platform.media_root / "test" / "three_minutes" / "video.mp4").read_bytes()
    have, refused, reach = b"", 0, {}

    for now in range(0, int(DURATION) + TICK, TICK):
        if now:
            clock.advance(seconds=TICK)
        if now and now % HEARTBEAT_EVERY == 0:
            beat = client.put(f"/api/stream/heartbeat/{body['sessionId']}")
            assert beat.status_code == 200, beat.content
        if len(have) < len(data):
            response, chunk = fetch(body["streamUrl"], f"bytes={len(have)}-")
            if response.status_code == 402:
                refused += 1  # at the edge: wait for the heartbeat that pays the next minute
            else:
                assert response.status_code == 206, response.content
                first = int(re.match(r"bytes (\d+)-", response["Content-Range"])[1])
                assert first == len(have)
                have += chunk
        if now % 60 == 55:  # just before each minute boundary: how far can it play?
            reach[now] = decoded_seconds(have)

    assert have == data
    assert all(until >= min(now + 20, DURATION - 1) for now, until in reach.items()), reach
    assert refused >= 1  # it did reach the paid edge before the end, and waited there
    assert_paid_exactly_three_minutes(platform, user_id, client, body["sessionId"])


def test_an_hls_player_plays_to_the_end_without_a_refusal(platform, users, clock):
    user_id, client, body = start(platform, users)
    folder = platform.media_root / "test" / "three_minutes" / "hls"
    base = body["hlsUrl"].rsplit("/", 1)[0]
    master, text = fetch(body["hlsUrl"])
    variant = text.decode().strip().splitlines()[-1]
    index, _ = fetch(f"{base}/{variant}")
    pending, played = segments(folder), {}

    for now in range(0, int(DURATION) + TICK, TICK):
        if now:
            clock.advance(seconds=TICK)
        if now and now % HEARTBEAT_EVERY == 0:
            assert client.put(f"/api/stream/heartbeat/{body['sessionId']}").status_code == 200
        while pending and pending[0][1] < now + 20:
            name, _ = pending.pop(0)
            response, chunk = fetch(f"{base}/{name}")
            assert response.status_code == 200, (now, name, response.content)
            played[name] = chunk

    assert master.status_code == 200 and index.status_code == 200
    assert not pending and len(played) == 30
    assert all(chunk == (folder / name).read_bytes() for name, chunk in played.items())
    assert_paid_exactly_three_minutes(platform, user_id, client, body["sessionId"])
