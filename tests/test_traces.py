"""One action, one trace, on `make run`. Starting a stream through the gateway is one trace id
across the gateway, streaming, video's gRPC, billing's charge, and analytics consuming
`stream.started` from the broker and then projecting it; a registration is one trace across
the saga's steps on every worker; and the JSON log lines of each hop name that trace, the
request id the client got back and the user, and never a token or a password. (The same
through the web UI, in Chromium: tests/browser/test_webui.py.)"""

import json
import uuid

import jwt
import pytest
import requests

from common.testing.processes import wait_for
from deploy.booted import booted_platform
from tests.support.traces import (
    STREAM_START_HOPS,
    parent_outside,
    service_of,
    trace_holding,
    trace_of,
)

DEMO = {"email": "demo@streamify.local", "password": "streamify-demo"}


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """`make run` writing every process's spans as JSON lines, and its log lines as JSON."""
    traces = tmp_path_factory.mktemp("traces")
    env = {
        "STREAMIFY_TRACES_FILE": str(traces),
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "STREAMIFY_LOG_FORMAT": "json",
        "STREAMIFY_ACCESS_LOG": "1",
        "STREAMIFY_LOG_LEVEL": "INFO",  # the suites' default is WARNING
    }
    with booted_platform(env=env) as platform:
        platform.wait_healthy()
        yield platform, traces


def test_starting_a_stream_is_one_trace_from_the_gateway_to_analytics(traced):
    platform, traces = traced
    gateway = platform.url("gateway")
    login = requests.post(f"{gateway}/api/auth/login", json=DEMO, timeout=30).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    requests.post(f"{gateway}/api/billing/deposit", json={"amount": 5000}, headers=auth)
    videos = requests.get(f"{gateway}/api/videos", headers=auth, timeout=30).json()["videos"]
    paid = next(v for v in videos if v["pricePerMinute"] > 0 and v["status"] == "ready")
    start = requests.post(f"{gateway}/api/stream/start/{paid['id']}", headers=auth, timeout=30)
    assert start.status_code == 200, start.text
    request_id = start.headers["X-Request-ID"]

    # Then the one trace holds every hop, each a child of the one before it
    spans = trace_holding(
        traces,
        STREAM_START_HOPS,
        method="POST",
        path_ends=f"/api/stream/start/{paid['id']}",
    )
    by_id = {s["context"]["span_id"]: s for s in spans}
    assert parent_outside(spans) == []
    consumer = next(s for s in spans if s["name"] == "stream.started process")
    published_by = by_id[consumer["parent_id"]]
    assert service_of(published_by) == "streaming"
    assert consumer["attributes"]["messaging.destination.name"] == "analytics.events"
    # ... and analytics' projection of the event, done in a batch after the consumer's
    # transaction, is in the publisher's trace too.
    projected = next(s for s in spans if s["name"] == "stream.started project")
    assert service_of(projected) == "analytics"
    assert projected["parent_id"] == consumer["parent_id"]
    assert projected["attributes"]["analytics.positions"] >= 1

    # And the log lines of the hops name the trace, the request and the user
    def served() -> dict[str, dict]:
        lines = [
            json.loads(line)
            for line in platform.log_tail(2_000_000).splitlines()
            if line.startswith("{")
        ]
        return {
            line["service"]: line for line in lines
            if line.get("logger") == "streamify.requests" and line.get("request_id") == request_id
        }  # fmt: skip

    by_service = wait_for(
        lambda: (found := served()).keys() >= {"gateway", "streaming", "billing"} and found,
        timeout=30,
        what="the request's line from the gateway, streaming and billing",
    )
    streaming = by_service["streaming"]
    assert streaming["trace_id"] == consumer["context"]["trace_id"].removeprefix("0x")
    assert streaming["route"] == "/api/stream/start/<int:video_id>"
    assert streaming["status"] == 200 and streaming["duration_ms"] > 0
    claims = jwt.decode(login["token"], options={"verify_signature": False})
    assert streaming["user_id"] == claims["user_id"]
    assert by_service["gateway"]["route"] == "proxy:streaming"

    # And no line holds a token or a password
    text = platform.log_tail(2_000_000)
    assert login["token"] not in text and "streamify-demo" not in text
    assert "Bearer" not in text


def test_a_registration_saga_is_one_trace_across_its_steps_and_their_events(traced):
    platform, traces = traced
    gateway = platform.url("gateway")
    email = f"traced-{uuid.uuid4().hex[:8]}@example.com"
    saga = requests.post(
        f"{gateway}/api/saga/register",
        json={"email": email, "password": "password123", "firstName": "Ida", "lastName": "Lo"},
        timeout=30,
    )
    assert saga.status_code in (201, 202), saga.text

    def the_trace() -> list[dict]:
        return trace_of(traces, method="POST", path_ends="/api/saga/register")

    # Each step runs on its own service's worker, sent by the gateway in the same trace, and
    # auth's user.registered, consumed by analytics, is part of it
    wanted = {("analytics", "CONSUMER", "user.registered process")}
    for service, step in (("auth", "create_user"), ("billing", "create_wallet"),
                          ("analytics", "create_profile")):  # fmt: skip
        wanted |= {
            ("gateway", "PRODUCER", f"apply_async/{service}.saga.{step}"),
            (service, "CONSUMER", f"run/{service}.saga.{step}"),
            (service, "PRODUCER", "apply_async/gateway.saga.step_succeeded"),
        }
    trace_holding(traces, wanted, method="POST", path_ends="/api/saga/register")
    # ... and the orchestrator hears of each step's end as a task of its own: three of them.
    wait_for(
        lambda: [s["name"] for s in the_trace()].count("run/gateway.saga.step_succeeded") == 3,
        timeout=60,
        what="the gateway hearing of all three steps",
    )
    spans = the_trace()
    assert parent_outside(spans) == []
    assert (
        requests.get(f"{gateway}/api/saga/{saga.json()['sagaId']}", timeout=10).json()["status"]
        == "completed"
    )

    # And each task, a step here, has its own log line, Celery's own lines left out
    def lines() -> list[dict]:
        text = platform.log_tail(2_000_000)
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def wallet_step() -> dict | None:
        return next(
            (line for line in lines() if line.get("logger") == "streamify.tasks"
             and line.get("task") == "billing.saga.create_wallet"),
            None,
        )  # fmt: skip

    step = wait_for(wallet_step, timeout=30, what="the wallet step's log line")
    assert step["state"] == "SUCCESS" and step["duration_ms"] > 0 and step["task_id"]
    assert not [line for line in lines() if line.get("logger") == "celery.app.trace"]
