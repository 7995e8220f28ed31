"""Bytes of a session over HTTP Range, byte-exact against the file on the shared volume."""

import pytest
from rest_framework.test import APIClient

from common.testing.tokens import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(platform, users, clock):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(users(balance=100))["Authorization"])
    body = client.post(f"/api/stream/start/{platform.videos['ten_minutes']}").json()
    folder = platform.media_root / "test" / "ten_minutes"
    return {
        "url": body["streamUrl"],
        "hls": body["hlsUrl"],
        "bytes": (folder / "video.mp4").read_bytes(),
        "folder": folder,
        "client": client,
        "id": body["sessionId"],
    }


def fetch(url: str, range_header: str | None = None):
    # A video element sends no Authorization header: the session id is the capability.
    headers = {"HTTP_RANGE": range_header} if range_header is not None else {}
    response = APIClient().get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_without_range_the_whole_file_is_sent(session):
    response, body = fetch(session["url"])

    assert response.status_code == 200
    assert body == session["bytes"]
    assert response["Content-Length"] == str(len(session["bytes"]))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-1023", 0, 1023),
        ("bytes=1000000-1999999", 1_000_000, 1_999_999),
        ("bytes=3000000-", 3_000_000, None),
        ("bytes=-4096", -4096, None),
        ("bytes=3145700-99999999", 3_145_700, None),
    ],
)
def test_ranges_are_byte_exact(session, header, start, end):
    data = session["bytes"]
    size = len(data)
    first = start if start >= 0 else size + start
    last = size - 1 if end is None else end

    response, body = fetch(session["url"], header)

    assert response.status_code == 206
    assert body == data[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"


def test_unsatisfiable_range_is_416_with_the_size(session):
    size = len(session["bytes"])

    response, _ = fetch(session["url"], f"bytes={size}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert response.json()["error"] == "Range not satisfiable"


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=9-3", "lines=0-10", "bytes=-"])
def test_malformed_range_is_400(session, header):
    response, _ = fetch(session["url"], header)

    assert response.status_code == 400
    assert response.json()["error"] == "Malformed Range header"


def test_hls_playlist_and_segments_are_served_per_session(session):
    playlist, text = fetch(session["hls"])
    segment_url = session["hls"].rsplit("/", 1)[0] + "/seg_001.ts"
    segment, data = fetch(segment_url, "bytes=100-199")

    assert playlist.status_code == 200
    assert playlist["Content-Type"] == "application/vnd.apple.mpegurl"
    assert text == (session["folder"] / "hls" / "index.m3u8").read_bytes()
    assert segment.status_code == 206 and segment["Content-Type"] == "video/mp2t"
    assert data == (session["folder"] / "hls" / "seg_001.ts").read_bytes()[100:200]


@pytest.mark.parametrize(
    "name", ["../video.mp4", "../../ninety_seconds/video.mp4", "%2e%2e/video.mp4", "nope.ts"]
)
def test_hls_paths_cannot_leave_the_rendition_folder(session, name):
    base = session["hls"].rsplit("/", 1)[0]

    response, _ = fetch(f"{base}/{name}")

    assert response.status_code == 404


def test_an_ended_session_serves_no_bytes(session):
    session["client"].post(f"/api/stream/end/{session['id']}")

    response, _ = fetch(session["url"], "bytes=0-10")
    playlist, _ = fetch(session["hls"])

    assert response.status_code == 410 and playlist.status_code == 410


def test_unknown_session_serves_no_bytes(session):
    response, _ = fetch("/api/stream/url/2c9a3f4e-1111-4222-8333-444455556666")

    assert response.status_code == 404
