"""The data the bench runs on: the demo viewer's token, a catalog of processed clips, and a
video with history in analytics."""

import subprocess
import tempfile
import time
from pathlib import Path

import requests

DEMO_EMAIL, DEMO_PASSWORD = "demo@streamify.local", "streamify-demo"


def clip(folder: Path, seconds: int = 4) -> Path:
    """A 160x90 clip with sound (4 seconds unless told), made by ffmpeg from imageio-ffmpeg."""
    import imageio_ffmpeg

    out = folder / f"clip-{seconds}s.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=10:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            "-movflags", "+faststart", str(out),
        ],
        check=True,
    )  # fmt: skip
    return out


def fill_catalog(gateway: str, token: str, count: int, timeout: float = 600) -> list[dict]:
    """Upload clips until the catalog holds `count` videos; wait until every one is ready."""
    auth = {"Authorization": f"Bearer {token}"}
    total = requests.get(f"{gateway}/api/videos?limit=1", timeout=10).json()["total"]
    with tempfile.TemporaryDirectory(prefix="bench-clip-") as tmp:
        source = clip(Path(tmp))
        for n in range(total, count):
            with source.open("rb") as handle:
                response = requests.post(
                    f"{gateway}/api/videos",
                    headers=auth,
                    files={"videoFile": ("bench.mp4", handle, "video/mp4")},
                    data={"title": f"Bench clip {n}", "category": "bench", "pricePerMinute": "5"},
                    timeout=60,
                )
            response.raise_for_status()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = requests.get(f"{gateway}/api/videos?limit=100", headers=auth, timeout=10).json()
        states = [v["status"] for v in page["videos"]]
        if page["total"] >= count and all(s == "ready" for s in states):
            return page["videos"]
        if "failed" in states:
            raise RuntimeError(f"a bench clip failed processing: {page}")
        time.sleep(1)
    raise TimeoutError("the catalog did not become ready in time")


def prepare_token(gateway: str) -> str:
    """The demo viewer's token, from a fresh login."""
    login = requests.post(
        f"{gateway}/api/auth/login",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=30,
    )
    login.raise_for_status()
    return login.json()["token"]


def prepare_data(gateway: str, videos: int) -> tuple[str, int]:
    """The demo viewer's token, and a video with history in analytics."""
    token = prepare_token(gateway)
    auth = {"Authorization": f"Bearer {token}"}
    requests.post(
        f"{gateway}/api/billing/deposit", json={"amount": 1_000_000}, headers=auth, timeout=30
    ).raise_for_status()
    catalog = fill_catalog(gateway, token, videos)
    video_id = catalog[0]["id"]
    started = requests.post(f"{gateway}/api/stream/start/{video_id}", headers=auth, timeout=30)
    started.raise_for_status()
    session = started.json()["sessionId"]
    requests.post(f"{gateway}/api/stream/end/{session}", headers=auth, timeout=30)
    return token, video_id
