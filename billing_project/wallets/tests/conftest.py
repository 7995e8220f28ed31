import pytest

from wallets.models import LedgerEntry, Wallet
from wallets.selectors import wallet_ledger_mismatches


@pytest.fixture(autouse=True)
def ledger_matches_balances(request):
    """After every test: each wallet's balance is the sum of its ledger, never negative, and
    the newest entry's balance_after is the balance."""
    yield
    if not ({"db", "transactional_db"} & set(request.fixturenames)):
        return
    assert wallet_ledger_mismatches() == []
    for wallet in Wallet.objects.all():
        assert wallet.balance >= 0
        last = LedgerEntry.objects.filter(wallet=wallet).order_by("-id").first()
        assert last is None or last.balance_after == wallet.balance
