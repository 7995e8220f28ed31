"""Upload -> Celery task -> ready/failed, with real ffmpeg on generated clips."""

import subprocess

import pytest

from catalog import media, services
from catalog.models import Video, VideoStatus
from catalog.tasks import process_video
from catalog.tests.conftest import client_for, stored_files, upload
from common.events.models import OutboxEvent
from common.workers import service_app

pytestmark = pytest.mark.django_db


def events(type_: str) -> list[dict]:
    return [e.envelope["data"] for e in OutboxEvent.objects.filter(type=type_)]


def queued_messages(queue: str = "video") -> int:
    with service_app().connection_for_read() as conn:
        return conn.default_channel._size(queue)


def test_a_65_second_clip_becomes_ready_with_its_true_duration(
    clips, media_root, django_capture_on_commit_callbacks
):
    # Given a signed-in uploader and a generated 65 s clip
    owner = client_for(7)
    before = queued_messages()

    # When it is uploaded, then processed by the task the upload queued
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(owner, clips["clip65"], title="Sixty-five", pricePerMinute="30")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "processing"
    assert body["duration"] is None
    assert queued_messages() == before + 1
    with django_capture_on_commit_callbacks(execute=True):
        assert process_video.apply(args=[body["id"]]).get() == "ready"

    # Then it is ready with the decoded duration, a thumbnail and a complete HLS rendition
    video = Video.objects.get(id=body["id"])
    shown = owner.get(f"/api/videos/{video.id}").json()
    assert shown["status"] == "ready"
    assert shown["duration"] == pytest.approx(65, abs=0.5)
    assert shown["pricePerMinute"] == 30
    assert shown["uploadedBy"] == 7
    assert shown["category"] == "demo"
    assert shown["thumbnailUrl"] == f"/api/videos/{video.id}/thumbnail"
    assert (video.width, video.height, video.video_codec) == (320, 180, "h264")

    thumbnail = owner.get(shown["thumbnailUrl"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    decoded = subprocess.run(
        [media.ffmpeg_exe(), "-hide_banner", "-f", "image2pipe", "-i", "-", "-f", "null", "-"],
        input=b"".join(thumbnail.streaming_content),
        capture_output=True,
    )
    assert decoded.returncode == 0
    assert "mjpeg" in decoded.stderr.decode() and "320x180" in decoded.stderr.decode()

    master = media_root / video.hls_path
    playlist = master.parent / "index.m3u8"
    assert "index.m3u8" in master.read_text()
    assert media.hls_duration(playlist) == pytest.approx(video.duration, abs=0.5)
    segments = [line for line in playlist.read_text().splitlines() if line.endswith(".ts")]
    assert len(segments) >= 65 // 10
    assert all((playlist.parent / name).stat().st_size > 0 for name in segments)
    # The upload itself (H.264/AAC MP4) is the progressive rendition.
    assert video.media_path == video.source_path == f"videos/{video.id}/source.mp4"
    assert (media_root / video.media_path).stat().st_size == clips["clip65"].stat().st_size

    # And each lifecycle event was written once, with the probed duration on video.ready
    assert events("video.uploaded") == [
        {
            "videoId": video.id,
            "title": "Sixty-five",
            "category": "demo",
            "uploadedBy": 7,
            "pricePerMinute": 30,
        }
    ]
    [ready] = events("video.ready")
    assert ready["videoId"] == video.id and ready["duration"] == video.duration


def test_processing_twice_changes_nothing_and_emits_ready_once(clips, media_root):
    video = services.video_create(
        uploaded_by=3,
        title="t",
        description="",
        category="demo",
        price_per_minute=5,
        upload=_upload_file(clips["short"]),
        enqueue=False,
    )
    assert services.video_process(video_id=video.id) == "ready"
    first = Video.objects.get(id=video.id)

    assert process_video.apply(args=[video.id]).get() == "ready"

    again = Video.objects.get(id=video.id)
    assert (again.hls_path, again.processing_attempts) == (first.hls_path, 1)
    assert len(events("video.ready")) == 1


def test_a_failure_mid_way_is_retried_and_leaves_no_partial_output(
    clips, media_root, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # Given a video whose first processing attempt dies while storing its renditions,
    # and the leftovers of an earlier attempt that was killed outright
    settings.VIDEO_RETRY_BASE_SECONDS = 0
    video = services.video_create(
        uploaded_by=3,
        title="t",
        description="",
        category="demo",
        price_per_minute=5,
        upload=_upload_file(clips["short"]),
        enqueue=False,
    )
    leftover = media_root / "videos" / str(video.id) / "rkilled" / "hls" / "segment_0000.ts"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a segment")
    real_save = services.default_storage.save
    saved = []

    def save_then_crash(name, content, **kwargs):
        saved.append(name)
        if len(saved) == 3:
            seen_mid_way.append(Video.objects.get(id=video.id).status)
            raise OSError("injected: disk vanished mid-write")
        return real_save(name, content, **kwargs)

    seen_mid_way = []
    monkeypatch.setattr(services.default_storage, "save", save_then_crash)

    # When the task runs (Celery retries it)
    with django_capture_on_commit_callbacks(execute=True):
        result = process_video.apply(args=[video.id])

    # Then nobody saw it ready mid-way, the retry finished it, and only its renditions remain
    assert result.get() == "ready"
    assert seen_mid_way == ["processing"]
    video.refresh_from_db()
    assert (video.status, video.processing_attempts) == ("ready", 2)
    revision = video.hls_path.split("/")[2]
    stored = stored_files(media_root / "videos" / str(video.id))
    assert {name.split("/")[0] for name in stored} == {revision, "source.mp4"}
    assert f"{revision}/hls/master.m3u8" in stored and f"{revision}/thumbnail.jpg" in stored
    assert len(events("video.ready")) == 1


def test_retries_exhausted_fail_the_video_but_keep_the_source_for_a_rerun(
    clips, media_root, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_RETRY_BASE_SECONDS = 0
    video = services.video_create(
        uploaded_by=3,
        title="t",
        description="",
        category="demo",
        price_per_minute=5,
        upload=_upload_file(clips["short"]),
        enqueue=False,
    )

    def always_crash(*args, **kwargs):
        raise media.MediaToolError("injected: encoder crashed")

    monkeypatch.setattr(media, "thumbnail_render", always_crash)
    with django_capture_on_commit_callbacks(execute=True):
        assert process_video.apply(args=[video.id]).get() == "failed"
    video.refresh_from_db()
    assert video.status == "failed"
    assert video.processing_attempts == process_video.max_retries + 1
    assert "injected: encoder crashed" in video.processing_error
    assert stored_files(media_root / "videos" / str(video.id)) == ["source.mp4"]

    # When staff re-run processing once the fault is gone, it becomes ready
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.video_reprocess(video_id=video.id)
    assert services.video_process(video_id=video.id) == "ready"
    assert events("video.failed")[0]["videoId"] == video.id
    assert len(events("video.ready")) == 1


def test_a_truncated_file_ends_failed_with_a_reason_and_no_files(
    clips, media_root, django_capture_on_commit_callbacks
):
    owner = client_for(9)
    response = upload(owner, clips["truncated"])
    assert response.status_code == 201, response.json()
    video_id = response.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        assert process_video.apply(args=[video_id]).get() == "failed"

    shown = owner.get(f"/api/videos/{video_id}").json()
    assert shown["status"] == "failed"
    assert "does not decode cleanly" in shown["processingError"]
    assert stored_files(media_root) == []
    assert events("video.failed") == [{"videoId": video_id, "reason": shown["processingError"]}]
    assert events("video.ready") == []
    # Nobody else sees a failed video.
    assert client_for(10).get(f"/api/videos/{video_id}").status_code == 404


@pytest.mark.parametrize("size", [1, 512, 100_000])
def test_random_bytes_never_become_a_video(size, media_root):
    import os

    noise = media_root.parent / "noise.bin"
    noise.write_bytes(os.urandom(size))
    response = upload(client_for(5), noise)
    assert response.status_code == 400
    body = response.json()
    assert body["details"][0]["field"] == "videoFile"
    assert "Not a playable video" in body["details"][0]["message"]
    assert Video.objects.count() == 0
    assert stored_files(media_root) == []
    assert OutboxEvent.objects.count() == 0


def test_the_ready_invariant_is_held_by_the_database(clips):
    from django.db import IntegrityError, transaction

    video = Video.objects.create(uploaded_by=1, title="x", category="c", price_per_minute=1)
    video.status = VideoStatus.READY
    with pytest.raises(IntegrityError), transaction.atomic():
        video.save()


def _upload_file(path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="video/mp4")
