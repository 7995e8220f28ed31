"""Playback's figures: sessions being watched now, and minutes charged."""

from datetime import timedelta

from django.conf import settings
from prometheus_client import Counter

from common.metrics.state import gauge
from playback import clock
from playback.models import SessionStatus, StreamSession

MINUTES_CHARGED = Counter(
    "streamify_stream_minutes_charged", "Minutes of video charged to viewers' wallets"
)


def sessions():
    """Active sessions heard from within the idle timeout (the ones still serving bytes)."""
    since = clock.now() - timedelta(seconds=settings.STREAMING_IDLE_TIMEOUT_SECONDS)
    live = StreamSession.objects.filter(status=SessionStatus.ACTIVE, last_heartbeat_at__gte=since)
    yield gauge("streamify_stream_sessions_active", "Sessions being watched now", live.count())
