"""Every change to money: wallets, deposits, charges and refunds, each one ledger entry.

The rules all writers keep, whatever path they come from:
- the wallet row is locked (SELECT ... FOR UPDATE) before its balance is read, so concurrent
  writers on one wallet take turns and none acts on a stale balance;
- the entry, the new balance and the outbox event are written in one transaction, so
  `Wallet.balance` always equals the sum of the wallet's ledger and events match the ledger;
- an idempotency key is looked up under the same lock, and a unique constraint backs it up,
  so a retried request gets the first result instead of moving money twice.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from common.errors import DomainError
from common.events import publish
from wallets import metrics
from wallets.models import LedgerEntry, Wallet


class BillingError(DomainError):
    """A request the ledger refuses; nothing was changed."""


class InsufficientFunds(BillingError):
    status, message = 402, "Insufficient funds"

    def __init__(self, *, balance: int, amount: int):
        super().__init__(f"balance {balance} cannot pay {amount}")
        self.balance, self.amount = balance, amount

    def details(self) -> list[dict]:
        return [{"balance": self.balance, "required": self.amount}]

    def fields(self) -> dict:
        return {"balance": self.balance}


class IdempotencyConflict(BillingError):
    """The key was already used for a different request (other user or amount)."""

    status = 409


class InvalidAmount(BillingError):
    pass


class WalletNotEmpty(BillingError):
    """A wallet with ledger entries is never deleted: money does not disappear."""

    status = 409


@dataclass(frozen=True)
class Posted:
    """The outcome of a money request: its ledger entry, and whether it was a replay."""

    entry: LedgerEntry
    replayed: bool


def wallet_create(*, user_id: int) -> tuple[Wallet, bool]:
    """Ensure `user_id` has a wallet; creating it twice returns the first one unchanged."""
    with transaction.atomic():
        return Wallet.objects.get_or_create(user_id=user_id)


def wallet_delete(*, user_id: int) -> bool:
    """Remove the wallet of `user_id` if it never held money; True if one was removed."""
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().filter(user_id=user_id).first()
        if wallet is None:
            return False
        if wallet.entries.exists():
            raise WalletNotEmpty(f"wallet of user {user_id} has ledger entries")
        wallet.delete()
        return True


def _locked_wallet(user_id: int) -> Wallet:
    """The user's wallet, locked until the transaction ends.

    A new user's wallet is the registration saga's to open; a deposit for a user without one
    (an account older than the saga, or one whose wallet was closed) opens it, as the original
    system's deposit did."""
    wallet = Wallet.objects.select_for_update().filter(user_id=user_id).first()
    if wallet is None:
        # In its own savepoint: a concurrent first use may create it at the same moment.
        wallet_create(user_id=user_id)
        wallet = Wallet.objects.select_for_update().get(user_id=user_id)
    return wallet


def _check_amount(amount: int, *, maximum: int | None = None) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount("amount must be a positive integer number of cents")
    if maximum is not None and amount > maximum:
        raise InvalidAmount(f"amount must be at most {maximum} cents")


def _post(wallet: Wallet, *, kind: str, amount: int, **fields) -> LedgerEntry:
    """Append one entry and move the (locked) wallet's balance by `amount` (signed)."""
    wallet.balance += amount
    if wallet.balance < 0:
        raise InsufficientFunds(balance=wallet.balance - amount, amount=-amount)
    wallet.save(update_fields=["balance", "updated_at"])
    metrics.entry_posted(kind, amount)
    return LedgerEntry.objects.create(
        wallet=wallet, kind=kind, amount=amount, balance_after=wallet.balance, **fields
    )


