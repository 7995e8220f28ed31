"""The catalog listing is served from memory, and never outlives the change that ends it."""

import pytest

from catalog import services
from catalog.models import Video, VideoStatus
from catalog.tests.conftest import client_for, upload

pytestmark = pytest.mark.django_db


def _titles(client, query: str = "") -> list[tuple[str, str]]:
    response = client.get(f"/api/videos{query}")
    assert response.status_code == 200, response.content
    return [(v["title"], v["status"]) for v in response.json()["videos"]]


def test_every_change_to_a_video_shows_in_the_very_next_listing(clips, media_root):
    owner, anyone = client_for(7), client_for(None)
    assert _titles(anyone) == [] and _titles(owner) == []

    # Uploaded: the owner sees it processing, nobody else sees it.
    video_id = upload(owner, clips["short"], title="Waves").json()["id"]
    assert _titles(owner) == [("Waves", "processing")]
    assert _titles(anyone) == []

    # Processed: ready for everyone.
    assert services.video_process(video_id=video_id) == VideoStatus.READY
    assert _titles(anyone) == [("Waves", "ready")]

    # Edited by its owner.
    edit = owner.patch(f"/api/videos/{video_id}", {"title": "Big waves"}, format="json")
    assert edit.status_code == 200
    assert _titles(anyone) == [("Big waves", "ready")]

    # Deleted: gone at once, from every scope.
    assert owner.delete(f"/api/videos/{video_id}").status_code == 200
    assert _titles(anyone) == [] and _titles(owner) == []


def test_a_failed_or_reprocessed_video_changes_the_listing(clips, media_root):
    owner = client_for(8)
    video_id = upload(owner, clips["short"], title="Shaky").json()["id"]
    assert _titles(owner) == [("Shaky", "processing")]

    services.video_fail(video_id=video_id, reason="cannot decode", keep_source=True)
    assert _titles(owner) == [("Shaky", "failed")]

    services.video_reprocess(video_id=video_id)
    assert _titles(owner) == [("Shaky", "processing")]


def test_an_unchanged_listing_answers_304_to_its_etag(clips, media_root):
    anyone = client_for(None)
    first = anyone.get("/api/videos?limit=5")
    again = anyone.get("/api/videos?limit=5", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and first["ETag"]
    assert first["Cache-Control"] == "no-cache" and first["Vary"] == "Authorization"
    assert again.status_code == 304 and again.content == b""

    upload(client_for(3), clips["short"])
    services.video_process(video_id=Video.objects.get().id)
    changed = anyone.get("/api/videos?limit=5", HTTP_IF_NONE_MATCH=first["ETag"])

    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert changed.json()["total"] == 1


def test_a_signed_in_listing_is_private_to_its_viewer(clips, media_root):
    upload(client_for(1), clips["short"], title="Mine")

    mine = client_for(1).get("/api/videos")
    theirs = client_for(2).get("/api/videos")

    assert mine["Cache-Control"] == "private, no-cache"
    assert [v["title"] for v in mine.json()["videos"]] == ["Mine"]
    assert theirs.json()["videos"] == [] and theirs["ETag"] != mine["ETag"]


def test_invalid_queries_are_refused_and_never_cached():
    anyone = client_for(None)
    for _ in range(2):
        response = anyone.get("/api/videos?limit=1000")
        assert response.status_code == 400
        assert response.json()["details"][0]["field"] == "limit"
