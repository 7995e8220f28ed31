"""The video service as deployed: gunicorn + Celery worker + gRPC server, on PostgreSQL and
RabbitMQ (a private database and vhost), driven over real HTTP and gRPC."""

import os
import tempfile
import threading
import time
from pathlib import Path

import grpc
import psycopg2
import pytest
import requests
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message_factory import GetMessageClass
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from catalog import media
from common.auth import keys
from common.paths import REPO_ROOT
from common.testing import backends
from common.testing.platform import Platform
from common.testing.postgres import temporary_databases
from common.testing.processes import (
    BIN,
    Process,
    free_port,
    wait_for,
)
from common.testing.rabbitmq import private_vhost
from common.testing.tokens import bearer

pytestmark = pytest.mark.skipif(
    not (backends.reachable(backends.postgres_url()) and backends.reachable(backends.amqp_url())),
    reason="needs PostgreSQL and RabbitMQ",
)


@pytest.fixture(scope="module")
def platform():
    with (
        temporary_databases(["video"]) as urls,
        private_vhost() as amqp_url,
        tempfile.TemporaryDirectory(prefix="video-platform-") as tmp,
    ):
        booted = Platform(Path(tmp), broker_url=amqp_url, database_urls=urls)
        media_root = booted.var / "media"
        booted.extra_env.update(
            STREAMIFY_MEDIA_ROOT=str(media_root),
            VIDEO_FFMPEG_THREADS="2",
            VIDEO_MAX_UPLOAD_BYTES=str(20 * 1024 * 1024),
            # Verify tokens minted by this test process (common.testing.tokens).
            JWT_PUBLIC_KEY=keys.public_key(),
        )
        try:
            booted.prepare("video")
            booted.start_web("video")
            booted.start_worker("video")
            grpc_port = free_port()
            argv = [str(BIN / "python"), "manage.py", "run_grpc_server", "--port", str(grpc_port)]
            cwd = REPO_ROOT / "video_project"
            booted.track(
                Process("video-grpc", argv, env=booted.env(), cwd=cwd, log_dir=booted.logs).start()
            )
            yield {
                "http": booted.urls["video"],
                "grpc": f"127.0.0.1:{grpc_port}",
                "media": media_root,
                "database": urls["video"],
                "platform": booted,
            }
        finally:
            booted.stop()


def test_an_uploaded_clip_becomes_ready_and_is_served_over_http_and_grpc(platform, tmp_path):
    base, owner = platform["http"], bearer(42)
    clip = media.clip_generate(tmp_path / "holiday.mp4", seconds=65, frequency=550)

    # When a user uploads a 65 s clip over HTTP
    started = time.monotonic()
    with clip.open("rb") as handle:
        response = requests.post(
            f"{base}/api/videos",
            headers=owner,
            data={"title": "Holiday by the sea", "category": "Travel", "pricePerMinute": "12"},
            files={"videoFile": ("holiday.mp4", handle, "video/mp4")},
            timeout=30,
        )
    assert response.status_code == 201, response.text
    video_id = response.json()["id"]
    assert response.json()["status"] == "processing"

    # Then the worker makes it ready with its true duration
    def ready():
        body = requests.get(f"{base}/api/videos/{video_id}", headers=owner, timeout=5).json()
        assert body["status"] != "failed", body
        return body if body["status"] == "ready" else None

    try:
        video = wait_for(ready, timeout=120, interval=0.5, what="video ready")
    except TimeoutError:
        pytest.fail("not ready:\n" + platform["platform"].logs_tail())
    print(f"upload -> ready in {time.monotonic() - started:.1f}s")
    assert video["duration"] == pytest.approx(65, abs=0.5)
    thumbnail = requests.get(f"{base}{video['thumbnailUrl']}", timeout=5)
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"

    # And anyone finds it in the catalog by search and category
    found = requests.get(f"{base}/api/videos", params={"search": "holiday"}, timeout=5).json()
    assert [v["id"] for v in found["videos"]] == [video_id] and found["total"] == 1
    travel = requests.get(f"{base}/api/videos", params={"category": "travel"}, timeout=5).json()
    assert travel["total"] == 1

    # And a client with no .proto file reads it over gRPC through server reflection
    channel = grpc.insecure_channel(platform["grpc"])
    grpc.channel_ready_future(channel).result(timeout=30)
    reflection = ProtoReflectionDescriptorDatabase(channel)
    assert "video.VideoService" in reflection.get_services()
    service = DescriptorPool(reflection).FindServiceByName("video.VideoService")
    method = service.methods_by_name["GetVideo"]
    request_class = GetMessageClass(method.input_type)
    reply_class = GetMessageClass(method.output_type)
    get_video = channel.unary_unary(
        "/video.VideoService/GetVideo",
        request_serializer=request_class.SerializeToString,
        response_deserializer=reply_class.FromString,
    )
    reply = get_video(request_class(video_id=video_id), timeout=5).video
    assert (reply.title, reply.status, reply.price_per_minute) == (
        "Holiday by the sea",
        "ready",
        12,
    )
    assert reply.duration_seconds == pytest.approx(65, abs=0.5)
    assert reply.duration == round(reply.duration_seconds)
    assert (platform["media"] / reply.hls_path).exists()
    assert (platform["media"] / reply.media_path).stat().st_size == clip.stat().st_size
    channel.close()

    # And its events left through the outbox exactly once
    def relayed():
        with psycopg2.connect(platform["database"]) as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT type, published_at IS NOT NULL FROM events_outboxevent ORDER BY created_at"
            )
            rows = cursor.fetchall()
        return rows if all(sent for _, sent in rows) else None

    rows = wait_for(relayed, timeout=30, what="outbox relayed")
    assert [t for t, _ in rows] == ["video.uploaded", "video.ready"]


