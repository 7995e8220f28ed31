"""Prometheus metrics: what every service counts, and the `/metrics` route that shows it.

- `instruments`: the counters and histograms every service shares (requests, queries, upstream
  calls, events, tasks); a service's own figures sit beside its code (`<app>/metrics.py`).
- `common.observed`: each request's count and latency, by route and status.
- `database`: each query's latency (and so their count), by database.
- `state`: figures read when Prometheus scrapes (outbox, dead letters, breakers, and each
  service's `METRICS_STATE`): they describe what is stored, so they are asked, not counted.
- `common.task_signals`: each Celery task's count and run time.
- `exposition`: `GET /metrics`, answered only to the allow-list; a worker running as a process
  of its own serves its counters on a port of its own.

docs/observability.md lists every metric and what it means.
"""

from prometheus_client import disable_created_metrics

# A `_created` sample beside every counter doubles the page for a figure nobody graphs.
disable_created_metrics()

# The readings every service's page has, before the ones its settings add (`metrics_state`).
COMMON_STATE = (
    "common.metrics.state.outbox",
    "common.metrics.state.queues",
    "common.metrics.state.breakers",
)
