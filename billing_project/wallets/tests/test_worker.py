"""Billing's worker on a real RabbitMQ (private vhost): saga commands and user.registered."""

import uuid

import pytest
from celery import Celery
from django.db import connection

from common.events.envelope import make_envelope
from common.events.relay import DELIVER_TASK
from common.events.topology import EVENTS_EXCHANGE
from common.testing import backends
from common.testing.platform import Platform
from common.testing.processes import manage, wait_for
from common.testing.rabbitmq import private_vhost
from wallets.models import Wallet
from wallets.tests.factories import new_user_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_saga_commands_and_the_registered_event_create_one_wallet(tmp_path):
    by_saga, by_event, compensated = new_user_id(), new_user_id(), new_user_id()
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

            for user_id in (by_saga, by_saga, compensated):
                command("billing.saga.create_wallet", user_id)
            envelope = make_envelope(
                type="user.registered",
                data={"userId": by_event, "email": "e@x.io", "firstName": "Ev", "lastName": "En"},
                source="/streamify/auth",
            )
            for _ in range(2):  # a redelivery changes nothing
                sender.send_task(
                    DELIVER_TASK,
                    args=[envelope],
                    exchange=EVENTS_EXCHANGE.name,
                    routing_key="user.registered",
                )
            made = [by_saga, by_event, compensated]
            wait_for(
                lambda: Wallet.objects.filter(user_id__in=made).count() == 3,
                timeout=60,
                what="wallets made by the worker",
            )
            command("billing.saga.delete_wallet", compensated)
            wait_for(
                lambda: not Wallet.objects.filter(user_id=compensated).exists(),
                timeout=30,
                what="the compensation",
            )
        finally:
            platform.stop()
    assert Wallet.objects.filter(user_id=by_saga).count() == 1
    assert Wallet.objects.get(user_id=by_event).balance == 0
