"""The benchmark's synthetic events: the platform's usual mix, for the bus or straight into the
store."""

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

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


def envelopes(count: int, rng: random.Random, offset: int) -> list[dict]:
    from common.events.envelope import make_envelope

    result = []
    for n in range(offset, offset + count):
        type, data, when = synthetic(n, rng)
        envelope = make_envelope(type=type, data=data, source="/streamify/bench")
        envelope["time"] = when.isoformat()
        result.append(envelope)
    return result


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
