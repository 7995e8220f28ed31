"""A real platform for streaming's tests: billing (granian) and video's gRPC server as processes.

Both run on free ports with their own throw-away PostgreSQL databases; videos are put into
video's database by video's own `manage.py shell` (this project never touches its tables);
media files are written to the MEDIA_ROOT this process and video share. Billing's ledger is
checked over HTTP after every test: each touched wallet's balance equals its ledger sum.
"""

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import imageio_ffmpeg
import pytest
import requests
from django.conf import settings

from common import breakers
from common.paths import REPO_ROOT
from common.testing.postgres import temporary_databases
from common.testing.processes import (
    Process,
    free_port,
    manage,
    wait_for,
    wait_http_ok,
    web_process,
)
from common.testing.tokens import bearer

BIN = Path(sys.executable).parent

# (key, status, duration s, price per minute, has HLS)
VIDEOS = [
    ("ten_minutes", "ready", 600.0, 10, True),
    ("ninety_seconds", "ready", 90.0, 10, True),
    ("free", "ready", 300.0, 0, True),
    ("processing", "processing", None, 10, False),
    ("playable", "ready", 20.0, 10, True),
    ("three_minutes", "ready", 180.0, 10, True),
    ("index_at_the_end", "ready", 180.0, 10, True),
]

SEED = """
import json
from catalog.models import Video
specs = SPECS
ids = {}
for key, status, duration, price, media, hls in specs:
    video = Video.objects.create(
        title=f"Test {key}", description="streaming test video", category="Test",
        price_per_minute=price, uploaded_by=1, status=status, duration=duration,
        media_path=media if status == "ready" else "", hls_path=hls if status == "ready" else "",
        thumbnail_path="test/thumb.jpg" if status == "ready" else "")
    ids[key] = video.id
print("IDS=" + json.dumps(ids))
"""


@dataclass
class Platform:
    env: dict
    billing_url: str
    video_target: str
    videos: dict[str, int]
    media_root: Path
    log_dir: Path

    def billing_get(self, user_id: int, path: str) -> dict:
        response = requests.get(f"{self.billing_url}{path}", headers=bearer(user_id), timeout=5)
        response.raise_for_status()
        return response.json()

    def balance(self, user_id: int) -> int:
        return self.billing_get(user_id, "/api/billing/balance")["balance"]

    def ledger(self, user_id: int) -> list[dict]:
        return self.billing_get(user_id, "/api/billing/transactions?limit=100")["transactions"]

    def charges(self, user_id: int) -> list[dict]:
        return [t for t in self.ledger(user_id) if t["type"] == "charge"]

    def deposit(self, user_id: int, amount: int) -> None:
        response = requests.post(
            f"{self.billing_url}/api/billing/deposit",
            json={"amount": amount},
            headers=bearer(user_id),
            timeout=5,
        )
        assert response.status_code == 200, response.text


def _write_media(root: Path) -> dict[str, tuple[str, str]]:
    """Per video: a 3 MB pseudo-random 'mp4' and an HLS playlist with two segments; real media
    (a faststart H.264/AAC MP4 and its HLS rendition in 6 s segments) for three_minutes, and an
    MP4 whose index (moov) comes after its media data for index_at_the_end."""
    paths = {}
    rng = random.Random(7)
    for key, *_ in VIDEOS:
        folder = root / "test" / key
        (folder / "hls").mkdir(parents=True, exist_ok=True)
        (folder / "video.mp4").write_bytes(rng.randbytes(3 * 1024 * 1024 + 17))
        (folder / "hls" / "seg_000.ts").write_bytes(rng.randbytes(50_000))
        (folder / "hls" / "seg_001.ts").write_bytes(rng.randbytes(40_000))
        (folder / "hls" / "index.m3u8").write_text(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n"
            "#EXTINF:6.0,\nseg_000.ts\n#EXTINF:4.0,\nseg_001.ts\n#EXT-X-ENDLIST\n"
        )
        paths[key] = (f"test/{key}/video.mp4", f"test/{key}/hls/index.m3u8")
    _encode_clip(root / "test" / "playable" / "video.mp4", seconds=20)
    three = root / "test" / "three_minutes"
    _encode_clip(three / "video.mp4", seconds=180)
    _segment_hls(three / "video.mp4", three / "hls")
    paths["three_minutes"] = ("test/three_minutes/video.mp4", "test/three_minutes/hls/master.m3u8")
    _encode_clip(root / "test" / "index_at_the_end" / "video.mp4", seconds=180, faststart=False)
    return paths


