import uuid

import pytest
from django.db import IntegrityError, transaction

from common.events.consumer import apply_event
from common.events.envelope import make_envelope
from common.events.models import OutboxEvent
from common.testing.concurrency import together
from wallets import saga, selectors, services
from wallets.models import LedgerEntry, Wallet
from wallets.tests.factories import funded_user, new_user_id

pytestmark = pytest.mark.django_db


def test_deposit_appends_an_entry_and_emits_wallet_credited():
    user_id = funded_user(0)

    posted = services.deposit_create(user_id=user_id, amount=5000)
    services.deposit_create(user_id=user_id, amount=250)

    assert posted.entry.kind == "deposit" and posted.entry.amount == 5000
    assert posted.entry.balance_after == 5000
    assert Wallet.objects.get(user_id=user_id).balance == 5250
    credited = [e.envelope["data"] for e in OutboxEvent.objects.filter(type="wallet.credited")]
    assert {"transactionId": posted.entry.id, "userId": user_id, "amount": 5000,
            "balanceAfter": 5000} in credited  # fmt: skip


def test_deposit_with_the_same_idempotency_key_credits_once():
    user_id = funded_user(0)

    first = services.deposit_create(user_id=user_id, amount=700, idempotency_key="k-1")
    again = services.deposit_create(user_id=user_id, amount=700, idempotency_key="k-1")

    assert again.replayed and again.entry.id == first.entry.id
    assert Wallet.objects.get(user_id=user_id).balance == 700
    assert OutboxEvent.objects.filter(type="wallet.credited").count() == 1
    with pytest.raises(services.IdempotencyConflict):
        services.deposit_create(user_id=user_id, amount=800, idempotency_key="k-1")
    # Deposit keys belong to one wallet: another user may pick the same key.
    other = funded_user(0)
    assert not services.deposit_create(user_id=other, amount=1, idempotency_key="k-1").replayed


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True, None, 1_000_001, 10**30])
def test_bad_deposit_amounts_change_nothing(amount):
    user_id = funded_user(100)

    with pytest.raises(services.InvalidAmount):
        services.deposit_create(user_id=user_id, amount=amount)

    assert Wallet.objects.get(user_id=user_id).balance == 100
    assert LedgerEntry.objects.filter(wallet__user_id=user_id).count() == 1


def test_charge_debits_once_per_key_and_emits_payment_processed():
    user_id = funded_user(100)

    first = services.charge_create(
        user_id=user_id, amount=30, idempotency_key="s1:1", video_id=7, session_id="s1"
    )
    again = services.charge_create(
        user_id=user_id, amount=30, idempotency_key="s1:1", video_id=7, session_id="s1"
    )

    assert not first.replayed and again.replayed and again.entry.id == first.entry.id
    assert first.entry.amount == -30 and first.entry.balance_after == 70
    assert Wallet.objects.get(user_id=user_id).balance == 70
    [event] = OutboxEvent.objects.filter(type="payment.processed")
    assert event.envelope["data"] == {
        "transactionId": first.entry.id,
        "userId": user_id,
        "videoId": 7,
        "sessionId": "s1",
        "amount": 30,
        "balanceAfter": 70,
        "idempotencyKey": "s1:1",
    }


def test_a_charge_key_reused_for_another_request_is_a_conflict():
    user_id, other = funded_user(100), funded_user(100)
    services.charge_create(user_id=user_id, amount=10, idempotency_key="k")

    with pytest.raises(services.IdempotencyConflict):
        services.charge_create(user_id=user_id, amount=11, idempotency_key="k")
    with pytest.raises(services.IdempotencyConflict):
        services.charge_create(user_id=other, amount=10, idempotency_key="k")
    assert Wallet.objects.get(user_id=other).balance == 100


def test_insufficient_funds_changes_nothing():
    user_id = funded_user(25)

    with pytest.raises(services.InsufficientFunds) as caught:
        services.charge_create(user_id=user_id, amount=26, idempotency_key="x:1")

    assert (caught.value.balance, caught.value.amount) == (25, 26)
    assert Wallet.objects.get(user_id=user_id).balance == 25
    assert not OutboxEvent.objects.filter(type="payment.processed").exists()
    # A retry with the same key after a deposit goes through: a refusal is not remembered.
    services.deposit_create(user_id=user_id, amount=1)
    assert services.charge_create(user_id=user_id, amount=26, idempotency_key="x:1").entry


def test_the_database_itself_refuses_a_negative_balance():
    user_id = funded_user(10)

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(user_id=user_id).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            wallet=Wallet.objects.get(user_id=user_id), kind="charge", amount=5, balance_after=15
        )


