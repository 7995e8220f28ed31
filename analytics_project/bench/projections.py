"""Analytics benchmarks, run by hand against throw-away PostgreSQL databases (and RabbitMQ):

    cd analytics_project && ../.venv/bin/python bench/projections.py --sizes 100000,1000000

1. append: events/s through `event_append` (one command per transaction, as record-view does)
   and through `events_ingest` (500 per transaction, as the worker does), projections included;
2. ingest (needs RabbitMQ): bus events published the way every outbox relay publishes them,
   taken by a real analytics worker (as `make run` starts it) into the store and the read
   models. `backlog`: N events queued before the worker starts, timed from the first applied
   to the last; `sustained`: the worker running while events arrive at a fixed rate, sampled
   every half second (applied/s, lag), then the time to drain what is left;
3. replay: bulk-load N synthetic events straight into the store, then time `replay_run`;
4. query latency: p50/p99 of the video-stats, history and platform queries at the largest size.

`--profile DIR` records the worker with py-spy during the backlog drain (flame graph + top
frames).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "analytics_project")]

from common.testing.postgres import temporary_databases  # noqa: E402
from common.testing.processes import cpu_seconds  # noqa: E402

USERS, VIDEOS, DAYS = 10_000, 1_000, 90
START = datetime(2026, 1, 1, tzinfo=UTC)
PARTS = ("append", "ingest", "replay", "queries")
# common.events.relay.DELIVER_TASK (that module needs Django set up, the publisher does not).
DELIVER_TASK = "streamify.events.deliver"


def synthetic(n: int, rng: random.Random) -> tuple[str, dict, datetime]:
    """One event of the platform's usual mix (mostly views and charges)."""
    when = START + timedelta(seconds=rng.randrange(DAYS * 86400))
    user, video, roll = rng.randint(1, USERS), rng.randint(1, VIDEOS), rng.random()
    if roll < 0.75:
        data = {"sessionId": f"s{n}", "userId": user, "videoId": video,
                "watchSeconds": rng.randint(1, 3600), "amount": 0}  # fmt: skip
        return "video.watched", data, when
    if roll < 0.90:
        data = {"transactionId": n, "userId": user, "videoId": video, "sessionId": f"s{n}",
                "amount": rng.randint(1, 100), "balanceAfter": 0}  # fmt: skip
        return "payment.processed", data, when
    if roll < 0.95:
        data = {
            "sessionId": f"s{n}",
            "userId": user,
            "videoId": video,
            "startedAt": when.isoformat(),
        }
        return "stream.started", data, when
    if roll < 0.98:
        data = {"transactionId": n, "userId": user, "amount": 1000, "balanceAfter": 1000}
        return "wallet.credited", data, when
    if roll < 0.99:
        return "user.registered", {"userId": user, "email": f"u{user}@example.com"}, when
    return "video.ready", {"videoId": video, "title": f"Video {video}", "duration": 60.0}, when


# 1. append


def bench_append(count: int, rng: random.Random) -> None:
    """Appends in-process, without a broker: the cost of the store and the projectors alone.

    One command per transaction, projected before it returns (as record-view does), then
    batches of 500 per transaction projected right after (as the worker's consumer does).
    """
    from django.db import transaction
    from insights import services

    def new(n: int) -> services.NewEvent:
        type, data, when = synthetic(n, rng)
        return services.NewEvent(uuid.uuid4(), type, data, "/bench", when.isoformat())

    started = time.perf_counter()
    for n in range(count):
        services.event_append(**vars(new(n)))
    elapsed = time.perf_counter() - started
    print(f"append+project, 1 event/commit: {count} in {elapsed:.2f}s = {count / elapsed:.0f}/s")
    batches = [
        [new(count + n) for n in range(start, start + 500)] for start in range(0, count * 5, 500)
    ]
    started = time.perf_counter()
    for batch in batches:
        with transaction.atomic():
            services.events_ingest(events=batch)
    elapsed = time.perf_counter() - started
    total = sum(map(len, batches))
    print(f"append+project, 500 events/commit: {total} in {elapsed:.2f}s = {total / elapsed:.0f}/s")


