"""Money moved: ledger entries written and cents moved, by kind (deposit, charge, refund)."""

from prometheus_client import Counter

from common.metrics.instruments import on_commit

ENTRIES = Counter("streamify_billing_entries", "Ledger entries written, by kind", ["kind"])
CENTS = Counter(
    "streamify_billing_cents", "Cents moved by ledger entries, by kind (always positive)", ["kind"]
)


def entry_posted(kind: str, amount: int) -> None:
    on_commit(ENTRIES.labels(kind))
    on_commit(CENTS.labels(kind), abs(amount))
