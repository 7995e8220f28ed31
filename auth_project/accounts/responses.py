"""What auth answers about a user: one serializer per shape, which renders the answer and
documents it in the OpenAPI schema."""

from rest_framework import serializers

from common.payloads import IsoDateTimeField, MessageField


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
    token = serializers.CharField(
        source="access", help_text="Access token (RS256 JWT) for `Authorization: Bearer`."
    )
    refreshToken = serializers.CharField(
        source="refresh", help_text="Single use: refreshing rotates it."
    )


class RegisteredSerializer(serializers.Serializer):
    message = MessageField("User registered successfully")
    user = UserSerializer(source="*")


class LoggedInSerializer(serializers.Serializer):
    message = MessageField("Login successful")
    token = serializers.CharField(source="access")
    refreshToken = serializers.CharField(source="refresh")


class LoggedOutSerializer(serializers.Serializer):
    message = MessageField("Logged out: the refresh token is revoked")


class ProfileUpdatedSerializer(serializers.Serializer):
    message = MessageField("Profile updated successfully")
    user = UserProfileSerializer(source="*")


class UserDeletedSerializer(serializers.Serializer):
    message = serializers.CharField()
    userId = serializers.IntegerField()
    deleted = serializers.BooleanField(help_text="False: there was no such user")


class PendingCredentialHeldSerializer(serializers.Serializer):
    credentialRef = serializers.UUIDField(source="ref")
    expiresAt = IsoDateTimeField(source="expires_at")
