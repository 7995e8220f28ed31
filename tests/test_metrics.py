"""`/metrics` on `make run`, as an operator reads it: one viewer's journey (deposit, a paid
stream, a registration saga) moves the figures of every service it touches, and each page is
valid Prometheus text. (Who may read a page: common/tests/test_metrics_exposition.py.)"""

import operator
import re
import uuid

import pytest
import requests
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from common.service_registry import SERVICES
from common.testing.processes import wait_for
from deploy.booted import booted_platform
from tests.test_observability_files import alert_rules, named_metrics

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}

DEMO = {"email": "demo@streamify.local", "password": "streamify-demo"}


def scrape(platform, service: str) -> dict[tuple, float]:
    """Every sample of `service`'s page: {(name, (label, value) pairs sorted): value}."""
    answer = requests.get(platform.url(service, "/metrics"), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def names_on(platform) -> set[str]:
    """Every metric name some service's page declares, with the sample names it implies (a
    labelled counter no one has counted yet has no sample, but is declared)."""
    names = set()
    for service in SERVICES:
        text = requests.get(platform.url(service, "/metrics"), timeout=10).text
        for family in text_string_to_metric_families(text):
            names.add(family.name)
            names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
            names.update(sample.name for sample in family.samples)
    return names


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def test_a_journey_moves_the_figures_of_every_service_it_touches():
    with booted_platform() as platform:
        platform.wait_healthy()
        gateway = platform.url("gateway")
        before = {service: scrape(platform, service) for service in SERVICES}

        token = requests.post(f"{gateway}/api/auth/login", json=DEMO, timeout=30).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        deposit = requests.post(
            f"{gateway}/api/billing/deposit", json={"amount": 5000}, headers=auth, timeout=30
        )
        assert deposit.status_code == 200, deposit.text
        videos = requests.get(f"{gateway}/api/videos", headers=auth, timeout=30).json()["videos"]
        paid = next(v for v in videos if v["pricePerMinute"] > 0 and v["status"] == "ready")
        start = requests.post(f"{gateway}/api/stream/start/{paid['id']}", headers=auth, timeout=30)
        assert start.status_code == 200, start.text
        session_id = start.json()["sessionId"]

        # While the session is open, streaming counts it as watched now.
        streaming = scrape(platform, "streaming")
        assert value(streaming, "streamify_stream_sessions_active") == 1
        assert total(streaming, "streamify_stream_minutes_charged_total") == 1 + total(
            before["streaming"], "streamify_stream_minutes_charged_total"
        )

        ended = requests.post(f"{gateway}/api/stream/end/{session_id}", headers=auth, timeout=30)
        assert ended.status_code == 200, ended.text
        email = f"metrics-{uuid.uuid4().hex[:8]}@example.com"
        saga = requests.post(
            f"{gateway}/api/saga/register",
            json={"email": email, "password": "password123", "firstName": "Mia", "lastName": "Eto"},
            timeout=30,
        )
        assert saga.status_code in (201, 202), saga.text
        saga_id = saga.json()["sagaId"]
        wait_for(
            lambda: (
                requests.get(f"{gateway}/api/saga/{saga_id}", timeout=10).json()["status"]
                == "completed"
            ),
            timeout=60,
            what="the registration saga",
        )

        def applied_by_analytics(type: str) -> float:
            page = scrape(platform, "analytics")
            return value(page, "streamify_events_consumed_total", type=type, outcome="applied")

        wait_for(
            lambda: (
                applied_by_analytics("stream.started") >= 1
                and applied_by_analytics("user.registered") > value(
                    before["analytics"], "streamify_events_consumed_total",
                    type="user.registered", outcome="applied",
                )
            ),
            timeout=30,
            what="analytics to apply stream.started and the newcomer's user.registered",
        )  # fmt: skip
        after = {service: scrape(platform, service) for service in SERVICES}

        def moved(service: str, name: str, **labels) -> float:
            return value(after[service], name, **labels) - value(before[service], name, **labels)

        # The gateway: proxied requests by upstream, calls by outcome, the saga, the breakers.
        assert moved("gateway", "streamify_http_requests_total",
                     route="proxy:billing", method="POST", status="200") == 1  # fmt: skip
        assert moved("gateway", "streamify_http_requests_total",
                     route="proxy:streaming", method="POST", status="200") == 2  # fmt: skip
        assert moved("gateway", "streamify_upstream_calls_total",
                     upstream="billing", outcome="ok") >= 1  # fmt: skip
        assert moved("gateway", "streamify_sagas", status="completed") == 1
        assert moved("gateway", "streamify_saga_duration_seconds_count", status="completed") == 1
        assert value(after["gateway"], "streamify_breaker_state", upstream="billing",
                     state="closed") == 1  # fmt: skip

        # Billing: the deposit and the first minute's charge, in entries and in cents.
        assert moved("billing", "streamify_billing_entries_total", kind="deposit") == 1
        assert moved("billing", "streamify_billing_cents_total", kind="deposit") == 5000
        assert moved("billing", "streamify_billing_entries_total", kind="charge") == 1
        assert (
            moved("billing", "streamify_billing_cents_total", kind="charge")
            == (paid["pricePerMinute"])
        )
        # The newcomer's wallet is the saga's step alone: auth's event is analytics' only.
        assert moved("analytics", "streamify_events_consumed_total",
                     type="user.registered", outcome="applied") == 1  # fmt: skip
        assert moved("billing", "streamify_events_consumed_total",
                     type="user.registered", outcome="applied") == 0  # fmt: skip

        # Streaming: one minute charged (ended within it), no session open any more.
        assert value(after["streaming"], "streamify_stream_sessions_active") == 0
        assert moved("streaming", "streamify_upstream_calls_total",
                     upstream="billing", outcome="ok") >= 1  # fmt: skip

        # Auth and streaming published what analytics then consumed; nothing is left behind.
        assert moved("auth", "streamify_events_published_total", type="user.registered") == 1
        assert moved("streaming", "streamify_events_published_total", type="stream.started") == 1
        assert value(after["analytics"], "streamify_projection_lag_events",
                     projector="read_models") >= 0  # fmt: skip
        assert value(after["analytics"], "streamify_event_store_head_position") > value(
            before["analytics"], "streamify_event_store_head_position"
        )

        for service in SERVICES:
            page = after[service]
            assert total(page, "streamify_db_query_duration_seconds_count") > 0, service
            assert value(page, "streamify_dlq_messages") == 0, service
            assert ("streamify_outbox_pending", ()) in page, service
            assert value(page, "streamify_outbox_oldest_pending_seconds") < 30, service
            assert total(page, "streamify_metrics_state_errors_total") == 0, service

        # Every metric the alerts and dashboards read is on some service's page.
        missing = named_metrics() - names_on(platform)
        assert not missing, f"alerts or dashboards read metrics nobody exports: {missing}"

        # The gateway relays /api/* only: no upstream's page is reachable through it.
        relayed = requests.get(f"{gateway}/api/billing/metrics", timeout=10)
        assert relayed.status_code == 404 and "streamify_" not in relayed.text


def _stop_worker_apart(platform) -> None:
    platform.ctl("stop", "billing-worker")


def _start_worker_apart(platform) -> None:
    platform.ctl("start", "billing-worker")


def _stop_worker_inside(platform) -> None:
    # What Flower's "Shut Down" does: the worker thread stops, billing's web process serves on.
    (name,) = [n for n in platform.workers() if n.startswith("billing@")]
    with Celery(broker=platform.env["CELERY_BROKER_URL"]) as app:
        app.control.shutdown(destination=[name])  # it leaves without a reply


def _start_worker_inside(platform) -> None:
    platform.ctl("restart", "billing")


@pytest.mark.parametrize(
    "stop, start, env",
    [
        (_stop_worker_inside, _start_worker_inside, {}),
        (_stop_worker_apart, _start_worker_apart, {"STREAMIFY_WORKERS_APART": "1"}),
    ],
    ids=["worker-inside-web", "workers-apart"],
)
def test_a_stopped_worker_shows_as_an_unconsumed_queue_filling_up_until_it_is_back(
    stop, start, env
):
    with booted_platform(real=True, env=env) as platform:
        platform.wait_healthy()
        gateway = platform.url("gateway")
        billing_queues = ("billing", "billing.commands", "billing.events")

        def billing(name: str, queue: str) -> float:
            return value(scrape(platform, "billing"), name, queue=queue)

        wait_for(
            lambda: all(billing("streamify_queue_consumers", q) == 1 for q in billing_queues),
            timeout=60,
            what="billing's worker consuming",
        )
        assert firing("StreamifyQueueUnconsumed", pages(platform)) == set()

        # When billing's worker stops, its queues lose their consumer: the alert's expression
        # holds for each of them, on the page of billing's web process, which still answers.
        stop(platform)
        assert requests.get(platform.url("billing", "/health/live"), timeout=5).ok
        wait_for(
            lambda: all(billing("streamify_queue_consumers", q) == 0 for q in billing_queues),
            timeout=30,
            what="billing's queues without a consumer",
        )
        assert firing("StreamifyQueueUnconsumed", pages(platform)) == {
            ("billing", queue) for queue in billing_queues
        }

        # A registration now waits on billing: its saga command piles up in billing's queue,
        # and the saga stays unfinished.
        saga = requests.post(
            f"{gateway}/api/saga/register",
            json={"email": f"stopped-{uuid.uuid4().hex[:8]}@example.com",
                  "password": "password123", "firstName": "Ana", "lastName": "Ito"},
            timeout=30,
        )  # fmt: skip
        assert saga.status_code in (201, 202), saga.text
        saga_url = f"{gateway}/api/saga/{saga.json()['sagaId']}"
        wait_for(
            lambda: billing("streamify_queue_messages", "billing.commands") == 1,
            timeout=30,
            what="the wallet command waiting in billing's queue",
        )
        # Auth's step, and with it the relay of its user.registered, finished before the
        # gateway sent billing's: the event went to analytics only.
        assert billing("streamify_queue_messages", "billing.events") == 0
        assert requests.get(saga_url, timeout=10).json()["status"] == "running"
        waiting = scrape(platform, "gateway")
        assert value(waiting, "streamify_sagas", status="running") == 1
        assert value(waiting, "streamify_saga_oldest_unfinished_seconds") > 0
        # The senders' outboxes do not fill: each relayed its rows to the broker on commit.
        assert firing("StreamifyOutboxStalled", pages(platform)) == set()
        for service, page in pages(platform).items():
            assert value(page, "streamify_outbox_pending") == 0, service

        # Once the worker is back, it drains both queues, the saga completes and nothing fires.
        start(platform)
        wait_for(
            lambda: requests.get(saga_url, timeout=10).json()["status"] == "completed",
            timeout=60,
            what="the saga to complete",
        )
        wait_for(
            lambda: all(
                billing("streamify_queue_consumers", q) == 1
                and billing("streamify_queue_messages", q) == 0
                for q in billing_queues
            ),
            timeout=30,
            what="billing's queues drained",
        )
        assert firing("StreamifyQueueUnconsumed", pages(platform)) == set()
        assert value(scrape(platform, "gateway"), "streamify_sagas", status="running") == 0


def pages(platform) -> dict[str, dict]:
    """Every service's page, by the job name Prometheus gives it (deploy/observability)."""
    return {service: scrape(platform, service) for service in SERVICES}


# The shape of the single-comparison rules in alerts.yml: `max by (labels) (metric) op number`.
SINGLE_COMPARISON = re.compile(r"max by \(([\w, ]+)\) \((streamify_\w+)\) (==|>) (\d+)")


def firing(alert: str, pages: dict[str, dict]) -> set[tuple]:
    """The label values for which `alert`'s expression holds on these pages (its `for:` aside),
    evaluated as Prometheus would for a rule of the single-comparison shape."""
    (expr,) = [rule["expr"] for rule in alert_rules() if rule["alert"] == alert]
    by, metric, op, threshold = SINGLE_COMPARISON.fullmatch(expr.strip()).groups()
    keys = [label.strip() for label in by.split(",")]
    largest: dict[tuple, float] = {}
    for job, page in pages.items():
        for (name, labels), sample in page.items():
            if name == metric:
                key = tuple({**dict(labels), "job": job}[k] for k in keys)
                largest[key] = max(largest.get(key, sample), sample)
    compare = {"==": operator.eq, ">": operator.gt}[op]
    return {key for key, sample in largest.items() if compare(sample, float(threshold))}