def deposit_create(*, user_id: int, amount: int, idempotency_key: str | None = None) -> Posted:
    """Credit `amount` cents (0 < amount <= BILLING_MAX_DEPOSIT) and emit `wallet.credited`.

    With an idempotency key, a retry returns the first deposit; the same key with another
    amount is refused.
    """
    _check_amount(amount, maximum=settings.BILLING_MAX_DEPOSIT)
    with transaction.atomic():
        wallet = _locked_wallet(user_id)
        if idempotency_key:
            first = wallet.entries.filter(kind="deposit", idempotency_key=idempotency_key).first()
            if first is not None:
                if first.amount != amount:
                    raise IdempotencyConflict("Idempotency-Key already used for another amount")
                return Posted(first, replayed=True)
        entry = _post(
            wallet,
            kind=LedgerEntry.Kind.DEPOSIT,
            amount=amount,
            idempotency_key=idempotency_key or None,
            description="Deposit",
        )
        publish(
            "wallet.credited",
            {
                "transactionId": entry.id,
                "userId": user_id,
                "amount": amount,
                "balanceAfter": entry.balance_after,
            },
        )
        return Posted(entry, replayed=False)


def charge_create(
    *,
    user_id: int,
    amount: int,
    idempotency_key: str,
    video_id: int | None = None,
    session_id: str = "",
    description: str = "",
) -> Posted:
    """Debit `amount` cents once per key and emit `payment.processed`; never overdraw.

    Raise InsufficientFunds (nothing written) when the balance is short. A key already used for
    another user or amount is an IdempotencyConflict.
    """
    _check_amount(amount)
    if not idempotency_key:
        raise BillingError("a charge needs an idempotency key")
    try:
        return _charge_once(
            user_id=user_id,
            amount=amount,
            idempotency_key=idempotency_key,
            video_id=video_id,
            session_id=session_id,
            description=description,
        )
    except IntegrityError:
        # Same key raced in on another wallet's lock: the constraint kept it single; report it.
        first = LedgerEntry.objects.filter(kind="charge", idempotency_key=idempotency_key).first()
        if first is None:
            raise
        return _replay(first, user_id=user_id, amount=amount)


def _charge_once(*, user_id, amount, idempotency_key, video_id, session_id, description) -> Posted:
    with transaction.atomic():
        wallet = _locked_wallet(user_id)
        first = LedgerEntry.objects.filter(kind="charge", idempotency_key=idempotency_key).first()
        if first is not None:
            return _replay(first, user_id=user_id, amount=amount)
        if wallet.balance < amount:
            raise InsufficientFunds(balance=wallet.balance, amount=amount)
        entry = _post(
            wallet,
            kind=LedgerEntry.Kind.CHARGE,
            amount=-amount,
            idempotency_key=idempotency_key,
            video_id=video_id,
            session_id=session_id,
            description=description or "Charge",
        )
        publish("payment.processed", _payment_data(entry, user_id=user_id))
        return Posted(entry, replayed=False)


def _replay(first: LedgerEntry, *, user_id: int, amount: int) -> Posted:
    if first.wallet.user_id != user_id or -first.amount != amount:
        raise IdempotencyConflict("idempotency key already used for another charge")
    return Posted(first, replayed=True)


def charge_refund(*, idempotency_key: str, reason: str = "") -> Posted | None:
    """Give back the whole charge made with `idempotency_key`, once; emit `payment.refunded`.

    Return None when no charge carries that key (nothing to give back).
    """
    with transaction.atomic():
        charge = (
            LedgerEntry.objects.filter(kind="charge", idempotency_key=idempotency_key)
            .select_related("wallet")
            .first()
        )
        if charge is None:
            return None
        wallet = Wallet.objects.select_for_update().get(pk=charge.wallet_id)
        first = LedgerEntry.objects.filter(refund_of=charge).first()
        if first is not None:
            return Posted(first, replayed=True)
        entry = _post(
            wallet,
            kind=LedgerEntry.Kind.REFUND,
            amount=-charge.amount,
            idempotency_key=idempotency_key,
            video_id=charge.video_id,
            session_id=charge.session_id,
            refund_of=charge,
            description=(reason or "Refund")[:200],
        )
        publish("payment.refunded", _payment_data(entry, user_id=wallet.user_id))
        return Posted(entry, replayed=False)


def _payment_data(entry: LedgerEntry, *, user_id: int) -> dict:
    return {
        "transactionId": entry.id,
        "userId": user_id,
        "videoId": entry.video_id,
        "sessionId": entry.session_id or None,
        "amount": abs(entry.amount),
        "balanceAfter": entry.balance_after,
        "idempotencyKey": entry.idempotency_key,
    }
