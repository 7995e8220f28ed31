"""What the streaming service answers about a session: one serializer per shape, which renders
the answer and documents it in the OpenAPI schema.

Each renders a `selectors.SessionNow`: the session with its signed media URLs, its paid edge
and its billable seconds, all taken at one instant.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.payloads import IsoDateTimeField, MessageField
from playback.models import EndReason, SessionStatus

SESSION_NUMBER_HELP = (
    "The session's integer name, for clients of the original system's GraphQL; "
    "`POST /api/stream/end/{number}` takes it too."
)


@extend_schema_field({"type": "string", "enum": EndReason.values}, component_name="EndReason")
class EndReasonField(serializers.CharField):
    def to_representation(self, value):
        return value or None


class VideoDetailsSerializer(serializers.Serializer):
    """The video as it was when the session started (from the video service)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    category = serializers.CharField()
    duration = serializers.FloatField()
    pricePerMinute = serializers.IntegerField()
    filename = serializers.CharField()
    status = serializers.CharField()
    uploadedBy = serializers.IntegerField()
    thumbnailUrl = serializers.CharField(allow_null=True)
    createdAt = serializers.CharField()
    updatedAt = serializers.CharField()


class MediaUrlsSerializer(serializers.Serializer):
    streamUrl = serializers.CharField(
        source="urls.streamUrl",
        help_text="Signed URL of the progressive MP4 (byte ranges), bound to the session.",
    )
    hlsUrl = serializers.CharField(
        source="urls.hlsUrl",
        allow_null=True,
        help_text="Signed URL of the HLS master playlist, if rendered.",
    )


class PaidMediaSerializer(MediaUrlsSerializer):
    paidSeconds = serializers.FloatField(
        source="edge.paid_seconds", help_text="Seconds of media paid: 60 per minute."
    )
    edgeSeconds = serializers.FloatField(
        source="edge.edge_seconds",
        help_text="Media up to here may be fetched: the paid time plus the read-ahead.",
    )


class SessionSerializer(MediaUrlsSerializer):
    sessionId = serializers.UUIDField(source="session.id")
    sessionNumber = serializers.IntegerField(source="session.number", help_text=SESSION_NUMBER_HELP)
    userId = serializers.IntegerField(source="session.user_id")
    videoId = serializers.IntegerField(source="session.video_id")
    status = serializers.ChoiceField(
        source="session.status", choices=[SessionStatus.ACTIVE, SessionStatus.ENDED]
    )
    startedAt = IsoDateTimeField(source="session.started_at")
    lastHeartbeatAt = IsoDateTimeField(source="session.last_heartbeat_at")
    endedAt = IsoDateTimeField(source="session.ended_at", allow_null=True)
    endReason = EndReasonField(source="session.end_reason", allow_null=True)
    watchedTime = serializers.FloatField(
        source="watched_seconds", help_text="Billable seconds so far."
    )
    minutesCharged = serializers.IntegerField(source="session.minutes_charged")
    pricePerMinute = serializers.IntegerField(source="session.price_per_minute")
    amountCharged = serializers.IntegerField(source="session.amount_charged")
    videoDetails = VideoDetailsSerializer(source="session.video")


class SessionEndedSerializer(SessionSerializer):
    message = MessageField("Stream session ended successfully")


class ActiveSessionsSerializer(serializers.Serializer):
    sessions = SessionSerializer(many=True)


class StreamStartedSerializer(PaidMediaSerializer):
    sessionId = serializers.UUIDField(source="session.id")
    sessionNumber = serializers.IntegerField(source="session.number", help_text=SESSION_NUMBER_HELP)
    userId = serializers.IntegerField(source="session.user_id")
    status = serializers.ChoiceField(source="session.status", choices=[SessionStatus.ACTIVE])
    startedAt = IsoDateTimeField(source="session.started_at")
    videoDetails = VideoDetailsSerializer(source="session.video")
    pricePerMinute = serializers.IntegerField(source="session.price_per_minute")
    minutesCharged = serializers.IntegerField(source="session.minutes_charged")
    charged = serializers.IntegerField(source="session.amount_charged")
    balance = serializers.IntegerField(
        source="session.last_balance", allow_null=True, help_text="Null for a free video."
    )


class HeartbeatSerializer(PaidMediaSerializer):
    message = MessageField("Heartbeat successful")
    sessionId = serializers.UUIDField(source="session.id")
    watchedTime = serializers.FloatField(source="watched_seconds")
    charged = serializers.IntegerField(source="session.amount_charged")
    minutesCharged = serializers.IntegerField(source="session.minutes_charged")
    balance = serializers.IntegerField(source="session.last_balance", allow_null=True)
