"""REST adapters of the streaming service; its refusals are `DomainError`s, answered by the one
exception handler (`common.errors`) with the status each names."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import caller_id
from common.openapi import (
    RETRY_AFTER,
    USER_TOKEN_ERRORS,
    ErrorSerializer,
    UpstreamUnavailableSerializer,
    error_responses,
)
from playback import capabilities, paywall, selectors, services
from playback.responses import (
    ActiveSessionsSerializer,
    EndReasonField,
    HeartbeatSerializer,
    SessionEndedSerializer,
    StreamStartedSerializer,
)
from playback.streaming import file_response


class PaymentRequiredSerializer(ErrorSerializer):
    """402: the wallet's balance, and whether the session was ended for it."""

    balance = serializers.IntegerField(allow_null=True)
    sessionEnded = serializers.BooleanField()


class SessionGoneSerializer(ErrorSerializer):
    """410: why the session ended."""

    reason = EndReasonField()


class RangeNotSatisfiableSerializer(ErrorSerializer):
    """416: the size of the file the range missed."""

    size = serializers.IntegerField(help_text="The file's size in bytes.")


class NotPaidYetSerializer(ErrorSerializer):
    """402: the media asked for lies past the paid edge."""

    paidSeconds = serializers.FloatField()
    edgeSeconds = serializers.FloatField(help_text="Media before this time may be fetched.")
    edgeByte = serializers.IntegerField(
        allow_null=True, help_text="MP4: the first byte of media past the edge."
    )


_SESSION_NOT_FOUND = {404: "No such session, or not the caller's"}


def _upstream_errors(unavailable: str) -> dict:
    return {
        502: OpenApiResponse(ErrorSerializer, description="Billing refused the charge request"),
        503: OpenApiResponse(UpstreamUnavailableSerializer, description=unavailable),
    }


_PAYMENT_REQUIRED = OpenApiResponse(
    PaymentRequiredSerializer, description="The wallet cannot pay the minute due"
)
_SESSION_GONE = OpenApiResponse(SessionGoneSerializer, description="The session has ended")


class _MediaSchema(AutoSchema):
    """The MP4, HLS and unsigned routes share `MediaView`, not their summary or answers."""

    def _hls(self) -> bool:
        return "{name}" in self.path

    def _signed(self) -> bool:
        return "{token}" in self.path

    def get_operation_id(self):
        if not self._signed():
            return "stream_url_unsigned_retrieve"
        return "stream_url_hls_retrieve" if self._hls() else "stream_url_mp4_retrieve"

    def get_summary(self):
        if not self._signed():
            return "Refused: media is served only at the signed URLs a session hands out"
        if self._hls():
            return "A file of a live session's HLS rendition, as far as it is paid"
        return "A live session's MP4, one byte range or whole, as far as it is paid"

    def get_description(self):
        return (
            "`token` is `<expires>.<signature>`, from the streamUrl/hlsUrl of the session's "
            "start or heartbeat. Media is served up to the paid time (60 s per charged minute) "
            "plus the read-ahead; MP4 header boxes always. A range that starts before that "
            "edge is answered up to it (206); one past it answers 402."
        )

    def get_response_serializers(self):
        refused = {403: "The URL is unsigned, expired, or signed for another session or rendition"}
        if not self._signed():
            return error_responses(refused)
        if self._hls():
            content_types = sorted(set(selectors.HLS_CONTENT_TYPES.values()))
        else:
            content_types = ["video/mp4"]
        whole = OpenApiResponse(OpenApiTypes.BINARY, description="The whole file")
        part = OpenApiResponse(
            OpenApiTypes.BINARY, description="The byte range asked for, up to the paid edge"
        )
        return {
            **{(200, content_type): whole for content_type in content_types},
            **{(206, content_type): part for content_type in content_types},
            **error_responses(
                {
                    **refused,
                    400: "Malformed Range header",
                    404: "No such session, or no such media file",
                }
            ),
            402: OpenApiResponse(
                NotPaidYetSerializer, description="The media asked for is past the paid edge"
            ),
            410: _SESSION_GONE,
            416: OpenApiResponse(
                RangeNotSatisfiableSerializer, description="The range lies outside the file"
            ),
        }