# 2. ingest through the real worker


APPLIED = """
SELECT count(*) FROM insights_storedevent WHERE position <= coalesce((
    SELECT c.position FROM insights_checkpoint c
    JOIN insights_projectionhead h ON h.generation_id = c.generation_id
    WHERE c.projector = 'read_models'), 0)
"""


class Ingest:
    """A private vhost, a fresh database, and the analytics worker as `make run` starts it."""

    def __init__(self, amqp_url: str, database_url: str, var: str):
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", var),
            # The worker imports this checkout's `common`, whatever the venv has installed.
            "PYTHONPATH": str(ROOT),
            "STREAMIFY_DEV": "1",
            "STREAMIFY_VAR_DIR": var,
            "CELERY_BROKER_URL": amqp_url,
            "ANALYTICS_DATABASE_URL": database_url,
            "STREAMIFY_LOG_LEVEL": "WARNING",
        }
        self.database_url, self.var = database_url, Path(var)
        self.worker = None

    def prepare(self) -> None:
        from common.testing.processes import manage

        manage("analytics", "migrate", "--noinput", env=self.env)
        manage("analytics", "setup_broker", env=self.env)

    def start_worker(self):
        from common.testing.processes import worker_process

        self.worker = worker_process(
            "analytics", env=self.env, log_dir=self.var, name="bench-worker", concurrency=4
        ).start()
        return self.worker

    def applied(self) -> int:
        import psycopg2

        with psycopg2.connect(self.database_url) as conn, conn.cursor() as cursor:
            cursor.execute(APPLIED)
            count = cursor.fetchone()[0]
        conn.close()
        return count

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()


def envelopes(count: int, rng: random.Random, offset: int) -> list[dict]:
    from common.events.envelope import make_envelope

    result = []
    for n in range(offset, offset + count):
        type, data, when = synthetic(n, rng)
        envelope = make_envelope(type=type, data=data, source="/streamify/bench")
        envelope["time"] = when.isoformat()
        result.append(envelope)
    return result


def publish(amqp_url: str, batch: list[dict], *, rate: float | None = None) -> float:
    """Send `batch` as the outbox relay does (topic exchange, key = type); return seconds taken.

    The task messages are built first (Celery's own `as_task_v2`, what `send_task` sends), so
    the clock runs only while they are published. With `rate`, publishing is paced to that many
    events per second.
    """
    from celery import Celery
    from kombu import Producer
    from kombu.serialization import dumps

    from common.events.topology import EVENTS_EXCHANGE

    app = Celery("bench-publisher", broker=amqp_url)
    messages = []
    for envelope in batch:
        task_id = str(uuid.uuid4())
        message = app.amqp.as_task_v2(task_id, DELIVER_TASK, args=[envelope], origin="bench")
        # Serialised here, so that the publishing loop only sends bytes.
        content_type, encoding, body = dumps(message.body, serializer="json")
        options = {"content_type": content_type, "content_encoding": encoding}
        messages.append((envelope["type"], body, message.headers, message.properties, options))
    started = time.perf_counter()
    try:
        with app.connection_for_write() as connection:
            producer = Producer(connection, exchange=EVENTS_EXCHANGE)
            producer.declare()
            for n, (routing_key, body, headers, properties, options) in enumerate(messages):
                if rate is not None:
                    due = started + n / rate
                    if (pause := due - time.perf_counter()) > 0:
                        time.sleep(pause)
                producer.publish(body, routing_key=routing_key, headers=headers, delivery_mode=2,
                                 **properties, **options)  # fmt: skip
    finally:
        app.close()
    return time.perf_counter() - started


