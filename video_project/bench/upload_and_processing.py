"""Video service figures, measured on a real gunicorn + Celery worker (run by hand, not a test).

    cd video_project && ../.venv/bin/python bench/upload_and_processing.py [--upload-mb 100]

1. Upload throughput: a generated ~100 MB H.264 clip POSTed as a streamed multipart body
   (never built in memory) to POST /api/videos; MB/s = file bytes / wall time to the 201.
2. Processing seconds per minute of video: the worker's own measurement (probe by decoding,
   thumbnail, 360p HLS), for that clip and for a small 65 s clip.
3. List latency: p50/p99 of GET /api/videos?page=&limit=20 with 10,000 videos in the catalog.

Everything runs in a throw-away folder and database (PostgreSQL when reachable, else SQLite)
on free ports; only the processes started here are stopped.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "video_project")]

from common.testing import backends  # noqa: E402
from common.testing.postgres import temporary_databases  # noqa: E402
from common.testing.processes import (  # noqa: E402
    free_port,
    manage,
    wait_for,
    wait_http_ok,
    web_process,
    worker_process,
)


class MultipartBody:
    """A multipart/form-data body streamed from disk, with its length known up front."""

    def __init__(self, fields: dict[str, str], file_field: str, path: Path, chunk: int = 1 << 20):
        self.boundary = uuid.uuid4().hex
        self.path, self.chunk = path, chunk
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'
        )
        self.head, self.tail = head.encode(), f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head) + self.path.stat().st_size + len(self.tail)

    def __iter__(self):
        yield self.head
        with self.path.open("rb") as handle:
            while block := handle.read(self.chunk):
                yield block
        yield self.tail


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-mb", type=int, default=100)
    parser.add_argument("--catalog", type=int, default=10_000)
    parser.add_argument("--list-requests", type=int, default=400)
    options = parser.parse_args()

    with ExitStack() as stack:
        var = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="video-bench-")))
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(var)),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": str(var),
            "STREAMIFY_MEDIA_ROOT": str(var / "media"),
            "STREAMIFY_ACCESS_LOG": "0",
            "STREAMIFY_LOG_LEVEL": "WARNING",
        }
        database = "SQLite (WAL)"
        if backends.reachable(backends.postgres_url()):
            env["VIDEO_DATABASE_URL"] = stack.enter_context(temporary_databases(["video"]))["video"]
            database = "PostgreSQL"
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "video_project.settings"
        import django

        django.setup()
        from catalog import media
        from catalog.models import Video, VideoStatus

        from common.testing.tokens import bearer

        manage("video", "migrate", "--noinput", env=env)
        port = free_port()
        web = web_process("video", port, env=env, log_dir=var).start()
        stack.callback(web.stop)
        worker = worker_process("video", env=env, log_dir=var).start()
        stack.callback(worker.stop)
        base = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{base}/health", process=web, timeout=60)
        print(f"database: {database}; cores: {os.cpu_count()}")

        # 1. upload throughput --------------------------------------------------------------
        seconds = options.upload_mb * 8 / 24  # 24 Mbit/s of noisy 720p
        started = time.perf_counter()
        big = var / "big.mp4"
        subprocess.run(
            [
                media.ffmpeg_exe(), "-v", "error", "-f", "lavfi",
                "-i", "testsrc2=size=1280x720:rate=30,noise=alls=30:allf=t",
                "-f", "lavfi", "-i", "sine=frequency=440", "-t", f"{seconds:.1f}",
                "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "24M", "-maxrate", "24M",
                "-bufsize", "8M", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-movflags", "+faststart", str(big),
            ],
            check=True,
            timeout=600,
        )  # fmt: skip
        print(
            f"generated {big.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s"
        )
        owner = bearer(1)
        body = MultipartBody({"title": "Big upload", "category": "bench"}, "videoFile", big)
        started = time.perf_counter()
        response = requests.post(
            f"{base}/api/videos",
            data=body,
            headers={**owner, "Content-Type": body.content_type, "Content-Length": str(len(body))},
            timeout=300,
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.text
        megabytes = big.stat().st_size / 1e6
        print(f"upload: {megabytes:.1f} MB in {elapsed:.2f}s = {megabytes / elapsed:.1f} MB/s")

        # 2. processing seconds per minute of video -----------------------------------------
        small = media.clip_generate(var / "small.mp4", seconds=65)
        with small.open("rb") as handle:
            small_id = requests.post(
                f"{base}/api/videos",
                headers=owner,
                data={"title": "Small"},
                files={"videoFile": handle},
                timeout=60,
            ).json()["id"]
        for video_id in (response.json()["id"], small_id):

            def done(video_id=video_id):
                video = Video.objects.get(id=video_id)
                return video if video.status != VideoStatus.PROCESSING else None

            video = wait_for(done, timeout=900, interval=1, what=f"video {video_id} processed")
            assert video.status == VideoStatus.READY, video.processing_error
            per_minute = video.processing_seconds / video.duration * 60
            print(
                f"processing {video.width}x{video.height} {video.duration:.1f}s "
                f"({video.size_bytes / 1e6:.1f} MB): {video.processing_seconds:.1f}s "
                f"= {per_minute:.1f}s per minute of video"
            )

        # 3. list latency with a large catalog ----------------------------------------------
        rows = [
            Video(
                title=f"Catalog entry {i}",
                description=f"benchmark row {i}",
                category=("music", "news", "sport", "food")[i % 4],
                price_per_minute=10,
                uploaded_by=1 + i % 50,
                status=VideoStatus.READY,
                duration=60.0,
                media_path="videos/x/source.mp4",
                hls_path="videos/x/r/hls/master.m3u8",
                thumbnail_path="videos/x/r/thumbnail.jpg",
            )
            for i in range(options.catalog - Video.objects.count())
        ]
        Video.objects.bulk_create(rows, batch_size=2000)
        total = Video.objects.count()
        session = requests.Session()
        queries = [
            {"page": 1 + i % 50, "limit": 20, **({"category": "news"} if i % 3 == 0 else {})}
            for i in range(options.list_requests)
        ]
        for query in queries[:20]:
            session.get(f"{base}/api/videos", params=query, timeout=10)
        latencies = []
        for query in queries:
            started = time.perf_counter()
            reply = session.get(f"{base}/api/videos", params=query, timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200 and reply.json()["total"] > 0
        print(
            f"list (catalog of {total}, limit 20, sequential, {len(latencies)} requests): "
            f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 99):.1f} ms"
        )
        searched = []
        for i in range(100):
            started = time.perf_counter()
            session.get(f"{base}/api/videos", params={"search": f"entry {i}7"}, timeout=10)
            searched.append((time.perf_counter() - started) * 1000)
        print(
            f"search (substring of title/description, 100 requests): "
            f"p50 {statistics.median(searched):.1f} ms, p99 {percentile(searched, 99):.1f} ms"
        )


if __name__ == "__main__":
    main()
