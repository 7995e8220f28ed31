"""What auth answers about a user: one serializer per shape, which renders the answer and
documents it in the OpenAPI schema."""

from rest_framework import serializers

from common.payloads import IsoDateTimeField


class UserSerializer(serializers.Serializer):
    """The user as the REST API shows it."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")


class UserProfileSerializer(UserSerializer):
    # The original's profile named the id `_id`; its clients (the profile page) read that.
    _id = serializers.IntegerField(
        source="id", help_text="`id` again, under the original system's name."
    )
    isStaff = serializers.BooleanField(source="is_staff")
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")


class TokenPairSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Access token (RS256 JWT) for `Authorization: Bearer`.")
    refreshToken = serializers.CharField(help_text="Single use: refreshing rotates it.")
