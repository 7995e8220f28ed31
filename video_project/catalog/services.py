"""Catalog writes: upload, processing, edits, deletion. The only place video rules live."""

import os
import tempfile
import time
import uuid
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from catalog import files, media
from catalog.models import Video, VideoStatus
from catalog.page_cache import catalog_version_bump
from common.errors import DomainError
from common.events import publish


class VideoNotFound(DomainError):
    """No video with this id is visible to the caller."""

    status, message = 404, "Video not found"


class NotVideoOwner(DomainError):
    """Only the uploader may change or delete a video."""

    status, message = 403, "Only the uploader may change or delete this video"


class UploadRejected(DomainError):
    """The uploaded file is not a video we can take; nothing was stored."""

    status, message = 400, "Validation failed"

    def details(self) -> list[dict]:
        return [{"field": "videoFile", "message": f"Not a playable video: {self}"}]


class ReprocessImpossible(Exception):
    """The video cannot be processed again (its source file is gone)."""


EDITABLE_FIELDS = ("title", "description", "category", "price_per_minute")


def video_create(
    *,
    uploaded_by: int,
    title: str,
    description: str,
    category: str,
    price_per_minute: int,
    upload: UploadedFile,
    enqueue: bool = True,
) -> Video:
    """Store the upload as the video's source and queue its processing, or store nothing.

    The container is checked before anything is written, so files ffmpeg cannot open as a
    video are refused on the spot; deeper problems surface as `failed` during processing.
    """
    if not upload.size:
        raise UploadRejected("the file is empty")
    with files.local_file(upload) as path:
        try:
            info = media.media_probe_header(path)
        except media.MediaRejected as exc:
            raise UploadRejected(str(exc)) from exc
    stored = None
    try:
        with transaction.atomic():
            video = Video.objects.create(
                uploaded_by=uploaded_by,
                title=title,
                description=description,
                category=category,
                price_per_minute=price_per_minute,
                size_bytes=upload.size,
                container=info.container,
            )
            stored = default_storage.save(f"videos/{video.id}/source{info.extension}", upload)
            video.source_path = stored
            video.save(update_fields=["source_path"])
            catalog_version_bump()
            publish("video.uploaded", _event_data(video, "uploaded"))
            if enqueue:
                _enqueue_processing(video.id)
    except Exception:
        if stored:
            default_storage.delete(stored)
        raise
    return video


def video_process(*, video_id: int) -> str:
    """Turn the uploaded source into a ready video, or fail it with the reason; safe to repeat.

    Renditions go to a fresh folder and the row points at them only in the final transaction,
    so a crash, a retry or a duplicate delivery never exposes half a video and never publishes
    `video.ready` twice. Only videos in `processing` are touched.
    """
    with transaction.atomic():
        video = Video.objects.select_for_update().filter(id=video_id).first()
        if video is None or video.status != VideoStatus.PROCESSING:
            return video.status if video else "missing"
        video.processing_attempts += 1
        video.save(update_fields=["processing_attempts", "updated_at"])
        catalog_version_bump()
    if not video.source_path or not default_storage.exists(video.source_path):
        video_fail(video_id=video_id, reason="the uploaded file is missing")
        return VideoStatus.FAILED
    started = time.monotonic()
    folder = f"videos/{video_id}/r{uuid.uuid4().hex[:12]}"
    try:
        info, renditions = files.render(video, folder)
    except media.MediaRejected as exc:
        files.storage_delete_tree(folder)
        video_fail(video_id=video_id, reason=str(exc))
        return VideoStatus.FAILED
    except BaseException:
        files.storage_delete_tree(folder)
        raise
    with transaction.atomic():
        video = Video.objects.select_for_update().filter(id=video_id).first()
        if video is None or video.status != VideoStatus.PROCESSING:
            transaction.on_commit(lambda: files.storage_delete_tree(folder))
            return video.status if video else "missing"
        video.duration = round(info.duration, 3)
        video.width, video.height = info.width, info.height
        video.video_codec, video.audio_codec = info.video_codec, info.audio_codec
        video.media_path = renditions.get("video.mp4", video.source_path)
        video.hls_path = renditions["hls/master.m3u8"]
        video.thumbnail_path = renditions["thumbnail.jpg"]
        video.status = VideoStatus.READY
        video.processing_error = ""
        video.processing_seconds = round(time.monotonic() - started, 3)
        video.ready_at = timezone.now()
        video.save()
        catalog_version_bump()
        publish("video.ready", _event_data(video, "ready"))
        keep = {folder, os.path.dirname(video.source_path)}
        transaction.on_commit(lambda: files.delete_stale_renditions(video_id, keep=keep))
        transaction.on_commit(lambda: files.delete_stale_work(video_id))
    return VideoStatus.READY


