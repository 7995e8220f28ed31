"""Parts 1, 3 and 4 of the benchmark: append, replay and query latency, measured in this
process, on the database and Django that `projections.main` set up."""

import random
import statistics
import time
import uuid

from synthetic_events import USERS, VIDEOS, synthetic

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


# 3. replay


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
