"""Part 2 of the benchmark: bus events taken into the store and the read models by a real
analytics worker, from a backlog and at a sustained rate."""

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from synthetic_events import envelopes

import common
from common.testing.postgres import temporary_databases
from common.testing.processes import cpu_seconds

# common.events.relay.DELIVER_TASK (that module needs Django set up, the publisher does not).
DELIVER_TASK = "streamify.events.deliver"

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
            "PYTHONPATH": str(Path(common.__file__).resolve().parents[1]),
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
