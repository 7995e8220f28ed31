"""Pay per minute: a viewer who paid one minute of a 3-minute video tries to take more.

The video is a real faststart H.264/AAC MP4 (180 s) with an HLS rendition in 6 s segments.
With minute 1 paid and the default 30 s read-ahead, media up to 90 s may be fetched. What was
served is checked with ffmpeg (how far the bytes decode), not with the server's own index.
"""

import re

import pytest
from rest_framework.test import APIClient

from common.testing.tokens import bearer
from playback.tests.players import decoded_seconds, fetch, segments

pytestmark = pytest.mark.django_db


def client_for(user_id: int) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user_id)["Authorization"])
    return client


@pytest.fixture
def watch(platform, users, clock):
    """A session on the 3-minute video (price 10) of a user with 1000 cents."""
    user_id = users(balance=1000)
    client = client_for(user_id)
    body = client.post(f"/api/stream/start/{platform.videos['three_minutes']}").json()
    folder = platform.media_root / "test" / "three_minutes"
    return {
        "user": user_id,
        "client": client,
        "id": body["sessionId"],
        "body": body,
        "mp4": body["streamUrl"],
        "hls": body["hlsUrl"],
        "base": body["hlsUrl"].rsplit("/", 1)[0],
        "bytes": (folder / "video.mp4").read_bytes(),
        "segments": segments(folder / "hls"),
        "folder": folder,
    }


def test_start_hands_out_signed_urls_and_the_paid_edge(watch):
    body = watch["body"]

    assert re.fullmatch(
        rf"/api/stream/url/{watch['id']}/\d+\.[\w-]{{43}}/video\.mp4", body["streamUrl"]
    )
    assert re.fullmatch(
        rf"/api/stream/url/{watch['id']}/\d+\.[\w-]{{43}}/hls/master\.m3u8", body["hlsUrl"]
    )
    assert (body["paidSeconds"], body["edgeSeconds"]) == (60, 90)


def test_one_paid_minute_never_yields_media_past_the_paid_edge(watch, platform):
    data, size = watch["bytes"], len(watch["bytes"])

    whole, _ = fetch(watch["mp4"])
    first, served = fetch(watch["mp4"], "bytes=0-")
    everything, same = fetch(watch["mp4"], f"bytes=0-{size - 1}")

    # The whole file without Range: refused, naming the edge.
    assert whole.status_code == 402
    refusal = whole.json()
    assert refusal["error"] == "Not paid that far yet"
    assert (refusal["paidSeconds"], refusal["edgeSeconds"]) == (60, 90)
    assert "90 s" in refusal["details"][0]["message"]
    assert whole["Cache-Control"] == "private, no-store"
    # A range from the start: answered only up to the edge, which lies at ~90 s of media.
    edge_byte = refusal["edgeByte"]
    assert first.status_code == 206 and served == data[:edge_byte]
    assert first["Content-Range"] == f"bytes 0-{edge_byte - 1}/{size}"
    assert same == served and everything["Content-Range"] == first["Content-Range"]
    assert 89 <= decoded_seconds(served) <= 91
    # Ranges that start past the edge, as at 100 s, 115 s, the last byte, the tail: 402.
    for header in (
        f"bytes={edge_byte}-",
        f"bytes={size * 100 // 180}-{size * 100 // 180 + 1023}",
        f"bytes={size * 115 // 180}-",
        f"bytes={size - 1}-{size - 1}",
        "bytes=-1000",
    ):
        refused, _ = fetch(watch["mp4"], header)
        assert refused.status_code == 402, header
        assert refused.json()["edgeByte"] == edge_byte


def test_the_mp4_header_is_always_reachable(watch):
    # A player reads ftyp + moov first: with faststart they precede the media data.
    head, data = fetch(watch["mp4"], "bytes=0-65535")

    assert head.status_code == 206 and data == watch["bytes"][:65536]
    assert b"moov" in data


def test_an_index_after_the_media_data_is_served_too(platform, users, clock):
    # Without faststart the muxer writes moov last: a player reads it from the tail first.
    client = client_for(users(balance=100))
    body = client.post(f"/api/stream/start/{platform.videos['index_at_the_end']}").json()
    data = (platform.media_root / "test" / "index_at_the_end" / "video.mp4").read_bytes()
    moov = data.rindex(b"moov") - 4

    whole, _ = fetch(body["streamUrl"])
    index, tail = fetch(body["streamUrl"], f"bytes={moov}-")
    first, served = fetch(body["streamUrl"], "bytes=0-")
    edge_byte = whole.json()["edgeByte"]
    middle, _ = fetch(body["streamUrl"], f"bytes={edge_byte}-{moov - 1}")

    assert whole.status_code == 402
    assert index.status_code == 206 and tail == data[moov:]
    assert first.status_code == 206 and served == data[:edge_byte]
    assert 0.4 < edge_byte / moov < 0.6  # 90 s of 180
    assert middle.status_code == 402


