"""OpenAPI pieces every service's schema shares: the one error body and responses built on it.

Documentation only: nothing here parses a request or shapes an answer (`common.errors` does).
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from common.auth.openapi import UserTokenScheme

INTERNAL = "internal"

USER_TOKEN_ERRORS = {
    401: "No bearer token",
    403: "The bearer token is invalid or expired",
}
SERVICE_TOKEN_ERRORS = {
    401: "No service credential",
    403: "The service token is invalid, or lacks the route's scope",
}
BODY_TOO_LARGE = {413: "The body is larger than the service accepts"}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Repeating a request with the same key answers the first result again.",
)


class DerivedUserTokenScheme(UserTokenScheme):
    """A service's stricter check of the user token (e.g. auth's ActiveUserTokenAuthentication)
    still takes the same credential, so it is documented as the same scheme."""

    match_subclasses = True


class UploadedFileField(OpenApiSerializerFieldExtension):
    """A file field in a request body is the file's bytes; drf-spectacular calls it a URI
    unless request and response components are split (COMPONENT_SPLIT_REQUEST)."""

    target_class = "rest_framework.fields.FileField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return build_basic_type(OpenApiTypes.BINARY)
        return auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer: a message and a list of details (field errors, ...)."""

    error = serializers.CharField()
    details = serializers.ListField(child=serializers.DictField())


class UpstreamUnavailableSerializer(ErrorSerializer):
    """503 body when a service this one depends on cannot answer (`common.breakers`)."""

    service = serializers.CharField()
    retryAfter = serializers.IntegerField(help_text="Seconds; also sent as Retry-After.")


def error_responses(
    descriptions: dict[int, str], body=ErrorSerializer
) -> dict[int, OpenApiResponse]:
    """`{status: description}` as OpenAPI responses whose body is `body` (the shared error)."""
    return {code: OpenApiResponse(body, description=text) for code, text in descriptions.items()}


def message_serializer(name: str, **fields: serializers.Field) -> serializers.Serializer:
    """Component `name`: a success answer `{"message": str, **fields}`."""
    return inline_serializer(name, {"message": serializers.CharField(), **fields})
