"""REST adapters of the billing service: parse, call one service or selector, shape the answer."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.auth.authentication import ServiceTokenAuthentication
from common.auth.permissions import IsInternalService
from common.errors import error_body
from common.openapi import (
    BODY_TOO_LARGE,
    IDEMPOTENCY_KEY,
    INTERNAL,
    SERVICE_TOKEN_ERRORS,
    USER_TOKEN_ERRORS,
    ErrorSerializer,
    error_responses,
    message_serializer,
)
from common.payloads import MAX_BIGINT, StrictCharField, StrictIntegerField, StrictSerializer
from wallets import selectors, services
from wallets.responses import (
    ChargedSerializer,
    PostedSerializer,
    RefundedSerializer,
    TransactionPageSerializer,
)

MAX_KEY_LENGTH = 200


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class InsufficientFundsSerializer(ErrorSerializer):
    """402: the balance that cannot pay (details also hold `balance` and `required`)."""

    balance = serializers.IntegerField()


_WALLET = inline_serializer(
    "WalletAccount",
    {
        "message": serializers.CharField(),
        "userId": serializers.IntegerField(),
        "balance": serializers.IntegerField(),
        "created": serializers.BooleanField(),
    },
)


def _user_id(request) -> int:
    return int(request.user.id)


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {"Idempotency-Key": f"must be 1-{MAX_KEY_LENGTH} printable ASCII characters"}
        )
    return key


def _insufficient(exc: services.InsufficientFunds) -> Response:
    body = error_body("Insufficient funds", [{"balance": exc.balance, "required": exc.amount}])
    return Response({**body, "balance": exc.balance}, status=status.HTTP_402_PAYMENT_REQUIRED)


class BalanceView(APIView):
    @extend_schema(
        summary="The caller's balance in cents (0 without a wallet)",
        responses={
            200: inline_serializer(
                "Balance",
                {"userId": serializers.IntegerField(), "balance": serializers.IntegerField()},
            ),
            **error_responses(USER_TOKEN_ERRORS),
        },
    )
    def get(self, request):
        user_id = _user_id(request)
        return Response(
            {"userId": user_id, "balance": selectors.wallet_balance_get(user_id=user_id)}
        )


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
            200: message_serializer(
                "Deposited",
                newBalance=serializers.IntegerField(),
                amount=serializers.IntegerField(),
                transactionId=serializers.IntegerField(),
                replayed=serializers.BooleanField(),
            ),
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
        serializer = DepositSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            posted = services.deposit_create(
                user_id=_user_id(request),
                amount=serializer.validated_data["amount"],
                idempotency_key=_idempotency_key(request),
            )
        except services.IdempotencyConflict as exc:
            raise Conflict(str(exc)) from exc
        entry = posted.entry
        return Response(
            {
                "message": "Deposit successful",
                "newBalance": entry.balance_after,
                "amount": entry.amount,
                "transactionId": entry.id,
                "replayed": posted.replayed,
            }
        )


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
        page = PageSerializer(data=request.query_params)
        page.is_valid(raise_exception=True)
        limit, offset = page.validated_data["limit"], page.validated_data["offset"]
        entries, total = selectors.ledger_list(
            user_id=_user_id(request), limit=limit, offset=offset
        )
        page = {"transactions": entries, "total": total, "limit": limit, "offset": offset}
        return Response(TransactionPageSerializer(page).data)


class RevenueTotalView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Platform revenue: charges minus their refunds, in cents",
        responses={
            200: inline_serializer(
                "RevenueTotal",
                {
                    "totalRevenue": serializers.IntegerField(),
                    "totalCharged": serializers.IntegerField(),
                    "totalRefunded": serializers.IntegerField(),
                    "chargeCount": serializers.IntegerField(),
                    "refundCount": serializers.IntegerField(),
                },
            ),
            **error_responses(USER_TOKEN_ERRORS),
        },
    )
    def get(self, request):
        return Response(selectors.revenue_total())


class InternalView(APIView):
    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsInternalService]


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
            201: OpenApiResponse(_WALLET, description="Created"),
            200: OpenApiResponse(_WALLET, description="It already existed"),
            **error_responses({400: "Invalid body", **SERVICE_TOKEN_ERRORS, **BODY_TOO_LARGE}),
        },
    )
    def post(self, request):
        serializer = AccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wallet, created = services.wallet_create(user_id=serializer.validated_data["userId"])
        message = "Billing account created successfully" if created else "Account already exists"
        return Response(
            {
                "message": message,
                "userId": wallet.user_id,
                "balance": wallet.balance,
                "created": created,
            },
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AccountDeleteView(InternalView):
    service_scope = "billing.accounts"
    service_callers = {"gateway"}

    @extend_schema(
        summary="Delete an empty wallet (saga compensation)",
        tags=[INTERNAL],
        responses={
            200: inline_serializer(
                "WalletDeleted",
                {
                    "message": serializers.CharField(),
                    "userId": serializers.IntegerField(),
                    "deleted": serializers.BooleanField(help_text="False: there was no wallet"),
                },
            ),
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
        try:
            deleted = services.wallet_delete(user_id=user_id)
        except services.WalletNotEmpty as exc:
            raise Conflict(str(exc)) from exc
        message = (
            "Billing account deleted successfully (compensation)" if deleted else "No such account"
        )
        return Response({"message": message, "userId": user_id, "deleted": deleted})


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
        serializer = ChargeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            posted = services.charge_create(
                user_id=data["userId"],
                amount=data["amount"],
                idempotency_key=data["idempotencyKey"],
                video_id=data["videoId"],
                session_id=data["sessionId"],
                description=data["description"],
            )
        except services.InsufficientFunds as exc:
            return _insufficient(exc)
        except services.IdempotencyConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(
            ChargedSerializer(posted, context={"message": "Charge successful"}).data,
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
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        posted = services.charge_refund(
            idempotency_key=serializer.validated_data["idempotencyKey"],
            reason=serializer.validated_data["reason"],
        )
        if posted is None:
            return Response({"refunded": False})
        return Response({"refunded": True, **PostedSerializer(posted).data})
