"""`POST /api/saga/register` and `GET /api/saga/{id}`."""

import logging

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import error_body
from common.payloads import StrictCharField, StrictSerializer, parsed
from registration import clients, selectors, services
from registration.models import Saga

logger = logging.getLogger(__name__)


class RegisterSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(min_length=8, max_length=64, trim_whitespace=False)
    firstName = StrictCharField(min_length=2, max_length=50)  # noqa: N815 - seed field
    lastName = StrictCharField(min_length=2, max_length=50)  # noqa: N815 - seed field

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


def _answer(saga: Saga) -> Response:
    document = selectors.saga_document(saga)
    location = {"Location": f"/api/saga/{saga.id}"}
    if saga.status == Saga.Status.COMPLETED:
        return Response(document, status=status.HTTP_201_CREATED, headers=location)
    if saga.status in {Saga.Status.RUNNING, Saga.Status.COMPENSATING}:
        return Response(document, status=status.HTTP_202_ACCEPTED, headers=location)
    if saga.error_code == services.EMAIL_TAKEN:
        document["error"] = "Email already registered"
        return Response(document, status=status.HTTP_409_CONFLICT, headers=location)
    return Response(document, status=status.HTTP_502_BAD_GATEWAY, headers=location)


class SagaRegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RegisterSerializer,
        responses={
            201: OpenApiResponse(description="User, wallet and profile created"),
            202: OpenApiResponse(description="Still running: poll the Location"),
            400: OpenApiResponse(description="Invalid body"),
            409: OpenApiResponse(description="Email already registered"),
            502: OpenApiResponse(
                description="A step failed (every done step was undone), or auth refused"
            ),
            503: OpenApiResponse(description="Auth cannot take the password now; nothing started"),
        },
    )
    def post(self, request):
        data = parsed(RegisterSerializer, request.data)
        try:
            saga = services.saga_start(
                email=data["email"],
                password=data["password"],
                first_name=data["firstName"],
                last_name=data["lastName"],
            )
        except clients.CredentialRefused:
            # Auth's reason names internals (credentials, scopes): the log keeps it.
            logger.exception("registration refused by auth")
            return Response(
                error_body("Registration is unavailable"), status=status.HTTP_502_BAD_GATEWAY
            )
        saga = services.saga_wait(saga_id=saga.id, timeout=settings.SAGA_WAIT_SECONDS)
        return _answer(saga)


class SagaDetailView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: OpenApiResponse(description="The saga and its steps")})
    def get(self, request, saga_id):
        saga = selectors.saga_get(saga_id=saga_id)
        if saga is None:
            return Response(error_body("Saga not found"), status=status.HTTP_404_NOT_FOUND)
        return Response(selectors.saga_document(saga))
