"""Analytics benchmarks, run by hand against a throw-away PostgreSQL database:

    cd analytics_project && ../.venv/bin/python bench/projections.py --sizes 100000,300000

1. append + project: events/s through `event_append` (store + inline read models, one
   transaction each) and through the lagging daily catch-up;
2. replay: bulk-load N synthetic events straight into the store, then time `replay_run`;
3. query latency: p50/p99 of the video-stats query at the largest size.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "analytics_project")]

from common.testing.postgres import temporary_databases  # noqa: E402

USERS, VIDEOS, DAYS = 10_000, 1_000, 90
START = datetime(2026, 1, 1, tzinfo=UTC)


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


def bench_append(count: int, rng: random.Random) -> None:
    """Each event in its own transaction (as the consumer does), then 100 per transaction.

    The difference between the two is what the durable COMMIT (fsync) costs per event.
    """
    from django.db import transaction
    from insights import services

    def append(n: int) -> None:
        type, data, when = synthetic(n, rng)
        services.event_append(event_id=uuid.uuid4(), type=type, data=data, source="/bench",
                              envelope_time=when.isoformat())  # fmt: skip

    started = time.perf_counter()
    for n in range(count):
        append(n)
    elapsed = time.perf_counter() - started
    print(f"append+project, 1 event/commit: {count} in {elapsed:.2f}s = {count / elapsed:.0f}/s")
    started = time.perf_counter()
    for chunk in range(0, count, 100):
        with transaction.atomic():
            for n in range(chunk, min(chunk + 100, count)):
                append(count + n)
    elapsed = time.perf_counter() - started
    print(f"append+project, 100 events/commit: {count} in {elapsed:.2f}s = {count / elapsed:.0f}/s")
    started = time.perf_counter()
    applied = services.daily_metrics_catch_up()
    elapsed = time.perf_counter() - started
    print(f"daily catch-up: {applied} events in {elapsed:.2f}s = {applied / elapsed:.0f} events/s")


def bulk_load(upto: int, rng: random.Random) -> None:
    """Fill the store up to `upto` events without projecting (the input of a replay)."""
    from insights.catalog import event_aggregate
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
    from insights import services

    result = services.replay_run()
    print(f"replay {size}: {result.events_replayed} events in {result.duration_ms / 1000:.1f}s "
          f"= {result.events_per_second:.0f} events/s")  # fmt: skip


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
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(42)
    with temporary_databases(["analytics"], prefix="streamify_bench") as urls:
        os.environ.update(
            STREAMIFY_DEV="1",
            STREAMIFY_VAR_DIR=tempfile.mkdtemp(prefix="analytics-bench-"),
            ANALYTICS_DATABASE_URL=urls["analytics"],
            DJANGO_SETTINGS_MODULE="analytics_project.settings",
            STREAMIFY_LOG_LEVEL="WARNING",
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from django.db import connection

        bench_append(args.append, rng)
        for size in sizes:
            bulk_load(size, rng)
            bench_replay(size)
        bench_queries(args.queries, rng)
        connection.close()


if __name__ == "__main__":
    main()
