"""Bytes of a session over HTTP Range, byte-exact against the file on the shared volume.

The video here is 90 s long: the first minute plus the 30 s read-ahead covers all of it, so
these tests see plain Range semantics (test_paywall.py covers what is not paid yet).
"""

import uuid

import pytest
from rest_framework.test import APIClient

from common.testing.tokens import bearer
from playback import capabilities, clock
from playback.models import StreamSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(platform, users, clock):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(users(balance=100))["Authorization"])
    body = client.post(f"/api/stream/start/{platform.videos['ninety_seconds']}").json()
    folder = platform.media_root / "test" / "ninety_seconds"
    return {
        "url": body["streamUrl"],
        "hls": body["hlsUrl"],
        "bytes": (folder / "video.mp4").read_bytes(),
        "folder": folder,
        "client": client,
        "id": body["sessionId"],
    }


def fetch(url: str, range_header: str | None = None):
    # A video element sends no Authorization header: the signed URL is the capability.
    headers = {"HTTP_RANGE": range_header} if range_header is not None else {}
    response = APIClient().get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_without_range_the_whole_paid_file_is_sent(session):
    response, body = fetch(session["url"])

    assert response.status_code == 200
    assert body == session["bytes"]
    assert response["Content-Length"] == str(len(session["bytes"]))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Cache-Control"] == "private, no-store"


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
    assert response["Cache-Control"] == "private, no-store"


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
    assert playlist["Cache-Control"] == "private, no-store"
    assert text == (session["folder"] / "hls" / "index.m3u8").read_bytes()
    assert segment.status_code == 206 and segment["Content-Type"] == "video/mp2t"
    assert data == (session["folder"] / "hls" / "seg_001.ts").read_bytes()[100:200]


@pytest.mark.parametrize(
    "name",
    [
        "../video.mp4",
        "../../ninety_seconds/video.mp4",
        "%2e%2e/video.mp4",
        "nope.ts",
        "./seg_000.ts",
        "seg_000.ts%00",
        "seg_%00000.ts",
        "%00",
        "seg_000.ts%0A",
        "%FF%FE.ts",
        "seg_000.ts\\",
    ],
)
def test_hls_names_outside_the_rendition_are_404(session, name):
    base = session["hls"].rsplit("/", 1)[0]

    response, _ = fetch(f"{base}/{name}")

    assert response.status_code == 404
    # A newline does not even match the route: Django's own JSON 404 answers that one.
    assert response.json()["error"] in {"Media file not found", "Not found"}


@pytest.mark.parametrize("stored", ["test/ninety_seconds", "../outside.mp4", ""])
def test_a_media_path_that_is_not_a_stored_file_is_404(session, stored):
    # Given the video service recorded a folder, an escaping name or nothing as the media
    StreamSession.objects.filter(pk=session["id"]).update(media_path=stored)

    response, _ = fetch(session["url"], "bytes=0-10")

    assert response.status_code == 404
    assert response.json()["error"] == "Media file not found"


def test_a_file_in_the_folder_that_no_playlist_lists_is_not_served(session):
    (session["folder"] / "hls" / "stray.ts").write_bytes(b"not listed")
    base = session["hls"].rsplit("/", 1)[0]

    response, _ = fetch(f"{base}/stray.ts")

    assert response.status_code == 404


def test_an_ended_session_serves_no_bytes(session):
    session["client"].post(f"/api/stream/end/{session['id']}")

    response, _ = fetch(session["url"], "bytes=0-10")
    playlist, _ = fetch(session["hls"])

    assert response.status_code == 410 and playlist.status_code == 410
    assert response.json()["error"] == "Session has ended"
    assert response["Cache-Control"] == "private, no-store"


def test_a_signed_url_for_an_unknown_session_is_404(session):
    ghost = StreamSession(
        id=uuid.uuid4(), duration_seconds=60.0, started_at=clock.now(), hls_path=""
    )
    urls = capabilities.media_urls_sign(session=ghost, now=clock.now())

    response, _ = fetch(urls["streamUrl"], "bytes=0-10")

    assert response.status_code == 404 and response.json()["error"] == "Session not found"
