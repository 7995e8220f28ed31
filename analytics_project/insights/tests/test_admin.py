import pytest
from django.contrib.auth import get_user_model

from insights.models import Generation, ProjectionHead, StoredEvent
from insights.tests.factories import watched

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(user)
    return client


def test_the_event_store_is_read_only_in_the_admin(admin_client):
    event, _ = watched(user=1, video=1, seconds=5)
    url = f"/admin/insights/storedevent/{event.pk}/change/"

    page = admin_client.get(url)
    attempt = admin_client.post(url, {"type": "user.deleted"})

    assert page.status_code == 200
    assert b"video.watched" in page.content
    assert b'name="_save"' not in page.content
    assert attempt.status_code == 403
    assert admin_client.get("/admin/insights/storedevent/add/").status_code == 403
    assert StoredEvent.objects.get(pk=event.pk).type == "video.watched"


def test_the_admin_action_replays_into_a_new_generation(admin_client):
    watched(user=1, video=1, seconds=5)
    watched(user=2, video=1, seconds=7)
    active = ProjectionHead.objects.get().generation

    response = admin_client.post(
        "/admin/insights/generation/",
        {"action": "replay", "_selected_action": [active.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert b"Replayed 2 events into generation" in response.content
    new = ProjectionHead.objects.get().generation
    assert new.pk != active.pk
    assert (new.status, new.events_replayed) == (Generation.Status.ACTIVE, 2)
    assert Generation.objects.get(pk=active.pk).status == Generation.Status.RETIRED
