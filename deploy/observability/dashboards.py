"""Grafana dashboards, one per area, written from the panels below.

    python -m deploy.observability.dashboards     # rewrites deploy/observability/dashboards/*.json

Every query reads only metrics the services export (docs/observability.md); a test boots the
platform and checks each name used here and in alerts.yml is on some service's page.
"""

import json
from pathlib import Path

FOLDER = Path(__file__).parent / "dashboards"
RATE = "[5m]"


def quantile(q: float, metric: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{RATE})))"


# (title, unit, [(query, legend)]) per panel; two panels a row.
AREAS = {
    "traffic": ("Streamify: traffic", [
        ("Requests per second by service", "reqps", [
            (f"sum by (job) (rate(streamify_http_requests_total{RATE}))", "{{job}}")]),
        ("Error answers (5xx) per second", "reqps", [
            (f'sum by (job, route) (rate(streamify_http_requests_total{{status=~"5.."}}{RATE}))',
             "{{job}} {{route}}")]),
        ("p99 latency by route", "s", [
            (quantile(0.99, "streamify_http_request_duration_seconds", "job, route"),
             "{{job}} {{route}}")]),
        ("Database queries per second and p95", "short", [
            (f"sum by (job) (rate(streamify_db_query_duration_seconds_count{RATE}))",
             "{{job}} queries/s"),
            (quantile(0.95, "streamify_db_query_duration_seconds", "job"), "{{job}} p95 s")]),
        ("Upstream calls by outcome", "reqps", [
            (f"sum by (job, upstream, outcome) (rate(streamify_upstream_calls_total{RATE}))",
             "{{job}} -> {{upstream}} {{outcome}}")]),
        ("Upstream p95 latency", "s", [
            (quantile(0.95, "streamify_upstream_call_duration_seconds", "job, upstream"),
             "{{job}} -> {{upstream}}")]),
        ("Breakers open", "short", [
            ('max by (job, upstream) (streamify_breaker_state{state="open"})',
             "{{job}} -> {{upstream}}")]),
        ("Rate-limit refusals per second", "reqps", [
            (f"sum by (group) (rate(streamify_ratelimit_rejections_total{RATE}))", "{{group}}")]),
    ]),
    "events": ("Streamify: events pipeline", [
        ("Events published per second", "short", [
            (f"sum by (type) (rate(streamify_events_published_total{RATE}))", "{{type}}")]),
        ("Events consumed per second by outcome", "short", [
            (f"sum by (job, outcome) (rate(streamify_events_consumed_total{RATE}))",
             "{{job}} {{outcome}}")]),
        ("Outbox: pending rows and oldest age", "short", [
            ("max by (job) (streamify_outbox_pending)", "{{job}} pending"),
            ("max by (job) (streamify_outbox_oldest_pending_seconds)", "{{job}} oldest s")]),
        ("Queues: waiting and dead-lettered", "short", [
            ("max by (queue) (streamify_queue_messages)", "{{queue}} waiting"),
            ("max by (job) (streamify_dlq_messages)", "{{job}} dead letters")]),
        ("Consumers per queue (0: its worker is down)", "short", [
            ("max by (queue) (streamify_queue_consumers)", "{{queue}}")]),
        ("Projection lag (events behind the store's head)", "short", [
            ("max by (projector) (streamify_projection_lag_events)", "{{projector}}")]),
        ("Celery tasks per second by state", "short", [
            (f"sum by (job, task, state) (rate(streamify_tasks_total{RATE}))",
             "{{job}} {{task}} {{state}}")]),
        ("Task p95 run time", "s", [
            (quantile(0.95, "streamify_task_duration_seconds", "job, task"), "{{job}} {{task}}")]),
        ("Retries and dead letters per second", "short", [
            (f'sum by (job, type) (rate(streamify_events_consumed_total'
             f'{{outcome=~"retried|dead_lettered"}}{RATE}))', "{{job}} {{type}}")]),
    ]),
    "money": ("Streamify: money", [
        ("Cents moved per minute by kind", "short", [
            (f"sum by (kind) (rate(streamify_billing_cents_total{RATE})) * 60", "{{kind}}")]),
        ("Ledger entries per minute by kind", "short", [
            (f"sum by (kind) (rate(streamify_billing_entries_total{RATE})) * 60", "{{kind}}")]),
        ("Minutes charged per minute", "short", [
            (f"sum (rate(streamify_stream_minutes_charged_total{RATE})) * 60", "minutes")]),
        ("Sessions being watched", "short", [
            ("sum (streamify_stream_sessions_active)", "active")]),
        ("Registration sagas by state", "short", [
            ("max by (status) (streamify_sagas)", "{{status}}")]),
        ("Saga duration p95 and oldest unfinished", "s", [
            (quantile(0.95, "streamify_saga_duration_seconds", "status"), "p95 {{status}}"),
            ("max (streamify_saga_oldest_unfinished_seconds)", "oldest unfinished")]),
    ]),
    "media": ("Streamify: media", [
        ("Videos by status", "short", [("max by (status) (streamify_videos)", "{{status}}")]),
        ("Processing p50 and p95 by outcome", "s", [
            (quantile(0.5, "streamify_video_processing_seconds", "outcome"), "p50 {{outcome}}"),
            (quantile(0.95, "streamify_video_processing_seconds", "outcome"), "p95 {{outcome}}")]),
        ("Processing failures per hour", "short", [
            (f"sum by (final) (rate(streamify_video_processing_failures_total{RATE})) * 3600",
             "final={{final}}")]),
        ("Upload and media requests per second", "reqps", [
            (f'sum by (route, status) (rate(streamify_http_requests_total{{job=~"video|streaming"}}'
             f"{RATE}))", "{{route}} {{status}}")]),
    ]),
}  # fmt: skip


def panel(index: int, title: str, unit: str, queries: list[tuple[str, str]]) -> dict:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"expr": expr, "legendFormat": legend, "refId": chr(ord("A") + n)}
            for n, (expr, legend) in enumerate(queries)
        ],
    }


def dashboard(area: str) -> dict:
    title, panels = AREAS[area]
    return {
        "uid": f"streamify-{area}",
        "title": title,
        "tags": ["streamify"],
        "schemaVersion": 39,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "10s",
        "templating": {
            "list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]
        },
        "panels": [panel(i, *spec) for i, spec in enumerate(panels)],
    }


def rendered() -> dict[str, str]:
    return {
        f"{area}.json": json.dumps(dashboard(area), indent=2, sort_keys=True) + "\n"
        for area in AREAS
    }


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (FOLDER / name).write_text(text)
        print(f"wrote {FOLDER / name}")


if __name__ == "__main__":
    main()
