"""REST adapters of the streaming service; domain errors become status codes in `PlaybackView`."""

from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import error_body
from playback import clients, selectors, services
from playback.ranges import MalformedRange, UnsatisfiableRange
from playback.streaming import file_response


def _error(code: int, message: str, **extra) -> Response:
    return Response({**error_body(message), **extra}, status=code)


class PlaybackView(APIView):
    """Maps every playback error to its HTTP answer, once for all views."""

    def handle_exception(self, exc):
        if isinstance(exc, services.SessionNotFound):
            return _error(404, "Session not found")
        if isinstance(exc, clients.VideoNotFound):
            return _error(404, "Video not found")
        if isinstance(exc, services.SessionEnded):
            return _error(410, "Session has ended", reason=exc.session.end_reason)
        if isinstance(exc, services.VideoNotReady):
            return _error(409, str(exc))
        if isinstance(exc, services.PaymentRequired):
            return _error(
                402,
                "Insufficient funds",
                balance=exc.balance,
                sessionEnded=exc.session is not None,
            )
        if isinstance(exc, clients.UpstreamUnavailable):
            response = Response(exc.error_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE)
            response["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, clients.BillingRefused):
            # Billing rejected a request we built: our bug, reported as a bad upstream exchange.
            return _error(
                502, "Billing refused the charge request", details=[{"message": str(exc)}]
            )
        if isinstance(exc, selectors.MediaMissing):
            return _error(404, "Media file not found")
        if isinstance(exc, MalformedRange):
            return _error(400, "Malformed Range header", details=[{"range": str(exc)}])
        if isinstance(exc, UnsatisfiableRange):
            response = _error(416, "Range not satisfiable", size=exc.size)
            response["Content-Range"] = f"bytes */{exc.size}"
            return response
        return super().handle_exception(exc)


def _user_id(request) -> int:
    return int(request.user.id)


class StartView(PlaybackView):
    def post(self, request, video_id: int):
        session = services.session_start(user_id=_user_id(request), video_id=video_id)
        return Response(
            {
                "sessionId": str(session.id),
                "streamUrl": selectors.stream_url(session),
                "hlsUrl": selectors.hls_url(session),
                "videoDetails": session.video,
                "pricePerMinute": session.price_per_minute,
                "minutesCharged": session.minutes_charged,
                "charged": session.amount_charged,
                "balance": session.last_balance,
            }
        )


class HeartbeatView(PlaybackView):
    def put(self, request, session_id):
        beat = services.session_heartbeat(session_id=session_id, user_id=_user_id(request))
        session = beat.session
        return Response(
            {
                "sessionId": str(session.id),
                "watchedTime": round(beat.watched_seconds, 3),
                "charged": session.amount_charged,
                "minutesCharged": session.minutes_charged,
                "balance": session.last_balance,
            }
        )


class EndView(PlaybackView):
    def post(self, request, session_id):
        session = services.session_end(session_id=session_id, user_id=_user_id(request))
        return Response({"message": "Stream ended", **selectors.session_payload(session)})


class ActiveSessionsView(PlaybackView):
    def get(self, request):
        sessions = selectors.session_list_active(user_id=_user_id(request))
        return Response({"sessions": [selectors.session_payload(s) for s in sessions]})


class MediaView(PlaybackView):
    """Bytes of a live session. The unguessable session id is the capability (a video element
    sends no Authorization header); a caller who does send a user token must own the session."""

    permission_classes = [AllowAny]

    def get(self, request, session_id, name: str | None = None):
        user_id = _user_id(request) if request.user else None
        session = selectors.session_for_bytes(session_id=session_id, user_id=user_id)
        if name is None:
            path, content_type = selectors.media_file(session), "video/mp4"
        else:
            path, content_type = selectors.hls_file(session, name)
        return file_response(
            path=path, content_type=content_type, range_header=request.headers.get("Range")
        )
