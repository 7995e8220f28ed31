"""Reads of playback sessions, and which stored media files a session may be served."""

import posixpath
import uuid
from dataclasses import dataclass

from django.core.exceptions import SuspiciousFileOperation

from common import media_storage
from common.errors import DomainError
from common.media_storage import MediaObject
from playback import capabilities, clock, hls, paywall
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


class MediaMissing(DomainError):
    """The session's file is not in the media storage (or its name escapes its folder)."""

    status, message = 404, "Media file not found"


def session_list_active(*, user_id: int) -> list[StreamSession]:
    now = clock.now()
    sessions = StreamSession.objects.filter(user_id=user_id, status=SessionStatus.ACTIVE)
    return [s for s in sessions.order_by("-started_at") if session_is_live(s, now=now)]


def session_for_media(*, session_id: uuid.UUID, scope: str, token: str | None) -> StreamSession:
    """The live session whose signed media URL this is; the signed URL is the capability.

    The signature is checked before the database is read: a forged URL costs no query.
    """
    now = clock.now()
    if token is None:
        raise capabilities.MediaUrlRefused("the media URL is not signed")
    capabilities.media_token_check(session_id=session_id, scope=scope, token=token, now=now)
    session = StreamSession.objects.exclude(status=SessionStatus.STARTING).filter(pk=session_id)
    session = session.first()
    if session is None:
        raise SessionNotFound(session_id)
    if not session_is_live(session, now=now):
        raise SessionEnded(session)
    return session


def media_file(session: StreamSession) -> MediaObject:
    return _stored(session.media_path)


def hls_file(session: StreamSession, name: str) -> tuple[MediaObject, str]:
    """A file of the session's HLS rendition and its content type, if its time is paid for.

    Playlists are always served; a media file only once `paywall.segment_check` allows its
    start time. A name no playlist of the rendition lists is missing, whatever is stored.
    """
    if not session.hls_path:
        raise MediaMissing("this video has no HLS rendition")
    master = _stored(session.hls_path)
    folder = posixpath.dirname(master.name)
    rendition = hls.hls_rendition_read(folder=folder, version=master.version)
    if name not in rendition.playlists:
        if name not in rendition.starts:
            raise MediaMissing(name)
        paywall.segment_check(session=session, starts_at=rendition.starts[name])
    content_type = HLS_CONTENT_TYPES.get(posixpath.splitext(name)[1].lower())
    if content_type is None:
        raise MediaMissing(f"not an HLS file: {name}")
    return _stored(f"{folder}/{name}"), content_type


def _stored(relative: str) -> MediaObject:
    # Names come from another service and URLs: normalise, refuse anything that escapes.
    name = posixpath.normpath(relative or ".")
    if name == "." or name.startswith(("../", "/")) or name == "..":
        raise MediaMissing(relative)
    try:
        return media_storage.stat_media(name)
    except (media_storage.MediaMissing, SuspiciousFileOperation) as exc:
        raise MediaMissing(relative) from exc


@dataclass(frozen=True)
class SessionNow:
    """A session as one answer shows it: its signed media URLs, its paid edge and its billable
    seconds, all taken at the same instant."""

    session: StreamSession
    urls: dict
    edge: paywall.PaidEdge
    watched_seconds: float


def session_now(session: StreamSession, *, watched_seconds: float | None = None) -> SessionNow:
    now = clock.now()
    if watched_seconds is None:
        watched_seconds = billable_seconds(session, until=session.ended_at or now)
    return SessionNow(
        session=session,
        urls=capabilities.media_urls_sign(session=session, now=now),
        edge=paywall.paid_edge_get(session=session),
        watched_seconds=round(watched_seconds, 3),
    )
