"""What the catalog answers: one serializer per shape, which renders the answer and documents it
in the OpenAPI schema."""

from rest_framework import serializers

from catalog.models import Video, VideoStatus
from common.payloads import IsoDateTimeField, MessageField


class VideoSerializer(serializers.Serializer):
    """The video as the REST API and the gateway show it."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    category = serializers.CharField()
    duration = serializers.FloatField(allow_null=True, help_text="Seconds; null until probed.")
    pricePerMinute = serializers.IntegerField(
        source="price_per_minute", help_text="Cents per started minute."
    )
    filename = serializers.CharField(
        help_text="The file a player is served: the MP4 once ready, the upload before."
    )
    status = serializers.ChoiceField(choices=VideoStatus.choices)
    uploadedBy = serializers.IntegerField(source="uploaded_by")
    thumbnailUrl = serializers.CharField(source="thumbnail_url", allow_null=True)
    processingError = serializers.SerializerMethodField()
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")

    def get_processingError(self, video: Video) -> str | None:  # noqa: N802 - the answer's name
        return video.processing_error or None


class VideoPageSerializer(serializers.Serializer):
    videos = VideoSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()


class VideoUpdatedSerializer(VideoSerializer):
    message = MessageField("Video updated successfully")


class VideoUploadedSerializer(VideoUpdatedSerializer):
    message = MessageField("Video uploaded successfully")
    # The original answered `{message, video}`; its clients read those beside ours.
    video = VideoSerializer(
        source="*", help_text="The same video again, where the original put it."
    )


class VideoDeletedSerializer(serializers.Serializer):
    message = MessageField("Video deleted")
    id = serializers.IntegerField()