def wait_applied(ingest: Ingest, target: int, *, timeout: float) -> tuple[float, float]:
    """Poll until `target` events are applied; return (first applied, all applied) times.

    Gives up after `timeout` seconds, or 30 seconds without progress (an event lost would
    stop it short of the target; the error says how short).
    """
    deadline, first, last_change, seen = time.monotonic() + timeout, None, time.monotonic(), -1
    while time.monotonic() < min(deadline, last_change + 30):
        applied = ingest.applied()
        if applied != seen:
            seen, last_change = applied, time.monotonic()
        if applied and first is None:
            first = time.perf_counter()
        if applied >= target:
            return first or time.perf_counter(), time.perf_counter()
        if not ingest.worker.alive():
            raise RuntimeError(f"worker exited:\n{ingest.worker.log_tail()}")
        time.sleep(0.05)
    raise TimeoutError(f"{ingest.applied()} of {target} applied, no progress for 30 s")


def profile_worker(pid: int, seconds: int, folder: Path) -> subprocess.Popen:
    spy = Path(sys.executable).parent / "py-spy"
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [str(spy), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200",
         "--format", "raw", "--output", str(folder / "ingest.folded"), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


def top_frames(folded: Path, count: int = 15) -> None:
    """Print the functions with the most samples (self and inclusive) of a py-spy raw file."""
    own, inclusive, total = {}, {}, 0
    for line in folded.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames, samples = stack.split(";"), int(samples)
        total += samples
        own[frames[-1]] = own.get(frames[-1], 0) + samples
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
    print(f"py-spy: {total} samples; top frames by own time, then inclusive:")
    for name, table in (("own", own), ("inclusive", inclusive)):
        for frame, samples in sorted(table.items(), key=lambda i: -i[1])[:count]:
            print(f"  {name:9} {samples / total:6.1%}  {frame}")


def bench_ingest(count: int, rate: float, seconds: float, rng, profile: Path | None) -> None:
    from common.testing.rabbitmq import private_vhost

    with (
        private_vhost("streamify-bench") as amqp_url,
        temporary_databases(["analytics"], prefix="streamify_bench_ingest") as urls,
        tempfile.TemporaryDirectory(prefix="analytics-ingest-") as var,
    ):
        ingest = Ingest(amqp_url, urls["analytics"], var)
        ingest.prepare()
        try:
            backlog = envelopes(count, rng, 0)
            took = publish(amqp_url, backlog)
            print(f"ingest: published {count} events in {took:.1f}s ({count / took:.0f}/s)")
            worker = ingest.start_worker()
            spy = profile_worker(worker.pid, 20, profile) if profile else None
            cpu = cpu_seconds([worker.pid])
            first, last = wait_applied(ingest, count, timeout=max(600, count / 20))
            cpu = cpu_seconds([worker.pid]) - cpu
            load = os.getloadavg()[0]
            print(f"ingest backlog: {count} events applied in {last - first:.2f}s "
                  f"= {count / max(last - first, 1e-9):.0f} events/s (first to last); "
                  f"worker CPU {cpu / count * 1e6:.0f} us/event; load {load:.1f}")  # fmt: skip
            if spy is not None:
                spy.wait()
                top_frames(profile / "ingest.folded")
            sustained(ingest, amqp_url, rate, seconds, rng, offset=count)
        finally:
            ingest.stop()


def sustained(ingest: Ingest, amqp_url: str, rate: float, seconds: float, rng, *, offset: int):
    total = int(rate * seconds)
    batch = envelopes(total, rng, offset)
    base = ingest.applied()
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append((time.perf_counter(), ingest.applied() - base))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    started = time.perf_counter()
    sampler.start()
    took = publish(amqp_url, batch, rate=rate)
    published_at = time.perf_counter()
    try:
        _, last = wait_applied(ingest, base + total, timeout=120)
        drained = f"all applied {last - published_at:.2f}s after the last publish"
    except TimeoutError:
        drained = f"{base + total - ingest.applied()} still not applied 120s after it"
    finally:
        done.set()
        sampler.join()
    lags = [int(min(rate * (t - started), total)) - n for t, n in samples if t <= published_at]
    at_end = [n for t, n in samples if t <= published_at][-1] if samples else 0
    print(f"ingest sustained: {total} events offered at {rate:.0f}/s over {took:.1f}s "
          f"(publisher reached {total / took:.0f}/s); applied meanwhile {at_end} "
          f"= {at_end / took:.0f}/s; lag max {max(lags, default=0)} events, at end "
          f"{total - at_end}; {drained}; load {os.getloadavg()[0]:.1f}")  # fmt: skip


# 3. replay


def bulk_load(upto: int, rng: random.Random) -> None:
    """Fill the store up to `upto` events without projecting (the input of a replay)."""
    from insights.event_specs import event_aggregate
    from insights.models import StoredEvent

    have = StoredEvent.objects.count()
    started = time.perf_counter()
    for chunk_start in range(have, upto, 10_000):
        rows = []
        for n in range(chunk_start, min(chunk_start + 10_000, upto)):
            type, data, when = synthetic(n, rng)
            aggregate_type, aggregate_id = event_aggregate(type=type, payload=data)
            rows.append(StoredEvent(event_id=uuid.uuid4(), type=type, source="/bench",
                                    aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                                    payload=data, occurred_at=when))  # fmt: skip
        StoredEvent.objects.bulk_create(rows, batch_size=5000)
    print(f"loaded {upto - have} events in {time.perf_counter() - started:.1f}s (store: {upto})")


def bench_replay(size: int) -> None:
    from insights import replay

    result = replay.replay_run()
    print(f"replay {size}: {result.events_replayed} events in {result.duration_ms / 1000:.1f}s "
          f"= {result.events_per_second:.0f} events/s")  # fmt: skip


# 4. queries


def bench_queries(count: int, rng: random.Random) -> None:
    from django.db import reset_queries
    from insights import selectors

    for name, query in [
        ("video stats", lambda: selectors.video_stats_get(video_id=rng.randint(1, VIDEOS))),
        ("user history", lambda: selectors.user_history_get(user_id=rng.randint(1, USERS))),
        ("platform stats", lambda: selectors.platform_stats_get()),
    ]:
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            query()
            timings.append((time.perf_counter() - started) * 1000)
            reset_queries()
        timings.sort()
        p50, p99 = statistics.median(timings), timings[int(len(timings) * 0.99) - 1]
        print(f"{name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {count} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated store sizes to replay")
    parser.add_argument("--append", type=int, default=2000, help="events for the append bench")
    parser.add_argument("--ingest", type=int, default=50_000, help="events in the bus backlog")
    parser.add_argument("--rate", type=float, default=2500, help="sustained bus events/s")
    parser.add_argument("--seconds", type=float, default=30, help="sustained run length")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"any of {', '.join(PARTS)}")
    parser.add_argument("--profile", type=Path, help="py-spy the worker, output in this folder")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(42)
    os.environ.setdefault("STREAMIFY_LOG_LEVEL", "WARNING")
    if "ingest" in parts:
        bench_ingest(args.ingest, args.rate, args.seconds, rng, args.profile)
    if not parts & {"append", "replay", "queries"}:
        return
    with temporary_databases(["analytics"], prefix="streamify_bench") as urls:
        os.environ.update(
            STREAMIFY_DEV="1",
            STREAMIFY_VAR_DIR=tempfile.mkdtemp(prefix="analytics-bench-"),
            ANALYTICS_DATABASE_URL=urls["analytics"],
            DJANGO_SETTINGS_MODULE="analytics_project.settings",
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from django.db import connection

        if "append" in parts:
            bench_append(args.append, rng)
        if "replay" in parts:
            for size in sizes:
                bulk_load(size, rng)
                bench_replay(size)
        if "queries" in parts:
            bench_queries(args.queries, rng)
        connection.close()


if __name__ == "__main__":
    main()