def test_hls_segments_past_the_paid_edge_are_refused(watch):
    master, _ = fetch(watch["hls"])
    index, playlist = fetch(f"{watch['base']}/index.m3u8")
    answers = {name: fetch(f"{watch['base']}/{name}") for name, _ in watch["segments"]}

    assert master.status_code == 200 and index.status_code == 200
    assert playlist == (watch["folder"] / "hls" / "index.m3u8").read_bytes()
    assert len(watch["segments"]) == 30
    for name, start in watch["segments"]:
        response, body = answers[name]
        if start < 90:
            assert response.status_code == 200, name
            assert body == (watch["folder"] / "hls" / name).read_bytes()
        else:
            assert response.status_code == 402, name
            assert response.json()["edgeSeconds"] == 90 and response.json()["edgeByte"] is None
    assert sum(answers[n][0].status_code == 200 for n, _ in watch["segments"]) == 15


def test_the_heartbeat_that_pays_the_next_minute_moves_the_edge(watch, clock):
    later = next(name for name, start in watch["segments"] if start == 90)
    last = watch["segments"][-1][0]

    clock.advance(seconds=61)
    before, _ = fetch(f"{watch['base']}/{later}")
    beat = watch["client"].put(f"/api/stream/heartbeat/{watch['id']}").json()
    after, _ = fetch(f"{watch['base']}/{later}")
    still, _ = fetch(f"{watch['base']}/{last}")
    _, served = fetch(watch["mp4"], "bytes=0-")

    assert before.status_code == 402
    assert (beat["minutesCharged"], beat["paidSeconds"], beat["edgeSeconds"]) == (2, 120, 150)
    assert after.status_code == 200 and still.status_code == 402
    assert 149 <= decoded_seconds(served) <= 151


def test_foreign_tampered_unsigned_and_cross_scope_urls_are_403(watch, platform, users):
    other = client_for(users(balance=100)).post(
        f"/api/stream/start/{platform.videos['three_minutes']}"
    )
    other_id = other.json()["sessionId"]
    mine = watch["mp4"]
    token = mine.split("/")[5]
    expires, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    attempts = {
        "foreign session id, my signature": mine.replace(watch["id"], other_id),
        "tampered signature": mine.replace(token, f"{expires}.{flipped}"),
        "later expiry, same signature": mine.replace(token, f"{int(expires) + 3600}.{signature}"),
        "no signature": mine.replace(token, expires),
        "mp4 signature on the HLS folder": f"/api/stream/url/{watch['id']}/{token}/hls/master.m3u8",
        "the seed's bare session URL": f"/api/stream/url/{watch['id']}",
    }
    for what, url in attempts.items():
        response, _ = fetch(url, "bytes=0-99")
        assert response.status_code == 403, what
        assert response.json()["error"] == "Media URL refused", what
        assert response["Cache-Control"] == "private, no-store"


def test_an_expired_url_is_403_while_a_fresh_one_from_a_heartbeat_works(watch, clock, settings):
    settings.STREAMING_MEDIA_URL_GRACE_SECONDS = 30
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(watch["user"])["Authorization"])
    started = client.post(f"/api/stream/start/{watch['body']['videoDetails']['id']}").json()
    for _ in range(3):
        clock.advance(seconds=60)
        client.put(f"/api/stream/heartbeat/{started['sessionId']}")
    clock.advance(seconds=31)  # 211 s: past 180 s of video + 30 s of grace
    fresh = client.put(f"/api/stream/heartbeat/{started['sessionId']}").json()

    old, _ = fetch(started["streamUrl"], "bytes=0-99")
    new, _ = fetch(fresh["streamUrl"], "bytes=0-99")

    assert old.status_code == 403
    assert "expired" in old.json()["details"][0]["message"]
    assert new.status_code == 206


def test_after_end_every_url_is_refused_at_once(watch):
    watch["client"].post(f"/api/stream/end/{watch['id']}")
    first = watch["segments"][0][0]

    answers = [
        fetch(watch["mp4"], "bytes=0-99")[0],
        fetch(watch["mp4"])[0],
        fetch(watch["hls"])[0],
        fetch(f"{watch['base']}/{first}")[0],
    ]

    assert [a.status_code for a in answers] == [410, 410, 410, 410]
