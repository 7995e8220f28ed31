"""What the pay-per-minute tests use to act as a player and to check what it received."""

import re
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
from rest_framework.test import APIClient

EXTINF = re.compile(r"^#EXTINF:([0-9.]+),\s*\n(\S+)", re.MULTILINE)


def fetch(url: str, range_header: str | None = None):
    # As a video element or an HLS player does: no Authorization header, only the URL.
    headers = {"HTTP_RANGE": range_header} if range_header is not None else {}
    response = APIClient().get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def segments(folder: Path) -> list[tuple[str, float]]:
    """(name, start second) of each segment of `folder`, read without the server's own index."""
    found, at = [], 0.0
    for duration, name in EXTINF.findall((folder / "index.m3u8").read_text()):
        found.append((name, at))
        at += float(duration)
    return found


def decoded_seconds(data: bytes) -> float:
    """How far ffmpeg can decode `data` (an MP4 cut short), in seconds of media."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as handle:
        handle.write(data)
        handle.flush()
        result = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-progress", "pipe:1",
             "-i", handle.name, "-map", "0:v", "-f", "null", "-"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    times = re.findall(r"^out_time_us=(\d+)$", result.stdout, re.MULTILINE)
    return int(times[-1]) / 1_000_000 if times else 0.0
