"""A fresh analytics database and broker, and the analytics worker as `make run` starts it.

`real`: a throw-away PostgreSQL database and RabbitMQ virtual host; `embedded`: SQLite and the
filesystem broker under a temporary folder, as `make run` has them. Events are published the
way every outbox relay publishes them.
"""

import os
import sqlite3
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg2
import pytest
from celery import Celery
from kombu import Connection

from common.broker import connect
from common.events.envelope import make_envelope
from common.events.relay import DELIVER_TASK
from common.events.topology import EVENTS_EXCHANGE
from common.testing import backends
from common.testing.postgres import temporary_databases
from common.testing.processes import Process, manage, wait_for, worker_process
from common.testing.rabbitmq import private_vhost

# Every event the store holds is applied by both projections.
PROJECTED = """
SELECT coalesce(min(c.position), 0) >= coalesce((SELECT max(position) FROM insights_storedevent), 0)
FROM insights_checkpoint c JOIN insights_projectionhead h ON h.generation_id = c.generation_id
"""


class Bus:
    def __init__(self, root: Path, *, broker_url: str | None, database_url: str | None):
        self.root, self.broker_url, self.database_url = root, broker_url, database_url
        self.var = root / "var"
        self.var.mkdir(parents=True, exist_ok=True)
        self.workers: list[Process] = []
        self.messages = Celery("test-publisher")  # builds task messages, sends nothing itself

    @property
    def embedded(self) -> bool:
        return self.broker_url is None

    def env(self, **extra: str) -> dict:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(self.root)),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": str(self.var),
            "STREAMIFY_LOG_LEVEL": "INFO",
        }
        if self.broker_url:
            env["CELERY_BROKER_URL"] = self.broker_url
        if self.database_url:
            env["ANALYTICS_DATABASE_URL"] = self.database_url
        return {**env, **extra}

    def prepare(self) -> None:
        manage("analytics", "migrate", "--noinput", "-v0", env=self.env())
        manage("analytics", "setup_broker", env=self.env())

    def start_worker(self, name: str = "analytics-worker", **env: str) -> Process:
        process = worker_process(
            "analytics", env=self.env(**env), log_dir=self.root, name=name, concurrency=4
        ).start()
        self.workers.append(process)

        def ready():
            if not process.alive():
                raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
            return " ready." in process.log_tail(200)

        wait_for(ready, timeout=60, what=f"{name} ready")
        return process

    def stop(self) -> None:
        for process in self.workers:
            process.stop()

    def broker(self) -> Connection:
        return Connection(self.broker_url) if self.broker_url else connect(self.var / "broker")

    def publish(self, envelopes: list[dict]) -> None:
        with self.broker() as connection:
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

    # Reading the database directly is for assertions only.
    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.database_url:
            with closing(psycopg2.connect(self.database_url)) as conn, conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        with closing(sqlite3.connect(self.var / "db" / "analytics.sqlite3", timeout=20)) as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

    def scalar(self, sql: str, params: tuple = ()):
        return self.query(sql, params)[0][0]

    def stored(self) -> int:
        return self.scalar("SELECT count(*) FROM insights_storedevent")

    def settled(self, count: int) -> bool:
        """`count` events are stored and both projections have applied all of them."""
        if self.workers and not self.workers[-1].alive():
            raise RuntimeError(f"the worker exited:\n{self.workers[-1].log_tail()}")
        return self.stored() == count and bool(self.scalar(PROJECTED))


@contextmanager
def analytics_bus(kind: str, root: Path):
    if kind == "embedded":
        bus = Bus(root, broker_url=None, database_url=None)
        bus.prepare()
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
        bus.prepare()
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
