"""Billing's worker on a real RabbitMQ (private vhost): saga commands and user.deleted."""

import uuid

import pytest
from celery import Celery
from django.db import connection

from common.events.envelope import make_envelope
from common.events.models import InboxEvent
from common.events.relay import send_event
from common.testing import backends
from common.testing.platform import Platform
from common.testing.processes import manage, wait_for
from common.testing.rabbitmq import private_vhost
from wallets.models import Wallet
from wallets.tests.factories import new_user_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_saga_commands_open_and_close_wallets_and_user_deleted_closes_one(tmp_path):
    by_saga, registered, compensated, deleted = (new_user_id() for _ in range(4))
    with private_vhost() as amqp_url:
        # The worker shares this test's database, which pytest-django has migrated.
        database = f"{backends.postgres_url()}/{connection.settings_dict['NAME']}"
        platform = Platform(
            tmp_path, broker_url=amqp_url, database_urls={"billing": database}, log_level="WARNING"
        )
        manage("billing", "setup_broker", env=platform.env())
        platform.start_worker("billing")
        sender = Celery("saga-test", broker=amqp_url)
        try:

            def command(name: str, user_id: int) -> None:
                sender.send_task(
                    name,
                    kwargs={"saga_id": str(uuid.uuid4()), "user_id": user_id},
                    queue="billing.commands",
                )

            def event(type: str, data: dict) -> None:
                envelope = make_envelope(type=type, data=data, source="/streamify/auth")
                with sender.producer_or_acquire() as producer:
                    for _ in range(2):  # a redelivery changes nothing
                        send_event(sender, producer, envelope)

            for user_id in (by_saga, by_saga, compensated, deleted):
                command("billing.saga.create_wallet", user_id)
            made = [by_saga, compensated, deleted]
            wait_for(
                lambda: Wallet.objects.filter(user_id__in=made).count() == 3,
                timeout=60,
                what="wallets made by the worker",
            )
            # Registration is the saga's: billing does not take auth's user.registered.
            event("user.registered", {"userId": registered, "email": "e@x.io",
                                      "firstName": "Ev", "lastName": "En"})  # fmt: skip
            event("user.deleted", {"userId": deleted, "email": "d@x.io"})
            command("billing.saga.delete_wallet", compensated)
            wait_for(
                lambda: not Wallet.objects.filter(user_id__in=[compensated, deleted]).exists(),
                timeout=30,
                what="the compensation and user.deleted",
            )
        finally:
            platform.stop()
    assert list(Wallet.objects.filter(user_id__in=[*made, registered]).values_list(
        "user_id", "balance")) == [(by_saga, 0)]  # fmt: skip
    assert InboxEvent.objects.count() == 1
