"""Reads of wallets and the ledger; none of them writes (a missing wallet reads as empty)."""

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from wallets.models import LedgerEntry, Wallet


def wallet_balance_get(*, user_id: int) -> int:
    wallet = Wallet.objects.filter(user_id=user_id).only("balance").first()
    return wallet.balance if wallet else 0


def ledger_list(*, user_id: int, limit: int, offset: int) -> tuple[list[LedgerEntry], int]:
    """The user's entries newest first, one page, and how many there are in all."""
    entries = LedgerEntry.objects.filter(wallet__user_id=user_id).order_by("-id")
    return list(entries[offset : offset + limit]), entries.count()


def revenue_total() -> dict:
    """Platform revenue: charges minus the refunds of charges, in cents."""
    totals = LedgerEntry.objects.aggregate(
        charged=Sum("amount", filter=Q(kind="charge")),
        refunded=Sum("amount", filter=Q(kind="refund")),
        charges=Count("id", filter=Q(kind="charge")),
        refunds=Count("id", filter=Q(kind="refund")),
    )
    charged, refunded = -(totals["charged"] or 0), totals["refunded"] or 0
    return {
        "revenue": charged - refunded,
        "charged": charged,
        "refunded": refunded,
        "charges": totals["charges"],
        "refunds": totals["refunds"],
    }


def wallet_ledger_mismatches() -> list[dict]:
    """Wallets whose balance is not the sum of their ledger (always empty unless someone wrote
    around the services)."""
    wallets = Wallet.objects.annotate(ledger=Coalesce(Sum("entries__amount"), Value(0)))
    return [
        {"userId": w.user_id, "balance": w.balance, "ledgerSum": w.ledger}
        for w in wallets.exclude(balance=F("ledger"))
    ]
