"""Event backbone figures: commit->applied latency and what one consumer sustains.

    python -m tests.bench.events [--events 1000] [--backend embedded|real|both]

auth publishes `user.deleted` (one transaction per event, through the outbox and the
after-commit relay); billing's worker applies it (inbox row, and a look for a wallet to close,
which these synthetic users do not have). Latency is billing's inbox
`applied_at` minus auth's outbox `created_at`, both taken from the same machine clock;
once under a steady stream (50 events/s offered) and once for events one second apart.
"""

import argparse
import statistics
import tempfile
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from common.testing.platform import Platform
from common.testing.postgres import temporary_databases
from common.testing.processes import wait_for
from common.testing.rabbitmq import private_vhost
from tests.test_event_backbone import run_in_service

PUBLISH = """
import time
from django.db import transaction
from common.events import publish
for i in range({count}):
    with transaction.atomic():
        publish('user.deleted', {{'userId': {base} + i, 'email': f'b{{i}}@example.com'}})
    time.sleep({pause})
"""


def as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def publish(platform: Platform, count: int, base: int, pause: float) -> None:
    run_in_service(platform, "auth", PUBLISH.format(count=count, base=base, pause=pause))


def applied(platform: Platform) -> int:
    return platform.scalar("billing", "SELECT count(*) FROM events_inboxevent")


def latencies(platform: Platform) -> dict[str, float]:
    """commit->applied milliseconds of every applied event, by event id."""
    created = {
        str(event_id).replace("-", ""): as_datetime(at)
        for event_id, at in platform.query("auth", "SELECT id, created_at FROM events_outboxevent")
    }
    found = {}
    for event_id, at in platform.query(
        "billing", "SELECT event_id, applied_at FROM events_inboxevent"
    ):
        key = str(event_id).replace("-", "")
        if key in created:
            found[key] = (as_datetime(at) - created[key]).total_seconds() * 1000
    return found


def publish_rate(platform: Platform) -> float:
    first, last = platform.query(
        "auth", "SELECT min(created_at), max(created_at) FROM events_outboxevent"
    )[0]
    return (platform.scalar("auth", "SELECT count(*) FROM events_outboxevent") - 1) / (
        as_datetime(last) - as_datetime(first)
    ).total_seconds()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(kind: str, events: int, sporadic: int) -> None:
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="streamify-bench-")))
        broker, databases = None, {}
        if kind == "real":
            broker = stack.enter_context(private_vhost("streamify-bench"))
            databases = stack.enter_context(
                temporary_databases(["auth", "billing"], "streamify_bench")
            )
        platform = Platform(root, broker_url=broker, database_urls=databases)
        stack.callback(platform.stop)
        platform.extra_env["STREAMIFY_LOG_LEVEL"] = "WARNING"
        platform.prepare("auth", "billing")
        platform.start_worker("auth")
        # Latency as the platform runs it: the Procfile's worker (4 threads), about 40 events/s.
        consumer = platform.start_worker("billing", concurrency=4)

        publish(platform, events, base=1, pause=0.02)
        wait_for(lambda: applied(platform) >= events, timeout=600, what="all events applied")
        steady = latencies(platform)
        values = list(steady.values())
        print(
            f"[{kind}] commit->applied over {len(values)} events "
            f"({publish_rate(platform):.0f} events/s published): "
            f"p50 {percentile(values, 50):.1f} ms  p99 {percentile(values, 99):.1f} ms  "
            f"max {max(values):.1f} ms"
        )
        # One event a second, as a user clicking around makes them: the consumer is idle
        # (and the embedded broker polling slowly) when each arrives.
        publish(platform, sporadic, base=5_000_000, pause=1.0)
        wait_for(lambda: applied(platform) >= events + sporadic, timeout=120, what="sporadic")
        values = [ms for key, ms in latencies(platform).items() if key not in steady]
        print(
            f"[{kind}] commit->applied over {len(values)} events one second apart: "
            f"p50 {percentile(values, 50):.1f} ms  max {max(values):.1f} ms"
        )

        consumer.stop()
        before = applied(platform)
        publish(platform, events, base=10_000_000, pause=0)
        platform.start_worker("billing", name="billing-drain", concurrency=1)
        wait_for(lambda: applied(platform) >= before + events, timeout=600, what="backlog drained")
        rows = platform.query(
            "billing", "SELECT applied_at FROM events_inboxevent ORDER BY applied_at"
        )[before:]
        times = [as_datetime(at) for (at,) in rows]
        span = (times[-1] - times[0]).total_seconds()
        print(
            f"[{kind}] one consumer thread drained {len(times)} queued events at "
            f"{(len(times) - 1) / span:.0f} events/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--sporadic", type=int, default=20, help="events one second apart")
    parser.add_argument("--backend", choices=["embedded", "real", "both"], default="both")
    args = parser.parse_args()
    for kind in ("real", "embedded") if args.backend == "both" else (args.backend,):
        run(kind, args.events, args.sporadic)


if __name__ == "__main__":
    main()