class StartView(APIView):
    @extend_schema(
        summary="Start watching a ready video; its first minute is charged now",
        description="No session is kept when the first minute cannot be charged.",
        request=None,
        parameters=[RETRY_AFTER],
        responses={
            200: StreamStartedSerializer,
            **error_responses(
                {
                    **USER_TOKEN_ERRORS,
                    404: "No such video",
                    409: "The video is not ready to stream",
                }
            ),
            402: _PAYMENT_REQUIRED,
            **_upstream_errors("The video service or billing is unavailable"),
        },
    )
    def post(self, request, video_id: int):
        session = services.session_start(user_id=caller_id(request), video_id=video_id)
        return Response(StreamStartedSerializer(selectors.session_now(session)).data)


class HeartbeatView(APIView):
    @extend_schema(
        summary="Keep a session alive and charge every minute now due",
        description="A session silent past the idle timeout, or whose wallet cannot pay a "
        "minute, is ended instead.",
        request=None,
        parameters=[RETRY_AFTER],
        responses={
            200: HeartbeatSerializer,
            **error_responses({**USER_TOKEN_ERRORS, **_SESSION_NOT_FOUND}),
            402: _PAYMENT_REQUIRED,
            410: _SESSION_GONE,
            **_upstream_errors("Billing is unavailable"),
        },
    )
    def put(self, request, session_id):
        beat = services.session_heartbeat(session_id=session_id, user_id=caller_id(request))
        now = selectors.session_now(beat.session, watched_seconds=beat.watched_seconds)
        return Response(HeartbeatSerializer(now).data)


class EndView(APIView):
    @extend_schema(
        summary="End a session, charging what is due",
        description="Ending an ended session answers it unchanged. When the wallet cannot pay "
        "the last minutes, the session still ends, with what was paid.",
        request=None,
        parameters=[RETRY_AFTER],
        responses={
            200: SessionEndedSerializer,
            **error_responses({**USER_TOKEN_ERRORS, **_SESSION_NOT_FOUND}),
            **_upstream_errors("Billing is unavailable"),
        },
    )
    def post(self, request, session_id):
        session = services.session_end(session_id=session_id, user_id=caller_id(request))
        return Response(SessionEndedSerializer(selectors.session_now(session)).data)


class ActiveSessionsView(APIView):
    @extend_schema(
        summary="The caller's live sessions, newest first",
        description="Active sessions whose last heartbeat is within the idle timeout.",
        responses={200: ActiveSessionsSerializer, **error_responses(USER_TOKEN_ERRORS)},
    )
    def get(self, request):
        sessions = selectors.session_list_active(user_id=caller_id(request))
        views = [selectors.session_now(s) for s in sessions]
        return Response(ActiveSessionsSerializer({"sessions": views}).data)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "Range",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="One byte range, e.g. `bytes=0-1023` or `bytes=-500` (206). Several "
            "ranges are answered as a request for the whole file.",
        ),
        OpenApiParameter(
            "Content-Range",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[206, 416],
            description="`bytes start-end/size` (206), `bytes */size` (416).",
        ),
        OpenApiParameter(
            "Accept-Ranges", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200, 206]
        ),
    ],
)
class MediaView(APIView):
    """Media of a live session at its signed URL (`playback.capabilities`), only as far as it
    is paid (`playback.paywall`). A video element sends no Authorization header: the signed URL
    is the capability, and no user token is read."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = _MediaSchema()

    def get(self, request, session_id, token: str | None = None, name: str | None = None):
        scope = capabilities.MP4 if name is None else capabilities.HLS
        session = selectors.session_for_media(session_id=session_id, scope=scope, token=token)
        if name is None:
            media = selectors.media_file(session)
            return file_response(
                media=media,
                content_type="video/mp4",
                range_header=request.headers.get("Range"),
                clamp=paywall.mp4_window_get(session=session, media=media).clamp,
            )
        media, content_type = selectors.hls_file(session, name)
        return file_response(
            media=media, content_type=content_type, range_header=request.headers.get("Range")
        )

    def finalize_response(self, request, response, *args, **kwargs):
        # Refusals too: a 404 or 410 kept by a cache would outlive the session's state.
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response