def _encode_clip(path: Path, *, seconds: int, faststart: bool = True) -> None:
    """A real H.264/AAC MP4 (index at the front, as video's renditions have it, unless
    `faststart` is false), a key frame every 6 s."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=10:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-pix_fmt", "yuv420p",
            "-c:a", "aac", *(["-movflags", "+faststart"] if faststart else []),
            "-shortest", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip


def _segment_hls(source: Path, folder: Path) -> None:
    """VOD HLS of `source` laid out as video's renditions are: master, index, 6 s segments."""
    for old in folder.iterdir():
        old.unlink()
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(source),
            "-c", "copy", "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod",
            "-hls_segment_filename", str(folder / "segment_%04d.ts"),
            "-master_pl_name", "master.m3u8", str(folder / "index.m3u8"),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="session")
def platform():
    media_root = Path(settings.MEDIA_ROOT)
    paths = _write_media(media_root)
    log_dir = Path(os.environ["STREAMIFY_VAR_DIR"]) / "logs"
    log_dir.mkdir(exist_ok=True)
    with temporary_databases(["billing", "video"]) as urls:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": os.environ["STREAMIFY_VAR_DIR"],
            "STREAMIFY_MEDIA_ROOT": str(media_root),
            "STREAMIFY_LOG_LEVEL": "WARNING",
            "STREAMIFY_ACCESS_LOG": "0",
            "BILLING_DATABASE_URL": urls["billing"],
            "VIDEO_DATABASE_URL": urls["video"],
        }
        for service in ("billing", "video"):
            manage(service, "migrate", "--noinput", "-v0", env=env)
            manage(service, "setup_broker", env=env)
        specs = [
            (key, status, duration, price, paths[key][0], paths[key][1] if hls else "")
            for key, status, duration, price, hls in VIDEOS
        ]
        out = manage("video", "shell", "-c", SEED.replace("SPECS", repr(specs), 1), env=env)
        videos = json.loads(out.split("IDS=", 1)[1])

        billing_port, grpc_port = free_port(), free_port()
        billing = web_process("billing", billing_port, env=env, log_dir=log_dir).start()
        video = Process(
            "video-grpc",
            [str(BIN / "python"), "manage.py", "run_grpc_server", "--port", str(grpc_port)],
            env=env,
            cwd=REPO_ROOT / "video_project",
            log_dir=log_dir,
        ).start()
        saved = {k: os.environ.get(k) for k in ("BILLING_URL", "VIDEO_GRPC_TARGET")}
        try:
            billing_url = f"http://127.0.0.1:{billing_port}"
            wait_http_ok(f"{billing_url}/health", process=billing)
            wait_for(lambda: "listening" in video.log_tail(), what="video gRPC server")
            os.environ["BILLING_URL"] = billing_url
            os.environ["VIDEO_GRPC_TARGET"] = f"127.0.0.1:{grpc_port}"
            yield Platform(env, billing_url, f"127.0.0.1:{grpc_port}", videos, media_root, log_dir)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            billing.stop()
            video.stop()


_user_ids = count(random.randint(10_000, 10_000_000) * 100)


@pytest.fixture
def users(platform):
    """Make fresh users (with a funded wallet); afterwards check each one's ledger."""
    made: list[int] = []

    def make(balance: int = 0) -> int:
        user_id = next(_user_ids)
        made.append(user_id)
        if balance:
            platform.deposit(user_id, balance)
        return user_id

    yield make
    for user_id in made:
        ledger = platform.ledger(user_id)
        balance = platform.balance(user_id)
        assert balance == sum(t["amount"] for t in ledger), f"user {user_id}: ledger != balance"
        assert balance >= 0
        keys = [t["idempotencyKey"] for t in ledger if t["type"] == "charge"]
        assert len(keys) == len(set(keys)), f"user {user_id}: a charge key charged twice"


@pytest.fixture(autouse=True)
def closed_breakers():
    for name in ("billing", "video-grpc"):
        breakers.reset(name)
    yield


class Clock:
    """The server clock under the test's control: starts now, moves only when told."""

    def __init__(self):
        self.current = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("playback.clock.now", fake)
    return fake
