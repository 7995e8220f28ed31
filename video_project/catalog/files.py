"""A video's files in the media storage: rendering them, local copies for ffmpeg, and clearing
away what is stale."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import UploadedFile

from catalog import media
from catalog.models import Video


def render(video: Video, folder: str) -> tuple[media.MediaInfo, dict[str, str]]:
    """Probe and render every output of `video` locally, then store them under `folder`."""
    timeout = settings.VIDEO_FFMPEG_TIMEOUT_SECONDS
    threads = settings.VIDEO_FFMPEG_THREADS
    with (
        stored_as_local(video.source_path) as source,
        tempfile.TemporaryDirectory(prefix=f"video-{video.id}-", dir=work_dir()) as tmp,
    ):
        work = Path(tmp)
        info = media.media_probe(source, timeout=timeout)
        media.thumbnail_render(source, work / "thumbnail.jpg", info=info, timeout=timeout)
        media.hls_package(
            source,
            work / "hls",
            info=info,
            segment_seconds=settings.VIDEO_HLS_SEGMENT_SECONDS,
            max_height=settings.VIDEO_HLS_MAX_HEIGHT,
            timeout=timeout,
            threads=threads,
        )
        if not info.is_progressive_mp4:
            media.progressive_render(
                source, work / "video.mp4", info=info, timeout=timeout, threads=threads
            )
        stored = {}
        for path in sorted(p for p in work.rglob("*") if p.is_file()):
            relative = path.relative_to(work).as_posix()
            with path.open("rb") as handle:
                stored[relative] = default_storage.save(f"{folder}/{relative}", File(handle))
    return info, stored


@contextmanager
def local_file(upload: UploadedFile) -> Iterator[Path]:
    """A filesystem path holding the upload (Django already spooled it to disk in the API)."""
    if hasattr(upload, "temporary_file_path"):
        yield Path(upload.temporary_file_path())
        return
    with tempfile.NamedTemporaryFile(prefix="video-upload-") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        upload.seek(0)
        yield Path(handle.name)


@contextmanager
def stored_as_local(name: str) -> Iterator[Path]:
    """A local path for a stored file: the file itself on disk storage, else a temporary copy."""
    # Only disk storage promises that path() is where the bytes are (in-memory storage has one).
    if isinstance(default_storage, FileSystemStorage):
        yield Path(default_storage.path(name))
        return
    with (
        default_storage.open(name, "rb") as remote,
        tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as local,
    ):
        shutil.copyfileobj(remote, local, length=1024 * 1024)
        local.flush()
        yield Path(local.name)


def delete_stale_renditions(video_id: int, *, keep: set[str]) -> None:
    """Delete everything stored for the video except the `keep` folders / files."""
    root = f"videos/{video_id}"
    with suppress(FileNotFoundError):
        folders, files = default_storage.listdir(root)
        for name in folders:
            if f"{root}/{name}" not in keep:
                storage_delete_tree(f"{root}/{name}")
        if root not in keep:
            for name in files:
                default_storage.delete(f"{root}/{name}")
            remove_empty_folder(root)


def work_dir() -> Path:
    path = Path(settings.VIDEO_WORK_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def delete_stale_work(video_id: int) -> None:
    """Remove scratch folders of earlier attempts on this video that died without cleaning up."""
    for leftover in work_dir().glob(f"video-{video_id}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def storage_delete_tree(prefix: str) -> None:
    """Delete every stored file under `prefix` (the storage API has no recursive delete)."""
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in folders:
        storage_delete_tree(f"{prefix}/{name}")
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
    remove_empty_folder(prefix)


def remove_empty_folder(prefix: str) -> None:
    # Object stores have no folders; on disk, an empty one would be left behind forever.
    if isinstance(default_storage, FileSystemStorage):
        with suppress(OSError):
            os.rmdir(default_storage.path(prefix))