def test_an_oversized_upload_gets_413_over_http_and_nothing_is_stored(platform, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(21 * 1024 * 1024))
    with big.open("rb") as handle:
        response = requests.post(
            f"{platform['http']}/api/videos",
            headers=bearer(43),
            data={"title": "Too big"},
            files={"videoFile": ("big.mp4", handle, "video/mp4")},
            timeout=60,
        )
    assert response.status_code == 413
    assert response.json()["error"] == f"Upload exceeds the limit of {20 * 1024 * 1024} bytes"
    assert list((platform["media"] / ".incoming").iterdir()) == []
    mine = requests.get(
        f"{platform['http']}/api/videos",
        params={"search": "too big"},
        headers=bearer(43),
        timeout=5,
    ).json()
    assert mine["total"] == 0


def test_a_worker_killed_mid_processing_leaves_no_half_video_and_the_task_is_redelivered(
    platform, tmp_path
):
    # Given a clip being processed by the worker
    base, owner = platform["http"], bearer(44)
    clip = media.clip_generate(tmp_path / "long.mp4", seconds=150, frequency=380)
    with clip.open("rb") as handle:
        response = requests.post(
            f"{base}/api/videos",
            headers=owner,
            data={"title": "Killed mid-way"},
            files={"videoFile": ("long.mp4", handle, "video/mp4")},
            timeout=30,
        )
    video_id = response.json()["id"]

    def column(name: str):
        with psycopg2.connect(platform["database"]) as conn, conn.cursor() as cursor:
            cursor.execute(f"SELECT {name} FROM catalog_video WHERE id = %s", [video_id])
            return cursor.fetchone()[0]

    scratch = platform["platform"].var / "video-work"
    wait_for(
        lambda: list(scratch.glob(f"video-{video_id}-*/hls/segment_0001.ts")),
        timeout=60,
        interval=0.05,
        what="HLS packaging under way",
    )

    # When the worker is killed outright (no clean-up runs) and another one starts
    platform["platform"].processes["video-worker"].kill()
    assert column("status") == "processing"
    assert list(scratch.glob(f"video-{video_id}-*"))
    replacement = platform["platform"].start_worker("video", name="video-worker-2")

    # Then the unacknowledged task is redelivered and finishes the video, once
    def ready():
        body = requests.get(f"{base}/api/videos/{video_id}", headers=owner, timeout=5).json()
        return body if body["status"] == "ready" else None

    try:
        video = wait_for(ready, timeout=120, interval=0.5, what="video ready after redelivery")
    except TimeoutError:
        pytest.fail("not ready:\n" + replacement.log_tail())
    assert video["duration"] == pytest.approx(150, abs=0.5)
    assert column("processing_attempts") == 2
    with psycopg2.connect(platform["database"]) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM events_outboxevent WHERE type = 'video.ready'"
            " AND (envelope -> 'data' ->> 'videoId')::int = %s",
            [video_id],
        )
        assert cursor.fetchone()[0] == 1
    # Only the finishing attempt's renditions are left on disk
    hls_path = column("hls_path")
    folders = {p.name for p in (platform["media"] / "videos" / str(video_id)).iterdir()}
    assert folders == {"source.mp4", hls_path.split("/")[2]}
    # And the killed attempt's scratch folder is gone too
    assert list(scratch.glob(f"video-{video_id}-*")) == []


def test_the_listing_from_memory_follows_the_worker_and_never_mixes_viewers(platform, tmp_path):
    base = platform["http"]
    owner, other = bearer(501), bearer(502)
    clip = media.clip_generate(tmp_path / "cache.mp4", seconds=4, frequency=700)
    with clip.open("rb") as handle:
        created = requests.post(
            f"{base}/api/videos",
            headers=owner,
            data={"title": "Cached clip", "category": "cachetest"},
            files={"videoFile": ("cache.mp4", handle, "video/mp4")},
            timeout=30,
        )
    video_id = created.json()["id"]
    # Per viewer: (asked at, answered at, the video's status in the answer or None if absent).
    seen: dict[str, list[tuple[float, float, str | None]]] = {
        "owner": [],
        "other": [],
        "anonymous": [],
    }
    headers = {"owner": owner, "other": other, "anonymous": {}}

    def watch(viewer: str, stop: threading.Event) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                asked = time.monotonic()
                page = http.get(
                    f"{base}/api/videos?category=cachetest", headers=headers[viewer], timeout=10
                ).json()
                found = [v["status"] for v in page["videos"] if v["id"] == video_id]
                seen[viewer].append((asked, time.monotonic(), found[0] if found else None))

    def statuses(viewer: str) -> list[str | None]:
        return [status for _, _, status in seen[viewer]]

    # While the worker (another process) processes the upload, three kinds of viewers list.
    stop = threading.Event()
    threads = [
        threading.Thread(target=watch, args=(viewer, stop)) for viewer in seen for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: "ready" in statuses("anonymous"), timeout=120, what="ready for anyone")
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert None not in statuses("owner") and "processing" in statuses("owner")
    for viewer in ("other", "anonymous"):
        assert "processing" not in statuses(viewer), viewer
        # Two threads per viewer: a listing asked before another thread's first "ready" came
        # back may answer after it. Every listing asked after that must have the video.
        first_ready = min(answered for _, answered, status in seen[viewer] if status == "ready")
        later = {status for asked, _, status in seen[viewer] if asked > first_ready}
        assert later == {"ready"}, viewer

    # Deleted by its owner: the very next listing of anyone no longer has it.
    assert requests.delete(f"{base}/api/videos/{video_id}", headers=owner, timeout=10).ok
    after = requests.get(f"{base}/api/videos?category=cachetest", timeout=10).json()
    assert after["videos"] == [] and after["total"] == 0
