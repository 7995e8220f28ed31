import pytest
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from catalog import services
from catalog.models import Video
from catalog.tests.test_processing import _upload_file
from common.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_staff_filter_failed_videos_see_the_reason_and_rerun_processing(
    admin_client, clips, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a video that failed for a fault of ours (its source kept) and a ready one
    failed = services.video_create(
        uploaded_by=2, title="Broken run", description="", category="demo",
        price_per_minute=5, upload=_upload_file(clips["short"]), enqueue=False,
    )  # fmt: skip
    services.video_fail(video_id=failed.id, reason="encoder crashed: exit 137", keep_source=True)

    # When staff filter the changelist by status
    page = admin_client.get("/admin/catalog/video/", {"status__exact": "failed"})

    # Then they see it with its processing error
    assert page.status_code == 200
    html = page.content.decode()
    assert "Broken run" in html and "encoder crashed: exit 137" in html
    assert admin_client.get("/admin/catalog/video/", {"category": "demo"}).status_code == 200

    # And the re-run action queues it again, and it ends ready
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/admin/catalog/video/",
            {"action": "reprocess", "_selected_action": [failed.id]},
        )
    assert response.status_code == 302
    assert messages_of(response) == [f"video {failed.id} queued for processing"]
    assert Video.objects.get(id=failed.id).status == "processing"
    # Two on commit: the processing task, and the relay of `video.updated` (it left the catalog).
    assert len(callbacks) == 2
    update = OutboxEvent.objects.filter(type="video.updated").get()
    assert update.envelope["data"]["status"] == "processing"
    assert services.video_process(video_id=failed.id) == "ready"


def test_rerun_without_a_source_is_reported_not_crashed(admin_client):
    video = Video.objects.create(
        uploaded_by=1, title="Gone", category="c", price_per_minute=1, status="failed"
    )
    response = admin_client.post(
        "/admin/catalog/video/",
        {"action": "reprocess", "_selected_action": [video.id]},
    )
    assert messages_of(response) == [f"video {video.id} has no source file left"]
    assert Video.objects.get(id=video.id).status == "failed"


def test_staff_edits_and_deletes_reach_the_listing_and_the_bus(admin_client, clips):
    # Given a ready video in the public listing
    video = services.video_create(
        uploaded_by=3, title="Old title", description="", category="demo",
        price_per_minute=5, upload=_upload_file(clips["short"]), enqueue=False,
    )  # fmt: skip
    services.video_process(video_id=video.id)
    anyone = APIClient()
    assert [v["title"] for v in anyone.get("/api/videos").json()["videos"]] == ["Old title"]

    # When staff retitle it in the admin, then delete it there
    edit = admin_client.post(
        f"/admin/catalog/video/{video.id}/change/",
        {"title": "New title", "description": "", "category": "demo", "price_per_minute": 5},
    )
    retitled = [v["title"] for v in anyone.get("/api/videos").json()["videos"]]
    delete = admin_client.post(f"/admin/catalog/video/{video.id}/delete/", {"post": "yes"})
    after = anyone.get("/api/videos").json()

    # Then the very next listing shows each change, and each went out as an event
    assert edit.status_code == 302 and delete.status_code == 302
    assert retitled == ["New title"]
    assert after["videos"] == [] and after["total"] == 0
    types = list(OutboxEvent.objects.order_by("created_at").values_list("type", flat=True))
    assert types[-2:] == ["video.updated", "video.deleted"]
