"""The platform with its media on an S3 API (moto's server mode, a real HTTP server): demo
videos and uploads land in the bucket and nowhere on disk; streaming serves whole files,
ranges and HLS from the bucket; a refused upload leaves nothing; a bucket that is not there
keeps a service from becoming ready, naming the setting to fix."""

import posixpath
from urllib.parse import urljoin

import pytest
import requests

from common.testing.object_store import private_object_store
from common.testing.processes import free_port, wait_for, web_process
from deploy.bench_http.dataset import clip
from tests.support.full_platform import booted_full_platform

BUCKET = "streamify-media"


@pytest.fixture(scope="module")
def store():
    with private_object_store() as store:
        yield store


@pytest.fixture(scope="module")
def full(store):
    with booted_full_platform(**store.bucket(BUCKET)) as platform:
        platform.platform.start_worker("video", concurrency=1)
        yield platform


def _object(store, key: str, byte_range: str | None = None) -> bytes:
    extra = {"Range": byte_range} if byte_range else {}
    return store.client().get_object(Bucket=BUCKET, Key=key, **extra)["Body"].read()


def _files_under(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.real_backends
def test_media_lives_in_the_bucket_and_nowhere_on_disk(full, store):
    videos = requests.get(full.url("gateway", "/api/videos?limit=50"), timeout=10).json()["videos"]
    keys = store.keys(BUCKET)
    ready = {
        service: requests.get(full.url(service, "/health/ready"), timeout=10).json()
        for service in ("video", "streaming")
    }

    assert videos and all(v["status"] == "ready" for v in videos)
    for video in videos:
        mine = [k for k in keys if k.startswith(f"videos/{video['id']}/")]
        assert any(k.endswith("master.m3u8") for k in mine), mine
        assert any(k.endswith(".jpg") for k in mine), mine
        assert any(k.endswith(".ts") or k.endswith(".m4s") for k in mine), mine
    assert _files_under(full.platform.var / "media") == []
    for payload in ready.values():
        assert payload["checks"]["media"]["status"] == "up"


@pytest.mark.real_backends
def test_streaming_serves_the_file_a_range_and_hls_from_the_bucket(full, store):
    session, gateway = full.session, full.url("gateway")
    video_id = session["videoDetails"]["id"]
    mp4_keys = [k for k in store.keys(BUCKET, f"videos/{video_id}/") if k.endswith(".mp4")]
    whole = requests.get(urljoin(gateway, session["streamUrl"]), timeout=30)
    part = requests.get(
        urljoin(gateway, session["streamUrl"]), headers={"Range": "bytes=100-1099"}, timeout=30
    )
    master_url = urljoin(gateway, session["hlsUrl"])
    master = requests.get(master_url, timeout=30)
    variant_url = urljoin(master_url, next(line for line in master.text.splitlines() if line
                                            and not line.startswith("#")))  # fmt: skip
    variant = requests.get(variant_url, timeout=30)
    segment_name = next(line for line in variant.text.splitlines() if line and line[0] != "#")
    segment = requests.get(urljoin(variant_url, segment_name), timeout=30)
    served = next(k for k in mp4_keys if _object(store, k) == whole.content)

    assert whole.status_code == 200 and len(whole.content) > 1000
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(whole.content)}"
    assert part.content == _object(store, served, "bytes=100-1099")
    assert master.status_code == 200 and master.text.startswith("#EXTM3U")
    assert segment.status_code == 200
    segment_keys = [k for k in store.keys(BUCKET, f"videos/{video_id}/") if
                    k.endswith("/" + posixpath.basename(segment_name))]  # fmt: skip
    assert any(_object(store, k) == segment.content for k in segment_keys)


@pytest.mark.real_backends
def test_an_upload_lands_whole_in_the_bucket_and_a_refused_one_leaves_nothing(
    full, store, tmp_path
):
    headers = full.user_headers()
    before = store.keys(BUCKET)
    refused = requests.post(
        full.url("gateway", "/api/videos"),
        headers=headers,
        data={"title": "Not a film"},
        files={"videoFile": ("notes.mp4", b"these are words, not frames" * 100, "video/mp4")},
        timeout=60,
    )
    after_refusal = store.keys(BUCKET)
    created = full.upload_ready(clip(tmp_path), title="Into the bucket", pricePerMinute="5")
    video_id = created.json()["id"]
    mine = store.keys(BUCKET, f"videos/{video_id}/")

    assert refused.status_code == 400 and after_refusal == before
    assert created.status_code == 201
    assert any(posixpath.basename(k).startswith("source") for k in mine), mine
    assert any(k.endswith("master.m3u8") for k in mine) and any(k.endswith(".jpg") for k in mine)
    assert _files_under(full.platform.var / "media") == []


@pytest.mark.real_backends
def test_a_bucket_that_is_not_there_keeps_video_from_becoming_ready(full):
    port = free_port()
    env = full.platform.env(STREAMIFY_MEDIA_BUCKET="no-such-bucket", STREAMIFY_GRPC_IN_WEB="0")
    process = web_process("video", port, env=env, log_dir=full.platform.logs).start()
    try:
        wait_for(
            lambda: requests.get(f"http://127.0.0.1:{port}/health/live", timeout=2).ok,
            timeout=60,
            what="a second video process",
        )
        ready = requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
    finally:
        process.stop()

    assert ready.status_code == 503
    media = ready.json()["checks"]["media"]
    assert media["status"] == "down"
    assert "STREAMIFY_MEDIA_BUCKET='no-such-bucket'" in media["error"]
