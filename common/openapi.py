"""OpenAPI pieces every service's schema shares: our two credentials, the one error body and
responses built on it. `CommonConfig.ready` imports this module so the extensions register.

Documentation only: nothing here parses a request or shapes an answer (`common.errors` does).
"""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_basic_type, get_class, get_doc
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

INTERNAL = "internal"

USER_TOKEN_ERRORS = {
    401: "No bearer token",
    403: "The bearer token is invalid or expired",
}
SERVICE_TOKEN_ERRORS = {
    401: "No service credential",
    403: "The service token is invalid, lacks the route's scope, or comes from a service the "
    "route does not accept",
}
BODY_TOO_LARGE = {413: "The body is larger than the service accepts"}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Repeating a request with the same key answers the first result again.",
)

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[503],
    description="Seconds before the upstream may answer again.",
)


class UserTokenScheme(OpenApiAuthenticationExtension):
    # Subclasses (auth's stricter ActiveUserTokenAuthentication) take the same credential.
    target_class = "common.auth.authentication.UserTokenAuthentication"
    match_subclasses = True
    name = "userToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access token from POST /api/auth/login (RS256, signed by auth).",
        }


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "common.auth.authentication.ServiceTokenAuthentication"
    name = "serviceToken"

    def get_security_definition(self, auto_schema):
        # Not a bearer token: the header is `Authorization: Service <token>`.
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Internal routes only: `Service <token>`, a service credential "
            "minted for this service with the route's scope and signed with the calling "
            "service's own key (EdDSA); each route accepts only the services it names.",
        }


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


class ErrorWithExtraKeys(OpenApiSerializerExtension):
    """A subclass of ErrorSerializer is `Error` plus its own keys (allOf), so the shared body
    stays one component instead of being copied into each error that adds a key."""

    target_class = ErrorSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if get_class(self.target) is ErrorSerializer:
            return schema
        shared = set(ErrorSerializer().fields)
        extra = {k: v for k, v in schema["properties"].items() if k not in shared}
        required = [k for k in schema.get("required", []) if k not in shared]
        own = {"type": "object", "properties": extra, "required": required}
        doc = get_doc(get_class(self.target))
        if doc:
            own["description"] = doc
        error = auto_schema.resolve_serializer(ErrorSerializer, direction)
        return {"allOf": [error.ref, own]}


class UpstreamUnavailableSerializer(ErrorSerializer):
    """503 body when a service this one depends on cannot answer (`common.breakers`)."""

    service = serializers.CharField()
    retryAfter = serializers.IntegerField(help_text="Seconds; also sent as Retry-After.")


def error_responses(
    descriptions: dict[int, str], body=ErrorSerializer
) -> dict[int, OpenApiResponse]:
    """`{status: description}` as OpenAPI responses whose body is `body` (the shared error)."""
    return {code: OpenApiResponse(body, description=text) for code, text in descriptions.items()}
