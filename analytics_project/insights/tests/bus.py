"""A fresh analytics database and broker, and the analytics worker as `make run` starts it.

`real`: a throw-away PostgreSQL database and RabbitMQ virtual host; `embedded`: SQLite and the
filesystem broker under a temporary folder, as `make run` has them. Events are published the
way every outbox relay publishes them.
"""

import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery

from common.events.envelope import make_envelope
from common.events.relay import DELIVER_TASK
from common.events.topology import EVENTS_EXCHANGE
from common.testing import backends
from common.testing.platform import Platform
from common.testing.postgres import temporary_databases
from common.testing.processes import Process
from common.testing.rabbitmq import private_vhost

# Every event the store holds is applied by both projections.
PROJECTED = """
SELECT coalesce(min(c.position), 0) >= coalesce((SELECT max(position) FROM insights_storedevent), 0)
FROM insights_checkpoint c JOIN insights_projectionhead h ON h.generation_id = c.generation_id
"""


class Bus(Platform):
    """The platform with analytics alone: its workers, and a publisher of bus events."""

    def __init__(self, root: Path, *, broker_url: str | None, database_url: str | None):
        urls = {"analytics": database_url} if database_url else {}
        super().__init__(root, broker_url=broker_url, database_urls=urls)
        self.workers: list[Process] = []
        self.messages = Celery("test-publisher")  # builds task messages, sends nothing itself

    def start_worker(self, name: str = "analytics-worker", **env: str) -> Process:
        process = super().start_worker("analytics", name=name, concurrency=4, **env)
        self.workers.append(process)
        return process

    def publish(self, envelopes: list[dict]) -> None:
        with self.broker_connection() as connection:
            producer = connection.Producer(serializer="json")
            for envelope in envelopes:
                message = self.messages.amqp.as_task_v2(
                    str(uuid.uuid4()), DELIVER_TASK, args=[envelope]
                )
                producer.publish(
                    message.body,
                    exchange=EVENTS_EXCHANGE,
                    routing_key=envelope["type"],
                    headers=message.headers,
                    declare=[EVENTS_EXCHANGE],
                    delivery_mode=2,
                    **message.properties,
                )

    def stored(self) -> int:
        return self.scalar("analytics", "SELECT count(*) FROM insights_storedevent")

    def settled(self, count: int) -> bool:
        """`count` events are stored and both projections have applied all of them."""
        if self.workers and not self.workers[-1].alive():
            raise RuntimeError(f"the worker exited:\n{self.workers[-1].log_tail()}")
        return self.stored() == count and bool(self.scalar("analytics", PROJECTED))


@contextmanager
def analytics_bus(kind: str, root: Path):
    if kind == "embedded":
        bus = Bus(root, broker_url=None, database_url=None)
        bus.prepare("analytics")
        try:
            yield bus
        finally:
            bus.stop()
        return
    if not (
        backends.reachable(backends.amqp_url()) and backends.reachable(backends.postgres_url())
    ):
        pytest.skip("needs RabbitMQ and PostgreSQL")
    with private_vhost("streamify-batches") as amqp_url, temporary_databases(["analytics"]) as urls:
        bus = Bus(root, broker_url=amqp_url, database_url=urls["analytics"])
        bus.prepare("analytics")
        try:
            yield bus
        finally:
            bus.stop()


def views(count: int, *, users: int = 10, start: int = 0) -> list[dict]:
    """`count` video.watched envelopes; user u watches for u seconds (so sums are checkable)."""
    return [
        make_envelope(
            type="video.watched",
            source="/streamify/streaming",
            data={
                "sessionId": f"s{n}",
                "userId": n % users + 1,
                "videoId": n % 3 + 1,
                "watchSeconds": n % users + 1,
                "amount": 0,
            },
        )
        for n in range(start, start + count)
    ]
