"""Internal routes: the registration saga's profile step and compensation over HTTP (its
Celery steps call the same services); service tokens only."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from common.auth.views import InternalView
from common.openapi import BODY_TOO_LARGE, INTERNAL, SERVICE_TOKEN_ERRORS, error_responses
from insights import commands
from insights.inputs import ProfileCreateSerializer, SagaIdSerializer, parse


class InternalProfilesView(InternalView):
    service_scope = "analytics.profiles"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Create a viewer profile (saga step; the same saga creates it once)",
        tags=[INTERNAL],
        request=ProfileCreateSerializer,
        responses={
            201: inline_serializer(
                "ProfileCreated",
                {
                    "message": serializers.CharField(),
                    "userId": serializers.IntegerField(),
                    "analyticsCreated": serializers.BooleanField(),
                },
            ),
            **error_responses({400: "Invalid body", **SERVICE_TOKEN_ERRORS, **BODY_TOO_LARGE}),
        },
    )
    def post(self, request):
        data = parse(ProfileCreateSerializer, request.data)
        created = commands.profile_create(
            saga_id=data["sagaId"], user_id=data["userId"], email=data["email"]
        )
        message = (
            "Analytics profile created successfully"
            if created
            else "Analytics profile already exists"
        )
        # The profile exists after either answer: a repeat of the saga's step is no failure.
        return Response(
            {"message": message, "userId": data["userId"], "analyticsCreated": True},
            status=status.HTTP_201_CREATED,
        )


class InternalProfileView(InternalView):
    service_scope = "analytics.profiles"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Delete a viewer profile (saga compensation)",
        tags=[INTERNAL],
        parameters=[SagaIdSerializer],
        responses={
            200: inline_serializer(
                "ProfileDeleted",
                {"message": serializers.CharField(), "deleted": serializers.BooleanField()},
            ),
            **error_responses({400: "sagaId missing or too long", **SERVICE_TOKEN_ERRORS}),
        },
    )
    def delete(self, request, user_id: int):
        data = parse(SagaIdSerializer, request.query_params)
        deleted = commands.profile_delete(saga_id=data["sagaId"], user_id=user_id)
        message = "Analytics profile deleted successfully" if deleted else "No such profile"
        return Response({"message": message, "deleted": deleted})
