"""What one paid minute of a 3-minute video lets a viewer take, tried as an attacker would:

    cd streaming_project && ../.venv/bin/python bench/paid_bytes.py

Boots billing, video's gRPC server and streaming (as `make run` serves it) on free ports with
throw-away PostgreSQL databases, encodes a real 180 s faststart MP4 and its HLS rendition (6 s
segments), starts one session (minute 1 charged, 10 cents) and, with no heartbeat, takes all it
can: the whole file, every `bytes=N-` from 0 on (jumping ahead in 64 KiB steps past refusals,
to find any later part that is served), the file's tail, every HLS segment. It prints the bytes
and segments obtained and how many seconds of video the bytes decode to (ffmpeg).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "streaming_project")]
os.environ.setdefault("STREAMIFY_DEV", "1")
os.environ.setdefault("STREAMIFY_VAR_DIR", tempfile.mkdtemp(prefix="streamify-paid-bytes-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "streaming_project.settings")
os.environ["STREAMIFY_LOG_LEVEL"] = "WARNING"

import imageio_ffmpeg  # noqa: E402
import requests  # noqa: E402

from common.testing.postgres import temporary_databases  # noqa: E402
from common.testing.processes import (  # noqa: E402
    BIN,
    Process,
    free_port,
    manage,
    wait_for,
    wait_http_ok,
    web_process,
)
from common.testing.tokens import bearer  # noqa: E402

SECONDS, STEP = 180, 64 * 1024
SEED = """
from catalog.models import Video
v = Video.objects.create(title="Three minutes", category="Bench", price_per_minute=10,
    uploaded_by=1, status="ready", duration=180.0, media_path="paid/video.mp4",
    hls_path="paid/hls/master.m3u8", thumbnail_path="paid/thumb.jpg")
print("ID=%d" % v.id)
"""


def ffmpeg(*args: str) -> subprocess.CompletedProcess:
    argv = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def encode(folder: Path) -> Path:
    (folder / "hls").mkdir(parents=True, exist_ok=True)
    video = folder / "video.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=480x270:rate=25:duration={SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "150", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-movflags", "+faststart", "-shortest", str(video),
    )  # fmt: skip
    ffmpeg(
        "-i", str(video), "-c", "copy", "-f", "hls", "-hls_time", "6",
        "-hls_playlist_type", "vod", "-hls_segment_filename", str(folder / "hls/segment_%04d.ts"),
        "-master_pl_name", "master.m3u8", str(folder / "hls/index.m3u8"),
    )  # fmt: skip
    return video


def decodable_seconds(data: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".mp4") as handle:
        handle.write(data)
        handle.flush()
        out = ffmpeg("-progress", "pipe:1", "-i", handle.name, "-map", "0:v", "-f", "null", "-")
    times = re.findall(r"^out_time_us=(\d+)$", out.stdout, re.MULTILINE)
    return int(times[-1]) / 1e6 if times else 0.0


def take_mp4(url: str, size: int) -> dict[int, bytes]:
    """Every byte the URL gives, by offset: whole file, then ranges from 0 on, then the tail."""
    got: dict[int, bytes] = {}
    whole = requests.get(url, timeout=30)
    if whole.status_code == 200:
        got[0] = whole.content
        return got
    offset = 0
    while offset < size:
        answer = requests.get(url, headers={"Range": f"bytes={offset}-"}, timeout=30)
        if answer.status_code == 206 and answer.content:
            got[offset] = answer.content
            offset += len(answer.content)
        else:
            offset += STEP
    tail = requests.get(url, headers={"Range": "bytes=-65536"}, timeout=30)
    if tail.status_code == 206:
        got[size - len(tail.content)] = tail.content
    return got


def covered(got: dict[int, bytes]) -> int:
    """Distinct bytes in the pieces taken (they may overlap)."""
    total = end = 0
    for offset, chunk in sorted(got.items()):
        total += max(0, offset + len(chunk) - max(offset, end))
        end = max(end, offset + len(chunk))
    return total


def main() -> None:
    var = Path(os.environ["STREAMIFY_VAR_DIR"])
    media, logs = var / "media", var / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    video_file = encode(media / "paid")
    data = video_file.read_bytes()
    processes: list[Process] = []
    with temporary_databases(["billing", "video", "streaming"], prefix="streamify_paid") as urls:
        try:
            billing_port, streaming_port, grpc_port = free_port(), free_port(), free_port()
            env = {
                "PATH": os.environ["PATH"],
                "HOME": os.environ.get("HOME", "/tmp"),
                "PYTHONPATH": str(ROOT),
                "STREAMIFY_DEV": "1",
                "STREAMIFY_VAR_DIR": str(var),
                "STREAMIFY_MEDIA_ROOT": str(media),
                "STREAMIFY_LOG_LEVEL": "WARNING",
                "BILLING_URL": f"http://127.0.0.1:{billing_port}",
                "VIDEO_GRPC_TARGET": f"127.0.0.1:{grpc_port}",
                **{f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()},
            }
            for service in urls:
                manage(service, "migrate", "--noinput", "-v0", env=env)
            video_id = int(manage("video", "shell", "-c", SEED, env=env).split("ID=")[1])
            billing = web_process("billing", billing_port, env=env, log_dir=logs).start()
            streaming = web_process("streaming", streaming_port, env=env, log_dir=logs).start()
            video = Process(
                "video-grpc",
                [str(BIN / "python"), "manage.py", "run_grpc_server", "--port", str(grpc_port)],
                env=env,
                cwd=ROOT / "video_project",
                log_dir=logs,
            ).start()
            processes += [billing, streaming, video]
            streaming_url = f"http://127.0.0.1:{streaming_port}"
            wait_http_ok(f"{env['BILLING_URL']}/health", process=billing)
            wait_http_ok(f"{streaming_url}/health", process=streaming)
            wait_for(lambda: "listening" in video.log_tail(), what="video gRPC server")

            deposit = requests.post(
                f"{env['BILLING_URL']}/api/billing/deposit",
                json={"amount": 1000},
                headers=bearer(1),
                timeout=10,
            )
            assert deposit.status_code == 200, deposit.text
            start = requests.post(
                f"{streaming_url}/api/stream/start/{video_id}", headers=bearer(1), timeout=10
            ).json()
            got = take_mp4(f"{streaming_url}{start['streamUrl']}", len(data))
            assert all(data[o : o + len(chunk)] == chunk for o, chunk in got.items())
            prefix = b""
            while len(prefix) in got:
                prefix += got[len(prefix)]
            playlist = (media / "paid/hls/index.m3u8").read_text()
            names = re.findall(r"^(segment_\d+\.ts)$", playlist, re.MULTILINE)
            base = f"{streaming_url}{start['hlsUrl'].rsplit('/', 1)[0]}"
            served = [n for n in names if requests.get(f"{base}/{n}", timeout=30).ok]
            balance = requests.get(
                f"{env['BILLING_URL']}/api/billing/balance", headers=bearer(1), timeout=10
            ).json()["balance"]
            taken = covered(got)
            print(
                json.dumps(
                    {
                        "videoSeconds": SECONDS,
                        "paidCents": 1000 - balance,
                        "mp4Bytes": len(data),
                        "mp4BytesTaken": taken,
                        "mp4ShareTaken": round(taken / len(data), 3),
                        "secondsDecodableFromTheTakenPrefix": round(decodable_seconds(prefix), 1),
                        "hlsSegments": len(names),
                        "hlsSegmentsTaken": len(served),
                    },
                    indent=2,
                )
            )
        finally:
            for process in processes:
                process.stop()


if __name__ == "__main__":
    main()
