"""REST contract: validation, size limit, ownership, listing."""

import pytest
from rest_framework.test import APIClient

from catalog.models import Video, VideoStatus
from catalog.tests.conftest import client_for, stored_files, upload
from common.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def make_video(**fields) -> Video:
    """A catalog row as processing leaves it (no media needed for catalog behaviour)."""
    values = {
        "title": "Untitled",
        "category": "general",
        "price_per_minute": 10,
        "uploaded_by": 1,
        "status": VideoStatus.READY,
        "duration": 60.0,
        "media_path": "videos/x/source.mp4",
        "hls_path": "videos/x/r1/hls/master.m3u8",
        "thumbnail_path": "videos/x/r1/thumbnail.jpg",
        **fields,
    }
    return Video.objects.create(**values)


# --- upload validation -----------------------------------------------------------------------


def test_upload_needs_a_signed_in_user(clips):
    response = upload(APIClient(), clips["short"])
    assert response.status_code == 401
    assert Video.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"pricePerMinute": "-1"}, "pricePerMinute", "greater than or equal to 0"),
        ({"pricePerMinute": "1.5"}, "pricePerMinute", "valid integer"),
        ({"pricePerMinute": "ten"}, "pricePerMinute", "valid integer"),
        ({"title": "x" * 201}, "title", "no more than 200"),
        ({"title": ""}, "title", "may not be blank"),
        ({"category": "c" * 51}, "category", "no more than 50"),
        ({"duration": "300"}, "duration", "Unknown field"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_stored(clips, media_root, fields, field, message):
    response = upload(client_for(1), clips["short"], **fields)
    assert response.status_code == 400
    details = response.json()["details"]
    assert any(d["field"] == field and message in d["message"] for d in details), details
    assert Video.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_file_under_the_wrong_field_name_is_refused(clips, media_root):
    with clips["short"].open("rb") as handle:
        response = client_for(1).post(
            "/api/videos", {"title": "t", "file": handle}, format="multipart"
        )
    assert response.status_code == 400
    fields = {d["field"]: d["message"] for d in response.json()["details"]}
    assert fields == {"videoFile": "No file was submitted.", "file": "Unknown field."}
    assert stored_files(media_root) == []


def test_an_empty_file_is_refused(media_root):
    empty = media_root.parent / "empty.mp4"
    empty.write_bytes(b"")
    response = upload(client_for(1), empty)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "videoFile"
    assert Video.objects.count() == 0


def test_json_instead_of_multipart_is_a_clear_415():
    response = client_for(1).post("/api/videos", {"title": "t"}, format="json")
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["error"]


# --- size limit ------------------------------------------------------------------------------


def test_a_declared_oversized_upload_is_refused_before_reading(clips, settings, media_root):
    settings.VIDEO_MAX_UPLOAD_BYTES = 10_000
    response = upload(client_for(1), clips["short"])
    assert response.status_code == 413
    assert response.json()["error"] == "Upload exceeds the limit of 10000 bytes"
    assert Video.objects.count() == 0
    assert stored_files(media_root) == []


def test_an_upload_growing_past_the_limit_is_stopped_while_streaming(clips, settings, media_root):
    # Given a limit the Content-Length check lets through (it allows for multipart overhead)
    size = clips["short"].stat().st_size
    settings.VIDEO_MAX_UPLOAD_BYTES = size - 1_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    response = upload(client_for(1), clips["short"])
    assert response.status_code == 413
    assert Video.objects.count() == 0
    assert stored_files(media_root) == []
    # And the partial temporary file was removed, not left for the garbage collector
    assert stored_files(media_root.parent / "incoming") == []


def test_an_upload_at_the_limit_is_accepted(clips, settings):
    settings.VIDEO_MAX_UPLOAD_BYTES = clips["short"].stat().st_size
    response = upload(client_for(1), clips["short"])
    assert response.status_code == 201
    assert response.json()["status"] == "processing"


# --- ownership -------------------------------------------------------------------------------


def test_only_the_uploader_may_edit(clips):
    video = make_video(uploaded_by=1, title="Old")
    response = client_for(2).put(f"/api/videos/{video.id}", {"title": "Hijacked"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "Only the uploader may change or delete this video"
    assert APIClient().put(f"/api/videos/{video.id}", {"title": "x"}).status_code == 401

    response = client_for(1).put(
        f"/api/videos/{video.id}",
        {"title": "New", "pricePerMinute": 40, "category": "Music"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["pricePerMinute"]) == ("New", 40)
    video.refresh_from_db()
    assert (video.title, video.price_per_minute, video.category) == ("New", 40, "music")


def test_edits_are_validated_like_uploads():
    video = make_video(uploaded_by=1)
    owner = client_for(1)
    assert (
        owner.put(f"/api/videos/{video.id}", {"pricePerMinute": -5}, format="json").status_code
        == 400
    )
    assert (
        owner.put(f"/api/videos/{video.id}", {"status": "ready"}, format="json").status_code == 400
    )
    assert owner.put("/api/videos/999999", {"title": "x"}, format="json").status_code == 404
    video.refresh_from_db()
    assert video.price_per_minute == 10


def test_only_the_uploader_may_delete_and_deleting_removes_files_and_emits_the_event(
    clips, media_root, django_capture_on_commit_callbacks
):
    from catalog import services

    with django_capture_on_commit_callbacks(execute=True):
        video_id = upload(client_for(1), clips["short"]).json()["id"]
    services.video_process(video_id=video_id)
    assert stored_files(media_root / "videos" / str(video_id))

    assert client_for(2).delete(f"/api/videos/{video_id}").status_code == 403
    assert Video.objects.filter(id=video_id).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(1).delete(f"/api/videos/{video_id}")
    assert response.status_code == 200
    assert response.json() == {"message": "Video deleted", "id": video_id}
    assert not Video.objects.filter(id=video_id).exists()
    assert not (media_root / "videos" / str(video_id)).exists()
    deleted = [e.envelope["data"] for e in OutboxEvent.objects.filter(type="video.deleted")]
    assert deleted == [{"videoId": video_id, "uploadedBy": 1}]
    assert client_for(1).delete(f"/api/videos/{video_id}").status_code == 404


# --- listing ---------------------------------------------------------------------------------


@pytest.fixture
def catalog():
    for i in range(7):
        make_video(title=f"Cooking lesson {i}", category="food")
    for i in range(5):
        make_video(title=f"Guitar basics {i}", category="music", description="learn chords")
    make_video(title="Chord theory", category="music", description="Cooking up harmony")
    make_video(
        title="Still cooking",
        category="food",
        status=VideoStatus.PROCESSING,
        uploaded_by=99,
        **{"media_path": "", "hls_path": "", "thumbnail_path": "", "duration": None},
    )


def test_list_paginates_with_totals(catalog):
    body = APIClient().get("/api/videos", {"page": 2, "limit": 5}).json()
    assert (body["total"], body["page"], body["limit"]) == (13, 2, 5)
    assert len(body["videos"]) == 5
    last = APIClient().get("/api/videos", {"page": 3, "limit": 5}).json()
    assert len(last["videos"]) == 3
    beyond = APIClient().get("/api/videos", {"page": 9, "limit": 5}).json()
    assert (beyond["videos"], beyond["total"]) == ([], 13)
    # Newest first, no video on two pages
    ids = [
        v["id"]
        for p in (1, 2, 3)
        for v in APIClient().get("/api/videos", {"page": p, "limit": 5}).json()["videos"]
    ]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 13


def test_list_filters_by_category_and_search(catalog):
    food = APIClient().get("/api/videos", {"category": "FOOD"}).json()
    assert food["total"] == 7
    assert {v["category"] for v in food["videos"]} == {"food"}
    cooking = APIClient().get("/api/videos", {"search": "cooking"}).json()
    assert cooking["total"] == 8  # seven titles plus one description
    both = APIClient().get("/api/videos", {"search": "chord", "category": "music", "limit": 3})
    assert (both.json()["total"], len(both.json()["videos"])) == (6, 3)


def test_processing_videos_are_listed_only_for_their_uploader(catalog):
    assert APIClient().get("/api/videos").json()["total"] == 13
    assert client_for(5).get("/api/videos").json()["total"] == 13
    mine = client_for(99).get("/api/videos", {"search": "still"}).json()
    assert [v["status"] for v in mine["videos"]] == ["processing"]
    assert client_for(1, is_staff=True).get("/api/videos").json()["total"] == 14


def test_an_uploader_lists_their_own_videos_in_every_state(catalog):
    make_video(title="Another's", uploaded_by=7)
    mine = client_for(99).get("/api/videos", {"uploadedBy": 99}).json()
    theirs = APIClient().get("/api/videos", {"uploadedBy": 7}).json()
    hidden = APIClient().get("/api/videos", {"uploadedBy": 99}).json()

    assert [(v["title"], v["status"]) for v in mine["videos"]] == [("Still cooking", "processing")]
    assert [v["title"] for v in theirs["videos"]] == ["Another's"]
    assert (hidden["videos"], hidden["total"]) == ([], 0)


@pytest.mark.parametrize(
    "query",
    [
        {"page": 0},
        {"page": "x"},
        {"limit": 0},
        {"limit": 101},
        {"search": "s" * 201},
        {"uploadedBy": 0},
        {"uploadedBy": "me"},
    ],
)
def test_bad_list_parameters_are_400(query):
    response = APIClient().get("/api/videos", query)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] in query


def test_a_bad_token_is_refused_even_on_public_reads():
    response = APIClient().get("/api/videos", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 403
    assert response.json()["error"].startswith("Invalid token")
