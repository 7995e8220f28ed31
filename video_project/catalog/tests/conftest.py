import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from catalog import media
from common.testing.tokens import bearer


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Small generated test clips, made once per run (tiny resolution, low frame rate)."""
    folder = tmp_path_factory.mktemp("clips")
    clip65 = media.clip_generate(folder / "clip65.mp4", seconds=65)
    short = media.clip_generate(folder / "short.mp4", seconds=4, frequency=660)
    # Index up front, data cut off: it opens like a video but does not play to the end.
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(clip65.read_bytes()[: clip65.stat().st_size // 3])
    noise = folder / "noise.mp4"
    noise.write_bytes(os.urandom(200_000))
    return {"clip65": clip65, "short": short, "truncated": truncated, "noise": noise}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every test gets its own MEDIA_ROOT and upload temp dir, so file assertions are exact."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "incoming")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    return Path(settings.MEDIA_ROOT)


def client_for(user_id: int | None, **claims) -> APIClient:
    client = APIClient()
    if user_id is not None:
        client.credentials(HTTP_AUTHORIZATION=bearer(user_id, **claims)["Authorization"])
    return client


def upload(client: APIClient, path: Path, **fields):
    """POST /api/videos like a browser form: the file plus the catalog fields."""
    with path.open("rb") as handle:
        data = {"title": "A clip", "category": "Demo", "pricePerMinute": "25", **fields}
        data.setdefault("videoFile", handle)
        return client.post("/api/videos", data, format="multipart")


def stored_files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Cached pages live as long as the process; each test starts from an empty cache."""
    from catalog.page_cache import listings

    listings.clear()