def video_fail(*, video_id: int, reason: str, keep_source: bool = False) -> bool:
    """Mark a processing video `failed` with `reason` and remove its files; False if not processing.

    `keep_source` keeps the upload so staff can re-run processing after a fault of ours.
    """
    with transaction.atomic():
        video = Video.objects.select_for_update().filter(id=video_id).first()
        if video is None or video.status != VideoStatus.PROCESSING:
            return False
        video.status = VideoStatus.FAILED
        video.processing_error = reason[:2000]
        video.media_path = video.hls_path = video.thumbnail_path = ""
        if not keep_source:
            video.source_path = ""
        video.save()
        catalog_version_bump()
        publish("video.failed", {"videoId": video.id, "reason": video.processing_error})
        keep = {os.path.dirname(video.source_path)} if keep_source else set()
        transaction.on_commit(lambda: files.delete_stale_renditions(video_id, keep=keep))
    return True


def video_reprocess(*, video_id: int) -> Video:
    """Send a video through processing again (staff); its current renditions stay until replaced."""
    with transaction.atomic():
        video = Video.objects.select_for_update().filter(id=video_id).first()
        if video is None:
            raise VideoNotFound(video_id)
        if not video.source_path or not default_storage.exists(video.source_path):
            raise ReprocessImpossible(f"video {video_id} has no source file left")
        if video.status == VideoStatus.PROCESSING:
            return video
        video.status = VideoStatus.PROCESSING
        video.processing_error = ""
        video.save(update_fields=["status", "processing_error", "updated_at"])
        catalog_version_bump()
        publish("video.updated", _event_data(video, "updated"))
        _enqueue_processing(video.id)
    return video


def video_update(
    *, video_id: int, actor_id: int | None = None, by_staff: bool = False, **changes
) -> Video:
    """Apply edits to the catalog fields: the uploader's, or staff's (`by_staff`, the admin).
    Either way the catalog version moves and `video.updated` is published."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        video = _for_update(video_id=video_id, actor_id=actor_id, by_staff=by_staff)
        for field, value in changes.items():
            setattr(video, field, value)
        video.save()
        catalog_version_bump()
        publish("video.updated", _event_data(video, "updated"))
    return video


def video_delete(*, video_id: int, actor_id: int | None = None, by_staff: bool = False) -> None:
    """Remove a video (by its uploader, or by staff), announce `video.deleted`, then delete
    its files."""
    with transaction.atomic():
        video = _for_update(video_id=video_id, actor_id=actor_id, by_staff=by_staff)
        data = {"videoId": video.id, "uploadedBy": video.uploaded_by}
        video.delete()
        catalog_version_bump()
        publish("video.deleted", data)
        transaction.on_commit(lambda: files.storage_delete_tree(f"videos/{video_id}"))


def _for_update(*, video_id: int, actor_id: int | None, by_staff: bool) -> Video:
    """The video, locked; only its uploader may have it, unless staff ask."""
    video = Video.objects.select_for_update().filter(id=video_id).first()
    if video is None:
        raise VideoNotFound(video_id)
    if not by_staff and (actor_id is None or video.uploaded_by != actor_id):
        raise NotVideoOwner(video_id)
    return video


def _enqueue_processing(video_id: int) -> None:
    from catalog.tasks import process_video

    process_video.delay_on_commit(video_id)


def _event_data(video: Video, kind: str) -> dict:
    data = {
        "videoId": video.id,
        "title": video.title,
        "category": video.category,
        "uploadedBy": video.uploaded_by,
        "pricePerMinute": video.price_per_minute,
    }
    if kind == "ready":
        data["duration"] = video.duration
    if kind == "updated":
        data["status"] = video.status
    return data


DEMO_CLIPS = (
    # title, category, seconds, lavfi pattern, tone (Hz), price per minute (cents)
    ("Test Pattern Overture", "music", 30, "testsrc2", 440, 10),
    ("Colour Bars at Dawn", "nature", 24, "smptebars", 523, 5),
    ("Counting Frames", "education", 36, "testsrc", 330, 15),
)


def demo_videos_seed(*, owner_id: int) -> list[Video]:
    """Fill an empty catalog with a few generated clips, processed like any upload.

    Does nothing when the catalog already has videos, so it is safe on every start.
    """
    if Video.objects.exists():
        return []
    created = []
    with tempfile.TemporaryDirectory(prefix="video-demo-") as tmp:
        for title, category, seconds, pattern, tone, price in DEMO_CLIPS:
            path = media.clip_generate(
                Path(tmp) / f"{pattern}.mp4",
                seconds=seconds,
                size="480x270",
                rate=15,
                frequency=tone,
                pattern=pattern,
            )
            with path.open("rb") as handle:
                video = video_create(
                    uploaded_by=owner_id,
                    title=title,
                    description=f"A {seconds}-second {pattern} test pattern with a {tone} Hz tone.",
                    category=category,
                    price_per_minute=price,
                    upload=UploadedFile(handle, name=path.name, size=path.stat().st_size),
                    enqueue=False,
                )
            video_process(video_id=video.id)
            video.refresh_from_db()
            created.append(video)
    return created
