"""Edits that say nothing, or say it in the wrong JSON type, are a 400 that changes nothing:
no row written, no catalog version bumped, no `video.updated` announced."""

import pytest

from catalog.models import CatalogVersion, Video
from catalog.tests.conftest import client_for
from catalog.tests.test_api import make_video
from common.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def _state(video: Video) -> tuple:
    video.refresh_from_db()
    versions = list(CatalogVersion.objects.values_list("pk", "token"))
    return video.title, video.category, video.updated_at, versions, OutboxEvent.objects.count()


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"false", "non_field_errors"),
        (b"true", "non_field_errors"),
        (b"123", "non_field_errors"),
        (b"[]", "non_field_errors"),
        (b"{}", "non_field_errors"),
        (b"", "non_field_errors"),
        (b'{"title": 123}', "title"),
        (b'{"title": 18446744073709551616}', "title"),
        (b'{"category": true}', "category"),
        (b'{"description": ["x"]}', "description"),
        (b'{"title": "ok", "duration": 5}', "duration"),
    ],
)
def test_a_bad_edit_is_400_and_changes_nothing(method, raw, field):
    video = make_video(title="Before", category="music")
    before = _state(video)

    response = client_for(1).generic(
        method.upper(), f"/api/videos/{video.id}", raw, content_type="application/json"
    )

    assert response.status_code == 400, response.content
    assert field in {d["field"] for d in response.json()["details"]}, response.json()
    assert _state(video) == before
