"""What billing answers about money: one serializer per shape, which renders the answer and
documents it in the OpenAPI schema."""

from rest_framework import serializers

from common.payloads import IsoDateTimeField, MessageField, TrueField
from wallets.models import LedgerEntry
from wallets.services import Posted


class LedgerEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(source="kind", choices=LedgerEntry.Kind.choices)
    amount = serializers.IntegerField(help_text="Cents: positive credits, negative charges.")
    balanceAfter = serializers.IntegerField(source="balance_after")
    description = serializers.CharField(allow_blank=True)
    videoId = serializers.IntegerField(source="video_id", allow_null=True)
    sessionId = serializers.SerializerMethodField()
    idempotencyKey = serializers.CharField(source="idempotency_key", allow_null=True)
    createdAt = IsoDateTimeField(source="created_at")

    def get_sessionId(self, entry: LedgerEntry) -> str | None:  # noqa: N802 - the answer's name
        return entry.session_id or None


class TransactionPageSerializer(serializers.Serializer):
    transactions = LedgerEntrySerializer(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class PostedSerializer(serializers.Serializer):
    """A charge (or the refund of one) and the wallet's balance after it."""

    transactionId = serializers.IntegerField(source="entry.id")
    userId = serializers.IntegerField(source="entry.wallet.user_id")
    amount = serializers.SerializerMethodField(help_text="Cents, always positive.")
    balance = serializers.IntegerField(source="entry.balance_after")
    remainingBalance = serializers.IntegerField(
        source="entry.balance_after", help_text="`balance`, the original's name."
    )
    idempotencyKey = serializers.CharField(source="entry.idempotency_key")
    replayed = serializers.BooleanField(help_text="True: the key was seen before, nothing moved.")

    def get_amount(self, posted: Posted) -> int:
        return abs(posted.entry.amount)


class ChargedSerializer(PostedSerializer):
    message = MessageField("Charge successful")


class RefundedSerializer(PostedSerializer):
    """The refund of a charge, or `refunded: false` alone when no charge has the key."""

    refunded = TrueField()

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            field.required = name == "refunded"
        return fields

    # Called directly (`RefundedSerializer().to_representation(posted)`): for a missing
    # instance DRF's `.data` would render the fields' initial values, not this answer.
    def to_representation(self, posted: Posted | None) -> dict:
        if posted is None:
            return {"refunded": False}
        return super().to_representation(posted)


class BalanceSerializer(serializers.Serializer):
    userId = serializers.IntegerField()
    balance = serializers.IntegerField()


class DepositedSerializer(serializers.Serializer):
    message = MessageField("Deposit successful")
    newBalance = serializers.IntegerField(source="entry.balance_after")
    amount = serializers.IntegerField(source="entry.amount")
    transactionId = serializers.IntegerField(source="entry.id")
    replayed = serializers.BooleanField()


class WalletAccountSerializer(serializers.Serializer):
    message = serializers.SerializerMethodField()
    userId = serializers.IntegerField(source="wallet.user_id")
    balance = serializers.IntegerField(source="wallet.balance")
    created = serializers.BooleanField()

    def get_message(self, answer: dict) -> str:
        if answer["created"]:
            return "Billing account created successfully"
        return "Account already exists"


class WalletDeletedSerializer(serializers.Serializer):
    message = serializers.SerializerMethodField()
    userId = serializers.IntegerField()
    deleted = serializers.BooleanField(help_text="False: there was no wallet")

    def get_message(self, answer: dict) -> str:
        if answer["deleted"]:
            return "Billing account deleted successfully (compensation)"
        return "No such account"


class RevenueTotalSerializer(serializers.Serializer):
    totalRevenue = serializers.IntegerField(source="revenue")
    totalCharged = serializers.IntegerField(source="charged")
    totalRefunded = serializers.IntegerField(source="refunded")
    chargeCount = serializers.IntegerField(source="charges")
    refundCount = serializers.IntegerField(source="refunds")