def test_refund_gives_a_charge_back_once():
    user_id = funded_user(100)
    services.charge_create(user_id=user_id, amount=40, idempotency_key="r:1")

    first = services.charge_refund(idempotency_key="r:1", reason="start failed")
    again = services.charge_refund(idempotency_key="r:1")

    assert first.entry.amount == 40 and first.entry.balance_after == 100
    assert again.replayed and again.entry.id == first.entry.id
    assert services.charge_refund(idempotency_key="never-charged") is None
    assert selectors.revenue_total()["revenue"] == 0
    assert OutboxEvent.objects.filter(type="payment.refunded").count() == 1


def test_a_retried_wallet_step_and_the_first_deposit_find_the_wallet_the_saga_opened():
    user_id = new_user_id()

    assert saga.create_wallet(saga_id=str(uuid.uuid4()), user_id=user_id) == {"walletCreated": True}
    opened = Wallet.objects.get(user_id=user_id)
    assert saga.create_wallet(saga_id=str(uuid.uuid4()), user_id=user_id) == {"walletCreated": True}
    again, created = services.wallet_create(user_id=user_id)
    services.deposit_create(user_id=user_id, amount=5)

    assert (again.pk, created) == (opened.pk, False)
    assert Wallet.objects.get(user_id=user_id).pk == opened.pk
    assert Wallet.objects.get(pk=opened.pk).balance == 5


def test_first_use_creates_the_wallet():
    user_id = new_user_id()

    services.deposit_create(user_id=user_id, amount=9)

    assert Wallet.objects.get(user_id=user_id).balance == 9


def test_saga_compensation_deletes_only_an_empty_wallet():
    empty, funded = funded_user(0), funded_user(1)
    saga_id = str(uuid.uuid4())

    assert saga.delete_wallet(saga_id=saga_id, user_id=empty) == {"deleted": True}
    assert saga.delete_wallet(saga_id=saga_id, user_id=empty) == {"deleted": False}
    assert saga.delete_wallet(saga_id=saga_id, user_id=funded) == {"deleted": False}
    assert Wallet.objects.filter(user_id=funded).exists()


def test_user_deleted_event_closes_an_empty_wallet():
    user_id = funded_user(0)
    envelope = make_envelope(
        type="user.deleted", data={"userId": user_id, "email": "x@y.z"}, source="/streamify/auth"
    )

    apply_event(envelope)

    assert not Wallet.objects.filter(user_id=user_id).exists()


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_charges_on_a_wallet_that_affords_twenty():
    user_id = funded_user(200)
    jobs = [
        lambda n=n: services.charge_create(user_id=user_id, amount=10, idempotency_key=f"c:{n}")
        for n in range(50)
    ]

    results = together(*jobs)

    charged = [r for r in results if isinstance(r, services.Posted)]
    refused = [r for r in results if isinstance(r, services.InsufficientFunds)]
    assert (len(charged), len(refused)) == (20, 30), results
    assert Wallet.objects.get(user_id=user_id).balance == 0
    assert LedgerEntry.objects.filter(wallet__user_id=user_id, kind="charge").count() == 20
    balances = sorted(r.entry.balance_after for r in charged)
    assert balances == list(range(0, 200, 10))


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_charge_key_charge_once():
    user_id = funded_user(1000)
    jobs = [
        lambda: services.charge_create(user_id=user_id, amount=10, idempotency_key="same:1")
        for _ in range(10)
    ]

    results = together(*jobs)

    assert all(isinstance(r, services.Posted) for r in results), results
    assert len({r.entry.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert Wallet.objects.get(user_id=user_id).balance == 990


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_deposit_key_credit_once():
    user_id = funded_user(0)
    jobs = [
        lambda: services.deposit_create(user_id=user_id, amount=500, idempotency_key="retry")
        for _ in range(10)
    ]

    results = together(*jobs)

    assert all(isinstance(r, services.Posted) for r in results), results
    assert sum(not r.replayed for r in results) == 1
    assert Wallet.objects.get(user_id=user_id).balance == 500


def test_the_audit_finds_a_balance_written_around_the_services():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    user_id = funded_user(100)
    call_command("audit_ledger")
    Wallet.objects.filter(user_id=user_id).update(balance=101)

    assert selectors.wallet_ledger_mismatches() == [
        {"userId": user_id, "balance": 101, "ledgerSum": 100}
    ]
    with pytest.raises(CommandError):
        call_command("audit_ledger")
    Wallet.objects.filter(user_id=user_id).update(balance=100)
