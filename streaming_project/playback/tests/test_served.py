"""The same Range answers from the real web server (granian, as `make run` serves it)."""

import re
import subprocess

import imageio_ffmpeg
import pytest
import requests
from django.db import connection

from common.testing import backends
from common.testing.processes import free_port, wait_http_ok, web_process
from common.testing.tokens import bearer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def streaming_server(platform):
    port = free_port()
    env = {
        **platform.env,
        "STREAMIFY_ACCESS_LOG": "1",
        "BILLING_URL": platform.billing_url,
        "VIDEO_GRPC_TARGET": platform.video_target,
        "STREAMING_DATABASE_URL": f"{backends.postgres_url()}/{connection.settings_dict['NAME']}",
    }
    server = web_process("streaming", port, env=env, log_dir=platform.log_dir).start()
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/health", process=server)
        server.url = f"http://127.0.0.1:{port}"
        yield server
    finally:
        server.stop()


def test_the_web_server_serves_exact_ranges_and_a_full_file(platform, users, streaming_server):
    # 90 s of video: the first minute and the read-ahead cover all of it.
    user_id = users(balance=100)
    started = requests.post(
        f"{streaming_server.url}/api/stream/start/{platform.videos['ninety_seconds']}",
        headers=bearer(user_id),
        timeout=10,
    )
    assert started.status_code == 200, started.text
    url = f"{streaming_server.url}{started.json()['streamUrl']}"
    data = (platform.media_root / "test" / "ninety_seconds" / "video.mp4").read_bytes()
    size = len(data)

    whole = requests.get(url, timeout=10)
    middle = requests.get(url, headers={"Range": "bytes=1048576-2097151"}, timeout=10)
    tail = requests.get(url, headers={"Range": "bytes=-1000"}, timeout=10)
    beyond = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=10)
    head = requests.head(url, headers={"Range": "bytes=0-99"}, timeout=10)

    assert whole.status_code == 200 and whole.content == data
    assert middle.status_code == 206 and middle.content == data[1048576:2097152]
    assert middle.headers["Content-Range"] == f"bytes 1048576-2097151/{size}"
    assert tail.status_code == 206 and tail.content == data[-1000:]
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"
    assert head.status_code == 206 and head.headers["Content-Length"] == "100"
    assert head.content == b""
    assert platform.balance(user_id) == 90


def test_a_player_plays_and_seeks_the_stream_over_range_requests(platform, users, streaming_server):
    # ffmpeg reads an HTTP MP4 the way a video element does (Range requests): whole, and from 15 s.
    user_id = users(balance=100)
    started = requests.post(
        f"{streaming_server.url}/api/stream/start/{platform.videos['playable']}",
        headers=bearer(user_id),
        timeout=10,
    ).json()
    url = f"{streaming_server.url}{started['streamUrl']}"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()

    whole = subprocess.run(
        [ffmpeg, "-v", "error", "-i", url, "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    seek = subprocess.run(
        [ffmpeg, "-v", "error", "-ss", "15", "-i", url, "-frames:v", "1", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert whole.returncode == 0 and whole.stderr == "", whole.stderr
    assert seek.returncode == 0 and seek.stderr == "", seek.stderr
    served = [
        line for line in streaming_server.log_tail(400).splitlines() if "/api/stream/url/" in line
    ]
    assert any(" 206 " in line for line in served), served
    # The URL's signature is a capability to the media: no line holds it.
    token = url.rsplit("/", 2)[1]
    assert token not in streaming_server.log_tail(100_000)


def test_a_player_over_http_gets_exactly_the_paid_minute_and_its_read_ahead(
    platform, users, streaming_server
):
    # ffmpeg plays the 3-minute video with one paid minute: it decodes up to the 90 s edge,
    # where the answers stop (206 up to the edge, then 402) and it reports a partial file.
    user_id = users(balance=100)
    started = requests.post(
        f"{streaming_server.url}/api/stream/start/{platform.videos['three_minutes']}",
        headers=bearer(user_id),
        timeout=10,
    ).json()
    url = f"{streaming_server.url}{started['streamUrl']}"

    played = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-progress", "pipe:1", "-i", url,
         "-map", "0:v", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    reached = int(re.findall(r"^out_time_us=(\d+)$", played.stdout, re.MULTILINE)[-1]) / 1e6
    assert 89 <= reached <= 91, (reached, played.stderr)
    assert "partial file" in played.stderr or "402" in played.stderr, played.stderr
    assert platform.balance(user_id) == 90
