"""The instruments every service shares. Metric names follow Prometheus' conventions: a unit
suffix, `_total` added to counters by the client library."""

from django.db import transaction
from prometheus_client import Counter, Histogram

# From a millisecond (a cached read) to ten seconds (an upload relayed, a slow upstream).
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "streamify_http_requests", "HTTP requests answered", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "streamify_http_request_duration_seconds",
    "Time from a request's arrival to its answer",
    ["route", "method"],
    buckets=SECONDS,
)
DB_QUERY_DURATION = Histogram(
    "streamify_db_query_duration_seconds",
    "Time each database query took (its _count is the number of queries)",
    ["database"],
    buckets=SECONDS,
)
UPSTREAM_CALLS = Counter(
    "streamify_upstream_calls",
    "Calls to another service (HTTP or gRPC) by outcome: ok, failed (upstream failure: "
    "refused, timed out, 5xx), rejected (breaker open, never sent)",
    ["upstream", "outcome"],
)
UPSTREAM_DURATION = Histogram(
    "streamify_upstream_call_duration_seconds",
    "Time each call to another service took, failures included",
    ["upstream"],
    buckets=SECONDS,
)
RATE_LIMITED = Counter(
    "streamify_ratelimit_rejections", "Requests refused with 429 by the rate limits", ["group"]
)
EVENTS_PUBLISHED = Counter(
    "streamify_events_published", "Events the outbox relay handed to the broker", ["type"]
)
EVENTS_CONSUMED = Counter(
    "streamify_events_consumed",
    "Events taken from this service's queue by outcome: applied, duplicate (already in the "
    "inbox: skipped), retried, dead_lettered",
    ["type", "outcome"],
)
TASKS = Counter("streamify_tasks", "Celery tasks run by this service's worker", ["task", "state"])
TASK_DURATION = Histogram(
    "streamify_task_duration_seconds", "Time each Celery task ran", ["task"], buckets=SECONDS
)


def on_commit(child, amount: float = 1) -> None:
    """Count `amount` on counter `child` once the current transaction commits (at once when
    there is none): a rolled-back charge is not a charge."""
    transaction.on_commit(lambda: child.inc(amount))
