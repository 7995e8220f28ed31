"""Signed media URLs: short-lived capabilities bound to one session and one rendition.

    /api/stream/url/<session>/<expires>.<signature>/video.mp4
    /api/stream/url/<session>/<expires>.<signature>/hls/<file of the HLS rendition>

`signature` is an HMAC-SHA256 (django.core.signing) of the session id, the scope (`mp4` or
`hls`) and `expires` (Unix seconds), keyed with `STREAMING_MEDIA_URL_SECRET`, which no other
service holds. The signature sits in the path, before the HLS folder, so the relative segment
and variant URLs of a playlist resolve to URLs that carry it too: playlists are served as made.

A URL lives for the watch time left in its session plus `STREAMING_MEDIA_URL_GRACE_SECONDS`,
because a video element keeps the URL it was given from the first byte to the last (changing
`src` restarts playback): anything shorter would cut a paying viewer off mid-video. Every
heartbeat answers fresh URLs for a player that paused longer than that. Expiry is the outer
bound only: each request also checks that the session is live, so ending a session (or its
falling idle) refuses all its URLs at once.
"""

import math
import uuid
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare

from playback.models import StreamSession
from playback.services import PlaybackError, billable_seconds

MP4, HLS = "mp4", "hls"


class MediaUrlRefused(PlaybackError):
    """The media URL is unsigned, expired, or signed for another session or scope (403)."""

    status, message = 403, "Media URL refused"

    def details(self) -> list[dict]:
        return [
            {
                "message": f"{self}: use the streamUrl or hlsUrl of the session's start "
                "or of its latest heartbeat"
            }
        ]


def _signature(session_id: uuid.UUID, scope: str, expires: int) -> str:
    signer = signing.Signer(
        key=settings.STREAMING_MEDIA_URL_SECRET, salt="playback.media-url", algorithm="sha256"
    )
    return signer.signature(f"{session_id}/{scope}/{expires}")


def media_token_sign(*, session: StreamSession, scope: str, now: datetime) -> str:
    """`<expires>.<signature>` for `scope` of `session`, valid for its remaining watch time."""
    left = session.duration_seconds - billable_seconds(session, until=now)
    expires = math.ceil(now.timestamp() + left + settings.STREAMING_MEDIA_URL_GRACE_SECONDS)
    return f"{expires}.{_signature(session.id, scope, expires)}"


def media_token_check(*, session_id: uuid.UUID, scope: str, token: str, now: datetime) -> None:
    """Raise MediaUrlRefused unless `token` is this session's, for `scope`, and not expired."""
    expires, _, signature = token.partition(".")
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        raise MediaUrlRefused("the media URL is not signed")
    if not constant_time_compare(signature, _signature(session_id, scope, int(expires))):
        raise MediaUrlRefused("the media URL's signature does not match this session")
    if int(expires) < now.timestamp():
        raise MediaUrlRefused("the media URL has expired")


def media_urls_sign(*, session: StreamSession, now: datetime) -> dict:
    """The session's signed `streamUrl` and `hlsUrl` (None without an HLS rendition)."""
    base = f"/api/stream/url/{session.id}"
    stream = f"{base}/{media_token_sign(session=session, scope=MP4, now=now)}/video.mp4"
    if not session.hls_path:
        return {"streamUrl": stream, "hlsUrl": None}
    hls_token = media_token_sign(session=session, scope=HLS, now=now)
    master = session.hls_path.rsplit("/", 1)[-1]
    return {"streamUrl": stream, "hlsUrl": f"{base}/{hls_token}/hls/{master}"}
