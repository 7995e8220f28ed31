"""Reads of playback sessions, and where a session's media files are on the shared volume."""

import uuid
from pathlib import Path

from django.conf import settings

from playback import clock
from playback.models import SessionStatus, StreamSession
from playback.services import SessionEnded, SessionNotFound, billable_seconds, session_is_live

HLS_CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".vtt": "text/vtt",
}


class MediaMissing(Exception):
    """The session's file is not on the media volume (or the path escapes it)."""


def session_list_active(*, user_id: int) -> list[StreamSession]:
    now = clock.now()
    sessions = StreamSession.objects.filter(user_id=user_id, status=SessionStatus.ACTIVE)
    return [s for s in sessions.order_by("-started_at") if session_is_live(s, now=now)]


def session_for_bytes(*, session_id: uuid.UUID, user_id: int | None) -> StreamSession:
    """The live session that may serve bytes; the id alone is the capability.

    A caller who shows a user token must own the session (404 otherwise, as for an unknown id).
    """
    session = StreamSession.objects.exclude(status=SessionStatus.STARTING).filter(pk=session_id)
    session = session.first()
    if session is None or (user_id is not None and session.user_id != user_id):
        raise SessionNotFound(session_id)
    if not session_is_live(session, now=clock.now()):
        raise SessionEnded(session)
    return session


def media_file(session: StreamSession) -> Path:
    return _inside(Path(settings.MEDIA_ROOT), session.media_path)


def hls_file(session: StreamSession, name: str) -> tuple[Path, str]:
    """A file of the session's HLS rendition (playlist or segment) and its content type."""
    if not session.hls_path:
        raise MediaMissing("this video has no HLS rendition")
    folder = _inside(Path(settings.MEDIA_ROOT), session.hls_path, must_exist=False).parent
    path = _inside(folder, name)
    content_type = HLS_CONTENT_TYPES.get(path.suffix.lower())
    if content_type is None:
        raise MediaMissing(f"not an HLS file: {name}")
    return path, content_type


def _inside(root: Path, relative: str, *, must_exist: bool = True) -> Path:
    # Paths come from another service and URLs: resolve, then refuse anything outside `root`.
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise MediaMissing(relative)
    if must_exist and not path.is_file():
        raise MediaMissing(relative)
    return path


def session_payload(session: StreamSession) -> dict:
    """A session as the REST API shows it."""
    until = session.ended_at or clock.now()
    return {
        "sessionId": str(session.id),
        "videoId": session.video_id,
        "status": session.status,
        "startedAt": session.started_at.isoformat(),
        "lastHeartbeatAt": session.last_heartbeat_at.isoformat(),
        "endedAt": session.ended_at.isoformat() if session.ended_at else None,
        "endReason": session.end_reason or None,
        "watchedTime": round(billable_seconds(session, until=until), 3),
        "minutesCharged": session.minutes_charged,
        "pricePerMinute": session.price_per_minute,
        "amountCharged": session.amount_charged,
        "streamUrl": stream_url(session),
        "hlsUrl": hls_url(session),
        "videoDetails": session.video,
    }


def stream_url(session: StreamSession) -> str:
    return f"/api/stream/url/{session.id}"


def hls_url(session: StreamSession) -> str | None:
    if not session.hls_path:
        return None
    return f"/api/stream/url/{session.id}/hls/{Path(session.hls_path).name}"
