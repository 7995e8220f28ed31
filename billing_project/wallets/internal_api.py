"""Billing's internal routes: wallets opened and closed by the registration saga, charges and
refunds by streaming; service tokens only."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from common.auth.views import InternalView
from common.openapi import (
    BODY_TOO_LARGE,
    INTERNAL,
    SERVICE_TOKEN_ERRORS,
    ErrorSerializer,
    error_responses,
)
from common.payloads import (
    MAX_BIGINT,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    parsed,
)
from wallets import services
from wallets.api import MAX_KEY_LENGTH
from wallets.responses import (
    ChargedSerializer,
    RefundedSerializer,
    WalletAccountSerializer,
    WalletDeletedSerializer,
)


class InsufficientFundsSerializer(ErrorSerializer):
    """402: the balance that cannot pay (details also hold `balance` and `required`)."""

    balance = serializers.IntegerField()


class AccountSerializer(StrictSerializer):
    userId = StrictIntegerField(min_value=1)


class AccountCreateView(InternalView):
    service_scope = "billing.accounts"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Ensure a user has a wallet (saga step)",
        tags=[INTERNAL],
        request=AccountSerializer,
        responses={
            201: OpenApiResponse(WalletAccountSerializer, description="Created"),
            200: OpenApiResponse(WalletAccountSerializer, description="It already existed"),
            **error_responses({400: "Invalid body", **SERVICE_TOKEN_ERRORS, **BODY_TOO_LARGE}),
        },
    )
    def post(self, request):
        data = parsed(AccountSerializer, request.data)
        wallet, created = services.wallet_create(user_id=data["userId"])
        return Response(
            WalletAccountSerializer({"wallet": wallet, "created": created}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AccountDeleteView(InternalView):
    service_scope = "billing.accounts"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Delete an empty wallet (saga compensation)",
        tags=[INTERNAL],
        responses={
            200: WalletDeletedSerializer,
            **error_responses(
                {
                    **SERVICE_TOKEN_ERRORS,
                    404: "The id is out of range",
                    409: "The wallet has ledger entries",
                }
            ),
        },
    )
    def delete(self, request, user_id: int):
        if user_id > MAX_BIGINT:
            raise NotFound("No such account")
        deleted = services.wallet_delete(user_id=user_id)
        return Response(WalletDeletedSerializer({"userId": user_id, "deleted": deleted}).data)


class ChargeSerializer(StrictSerializer):
    userId = StrictIntegerField(min_value=1)
    amount = StrictIntegerField(min_value=1)
    idempotencyKey = StrictCharField(max_length=MAX_KEY_LENGTH)
    videoId = StrictIntegerField(min_value=1, required=False, allow_null=True, default=None)
    sessionId = StrictCharField(max_length=64, required=False, default="")
    description = StrictCharField(max_length=200, required=False, default="")


class ChargeView(InternalView):
    """Debit a wallet once per idempotency key: 201 charged, 200 replayed, 402 short of funds."""

    service_scope = "billing.charge"
    service_callers = {"streaming"}

    @extend_schema(
        summary="Charge a wallet once per idempotency key",
        tags=[INTERNAL],
        request=ChargeSerializer,
        responses={
            201: OpenApiResponse(ChargedSerializer, description="Charged"),
            200: OpenApiResponse(ChargedSerializer, description="Replayed: already charged"),
            402: OpenApiResponse(InsufficientFundsSerializer, description="Insufficient funds"),
            **error_responses(
                {
                    400: "Invalid body",
                    **SERVICE_TOKEN_ERRORS,
                    409: "Idempotency key already used for another charge",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def post(self, request):
        data = parsed(ChargeSerializer, request.data)
        posted = services.charge_create(
            user_id=data["userId"],
            amount=data["amount"],
            idempotency_key=data["idempotencyKey"],
            video_id=data["videoId"],
            session_id=data["sessionId"],
            description=data["description"],
        )
        return Response(
            ChargedSerializer(posted).data,
            status=status.HTTP_200_OK if posted.replayed else status.HTTP_201_CREATED,
        )


class RefundSerializer(StrictSerializer):
    idempotencyKey = StrictCharField(max_length=MAX_KEY_LENGTH)
    reason = StrictCharField(max_length=200, required=False, default="")


class RefundView(InternalView):
    """Give back the charge made with a key, once; `refunded: false` when there is none."""

    service_scope = "billing.charge"
    service_callers = {"streaming"}

    @extend_schema(
        summary="Refund the charge made with an idempotency key, once",
        tags=[INTERNAL],
        request=RefundSerializer,
        responses={
            200: RefundedSerializer,
            **error_responses({400: "Invalid body", **SERVICE_TOKEN_ERRORS, **BODY_TOO_LARGE}),
        },
    )
    def post(self, request):
        data = parsed(RefundSerializer, request.data)
        posted = services.charge_refund(
            idempotency_key=data["idempotencyKey"], reason=data["reason"]
        )
        return Response(RefundedSerializer().to_representation(posted))
