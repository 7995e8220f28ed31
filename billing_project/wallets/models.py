from django.db import models


class Wallet(models.Model):
    """A user's prepaid balance in cents; the database refuses a negative balance.

    `balance` is a cache of the sum of the wallet's ledger, updated in the same transaction as
    every entry, with the wallet row locked (select_for_update) so writers take turns.
    """

    user_id = models.BigIntegerField(unique=True)
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="wallets_wallet_balance_non_negative"
            )
        ]

    def __str__(self):
        return f"wallet of user {self.user_id}"


class LedgerEntry(models.Model):
    """One movement of money: append-only, signed cents, with the wallet balance right after it.

    Deposits and refunds are positive, charges negative. An idempotency key, when given, makes a
    retried request find its first entry: charge and refund keys are unique platform-wide (the
    caller builds them from ids it owns, e.g. `<session>:<minute>`), deposit keys per wallet
    (the client picks them).
    """

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        CHARGE = "charge"
        REFUND = "refund"

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    video_id = models.BigIntegerField(null=True, blank=True)
    session_id = models.CharField(max_length=64, blank=True, default="")
    description = models.CharField(max_length=200, blank=True, default="")
    refund_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refund"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["wallet", "-id"], name="ledger_wallet_newest_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="ledger_balance_after_non_negative"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="charge", amount__lt=0)
                    | models.Q(kind__in=["deposit", "refund"], amount__gt=0)
                ),
                name="ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="refund") | models.Q(refund_of__isnull=True),
                name="ledger_only_refunds_refer_to_a_charge",
            ),
            models.UniqueConstraint(
                fields=["kind", "idempotency_key"],
                condition=models.Q(kind__in=["charge", "refund"]),
                name="ledger_charge_refund_key_unique",
            ),
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=models.Q(kind="deposit"),
                name="ledger_deposit_key_unique_per_wallet",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} on {self.wallet}"
