import uuid

import pytest
from django.utils import timezone

from common.events.consumer import apply_event
from common.events.envelope import make_envelope
from common.events.models import OutboxEvent
from playback.models import StreamSession

pytestmark = pytest.mark.django_db


def test_video_deleted_ends_its_active_sessions_once():
    now = timezone.now()
    fields = {"price_per_minute": 10, "duration_seconds": 60.0, "media_path": "x.mp4"}
    playing = StreamSession.objects.create(
        id=uuid.uuid4(), user_id=1, video_id=77, status="active", minutes_charged=1,
        started_at=now, last_heartbeat_at=now, **fields,
    )  # fmt: skip
    other = StreamSession.objects.create(
        id=uuid.uuid4(), user_id=1, video_id=78, status="active", minutes_charged=1,
        started_at=now, last_heartbeat_at=now, **fields,
    )  # fmt: skip
    envelope = make_envelope(
        type="video.deleted", data={"videoId": 77, "uploadedBy": 5}, source="/streamify/video"
    )

    assert apply_event(envelope) is True
    assert apply_event(envelope) is False

    playing.refresh_from_db()
    other.refresh_from_db()
    assert (playing.status, playing.end_reason) == ("ended", "video_deleted")
    assert other.status == "active"
    [ended] = [e.envelope["data"] for e in OutboxEvent.objects.filter(type="stream.ended")]
    assert ended["sessionId"] == str(playing.id) and ended["amountCharged"] == 10
