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
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "analytics_project")]

from in_process_parts import bench_append, bench_queries, bench_replay  # noqa: E402
from synthetic_events import bulk_load  # noqa: E402
from worker_ingest import bench_ingest  # noqa: E402

from common.testing.postgres import temporary_databases  # noqa: E402

PARTS = ("append", "ingest", "replay", "queries")


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
