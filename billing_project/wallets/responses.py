"""What billing answers about money: one serializer per shape, which renders the answer and
documents it in the OpenAPI schema."""

from rest_framework import serializers

from common.payloads import IsoDateTimeField, MessageField
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
    """`refunded: false` alone when no charge has the key."""

    refunded = serializers.BooleanField()

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            field.required = name == "refunded"
        return fields
