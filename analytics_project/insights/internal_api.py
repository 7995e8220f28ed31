"""Internal routes: the registration saga's profile step and compensation over HTTP (its
Celery steps call the same services); service tokens only."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from common.auth.views import InternalView
from common.openapi import BODY_TOO_LARGE, INTERNAL, SERVICE_TOKEN_ERRORS, error_responses
from common.payloads import parsed
from insights import commands
from insights.inputs import ProfileCreateSerializer, SagaIdSerializer
from insights.responses import ProfileCreatedSerializer, ProfileDeletedSerializer


class InternalProfilesView(InternalView):
    service_scope = "analytics.profiles"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Create a viewer profile (saga step; the same saga creates it once)",
        tags=[INTERNAL],
        request=ProfileCreateSerializer,
        responses={
            201: ProfileCreatedSerializer,
            **error_responses({400: "Invalid body", **SERVICE_TOKEN_ERRORS, **BODY_TOO_LARGE}),
        },
    )
    def post(self, request):
        data = parsed(ProfileCreateSerializer, request.data)
        created = commands.profile_create(
            saga_id=data["sagaId"], user_id=data["userId"], email=data["email"]
        )
        answer = ProfileCreatedSerializer({"created": created, "userId": data["userId"]})
        return Response(answer.data, status=status.HTTP_201_CREATED)


class InternalProfileView(InternalView):
    service_scope = "analytics.profiles"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Delete a viewer profile (saga compensation)",
        tags=[INTERNAL],
        parameters=[SagaIdSerializer],
        responses={
            200: ProfileDeletedSerializer,
            **error_responses({400: "sagaId missing or too long", **SERVICE_TOKEN_ERRORS}),
        },
    )
    def delete(self, request, user_id: int):
        data = parsed(SagaIdSerializer, request.query_params)
        deleted = commands.profile_delete(saga_id=data["sagaId"], user_id=user_id)
        return Response(ProfileDeletedSerializer({"deleted": deleted}).data)
