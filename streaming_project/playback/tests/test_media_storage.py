"""Where streaming reads media from (common.media_storage): only the folder's own regular files,
and a bucket whose answers are told apart: no such object is 404, a store that cannot answer is
503, and an object replaced while it is read is never spliced with its new bytes."""

import socket
import time

import pytest
from django.test import override_settings

from common import media_storage
from common.breakers import UpstreamUnavailable
from common.testing.object_store import CREDENTIALS, private_object_store
from common.testing.processes import free_port

BUCKET = "streaming-reads"


def _bucket_storages(monkeypatch, endpoint: str) -> dict:
    monkeypatch.setenv("STREAMIFY_MEDIA_BUCKET", BUCKET)
    monkeypatch.setenv("STREAMIFY_MEDIA_ENDPOINT_URL", endpoint)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return media_storage.storages()


def test_the_folder_serves_its_regular_files_and_never_a_link(tmp_path):
    media = tmp_path / "media"
    (media / "videos").mkdir(parents=True)
    (media / "videos" / "film.mp4").write_bytes(b"x" * 10)
    secret = tmp_path / "outside.txt"
    secret.write_text("not media")
    (media / "videos" / "link.mp4").symlink_to(secret)

    with override_settings(MEDIA_ROOT=str(media)):
        found = media_storage.stat_media("videos/film.mp4")
        with pytest.raises(media_storage.MediaMissing):
            media_storage.stat_media("videos/link.mp4")
        with pytest.raises(media_storage.MediaMissing):
            media_storage.stat_media("videos")

    assert (found.name, found.size) == ("videos/film.mp4", 10)


@pytest.fixture(scope="module")
def store():
    with private_object_store() as store:
        store.client().create_bucket(Bucket=BUCKET)
        yield store


def test_a_bucket_tells_a_missing_object_from_a_store_that_cannot_answer(store, monkeypatch):
    store.client().put_object(Bucket=BUCKET, Key="videos/1/film.mp4", Body=b"0123456789")

    with override_settings(STORAGES=_bucket_storages(monkeypatch, store.endpoint)):
        found = media_storage.stat_media("videos/1/film.mp4")
        with pytest.raises(media_storage.MediaMissing):
            media_storage.stat_media("videos/1/none.mp4")
    closed = f"http://127.0.0.1:{free_port()}"
    with (
        override_settings(STORAGES=_bucket_storages(monkeypatch, closed)),
        pytest.raises(UpstreamUnavailable) as unreachable,
    ):
        media_storage.stat_media("videos/1/film.mp4")

    assert found.size == 10
    assert unreachable.value.service == "media storage"
    assert unreachable.value.error_body()["retryAfter"] == media_storage.STORE_RETRY_AFTER


def test_an_object_replaced_mid_read_raises_instead_of_mixing_versions(store, monkeypatch):
    client = store.client()
    client.put_object(Bucket=BUCKET, Key="videos/2/film.mp4", Body=b"A" * 8)

    with override_settings(STORAGES=_bucket_storages(monkeypatch, store.endpoint)):
        media = media_storage.stat_media("videos/2/film.mp4")
        with media_storage.open_media(media) as reader:
            first = reader.read(4)
            client.put_object(Bucket=BUCKET, Key="videos/2/film.mp4", Body=b"B" * 8)
            with pytest.raises(media_storage.MediaChanged):
                reader.read(4)

    assert first == b"AAAA"


def test_a_store_that_accepts_but_never_answers_is_a_503_within_the_deadline(monkeypatch):
    # A blackholed endpoint: connections are accepted (the kernel's backlog) and never answered.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    monkeypatch.setenv("STREAMIFY_MEDIA_READ_TIMEOUT", "0.5")
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    started = time.monotonic()
    try:
        with (
            override_settings(STORAGES=_bucket_storages(monkeypatch, endpoint)),
            pytest.raises(UpstreamUnavailable) as unanswered,
        ):
            media_storage.stat_media("videos/1/film.mp4")
    finally:
        silent.close()

    assert unanswered.value.service == "media storage"
    # Two attempts of 0.5 s and a back-off, not botocore's default of 60 s per attempt.
    assert time.monotonic() - started < 10
