"""REST adapters of the billing service: parse, call one service or selector, shape the answer."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import caller_id
from common.openapi import (
    BODY_TOO_LARGE,
    IDEMPOTENCY_KEY,
    USER_TOKEN_ERRORS,
    error_responses,
)
from common.payloads import MAX_BIGINT, StrictIntegerField, StrictSerializer, parsed
from wallets import selectors, services
from wallets.responses import (
    BalanceSerializer,
    DepositedSerializer,
    RevenueTotalSerializer,
    TransactionPageSerializer,
)

MAX_KEY_LENGTH = 200


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {"Idempotency-Key": f"must be 1-{MAX_KEY_LENGTH} printable ASCII characters"}
        )
    return key


class BalanceView(APIView):
    @extend_schema(
        summary="The caller's balance in cents (0 without a wallet)",
        responses={
            200: BalanceSerializer,
            **error_responses(USER_TOKEN_ERRORS),
        },
    )
    def get(self, request):
        user_id = caller_id(request)
        balance = selectors.wallet_balance_get(user_id=user_id)
        return Response(BalanceSerializer({"userId": user_id, "balance": balance}).data)


class DepositSerializer(StrictSerializer):
    amount = StrictIntegerField(min_value=1)

    def validate_amount(self, value):
        if value > settings.BILLING_MAX_DEPOSIT:
            raise ValidationError(f"At most {settings.BILLING_MAX_DEPOSIT} cents per deposit.")
        return value


class DepositView(APIView):
    @extend_schema(
        summary="Add funds to the caller's wallet",
        request=DepositSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: DepositedSerializer,
            **error_responses(
                {
                    400: "Invalid amount or Idempotency-Key",
                    **USER_TOKEN_ERRORS,
                    409: "Idempotency-Key already used for another amount",
                    **BODY_TOO_LARGE,
                }
            ),
        },
    )
    def post(self, request):
        data = parsed(DepositSerializer, request.data)
        posted = services.deposit_create(
            user_id=caller_id(request),
            amount=data["amount"],
            idempotency_key=_idempotency_key(request),
        )
        return Response(DepositedSerializer(posted).data)


class PageSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, default=0)


class TransactionsView(APIView):
    @extend_schema(
        summary="The caller's ledger, newest first",
        parameters=[PageSerializer],
        responses={
            200: TransactionPageSerializer,
            **error_responses({400: "Invalid limit or offset", **USER_TOKEN_ERRORS}),
        },
    )
    def get(self, request):
        query = parsed(PageSerializer, request.query_params)
        limit, offset = query["limit"], query["offset"]
        entries, total = selectors.ledger_list(
            user_id=caller_id(request), limit=limit, offset=offset
        )
        page = {"transactions": entries, "total": total, "limit": limit, "offset": offset}
        return Response(TransactionPageSerializer(page).data)


class RevenueTotalView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Platform revenue: charges minus their refunds, in cents",
        responses={
            200: RevenueTotalSerializer,
            **error_responses(USER_TOKEN_ERRORS),
        },
    )
    def get(self, request):
        return Response(RevenueTotalSerializer(selectors.revenue_total()).data)
