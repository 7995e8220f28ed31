"""Processing through the storage API only, as with an object store (no local paths)."""

import pytest
from django.core.files.storage import default_storage

from catalog import media, services
from catalog.tests.conftest import stored_files
from catalog.tests.test_processing import _upload_file

pytestmark = pytest.mark.django_db


def test_a_video_is_processed_and_deleted_through_a_storage_without_local_paths(
    settings, clips, tmp_path, media_root, django_capture_on_commit_callbacks
):
    # Given Django's in-memory storage: like S3 backends, no file of it is on the local disk
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }

    # When a video is uploaded and processed
    video = services.video_create(
        uploaded_by=1, title="Remote", description="", category="c", price_per_minute=1,
        upload=_upload_file(clips["short"]), enqueue=False,
    )  # fmt: skip
    assert services.video_process(video_id=video.id) == "ready"

    # Then every output went through the storage API
    video.refresh_from_db()
    assert video.duration == pytest.approx(4, abs=0.2)
    assert default_storage.size(video.source_path) == clips["short"].stat().st_size
    playlist = video.hls_path.replace("master.m3u8", "index.m3u8")
    local = tmp_path / "index.m3u8"
    local.write_bytes(default_storage.open(playlist).read())
    assert media.hls_duration(local) == pytest.approx(video.duration, abs=0.5)
    assert default_storage.open(video.thumbnail_path).read(2) == b"\xff\xd8"
    assert stored_files(media_root) == []

    # And deleting removes them all
    with django_capture_on_commit_callbacks(execute=True):
        services.video_delete(video_id=video.id, actor_id=1)
    assert stored_names(f"videos/{video.id}") == []


def stored_names(prefix: str) -> list[str]:
    folders, files = default_storage.listdir(prefix)
    nested = [name for folder in folders for name in stored_names(f"{prefix}/{folder}")]
    return [f"{prefix}/{name}" for name in files] + nested
