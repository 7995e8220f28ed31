"""One click, one trace, on `make run`: starting a stream through the gateway is one trace id
across the gateway, streaming, video's gRPC, billing's charge, and analytics consuming
`stream.started` from the broker and then projecting it; and the JSON log lines of each hop
name that trace, the request id the client got back and the user, and never a token or a
password."""

import json
import time

import jwt
import requests

from common.testing.processes import wait_for
from deploy.booted import booted_platform

DEMO = {"email": "demo@streamify.local", "password": "streamify-demo"}


def spans_in(folder) -> list[dict]:
    found = []
    for path in folder.glob("*.jsonl"):
        found += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return found


def service_of(span: dict) -> str:
    return span["resource"]["attributes"]["service.name"]


def url_of(span: dict) -> str:
    attributes = span["attributes"]
    return attributes.get("url.path", "")


def test_starting_a_stream_is_one_trace_from_the_gateway_to_analytics(tmp_path):
    traces = tmp_path / "traces"
    env = {
        "STREAMIFY_TRACES_FILE": str(traces),
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "STREAMIFY_LOG_FORMAT": "json",
        "STREAMIFY_ACCESS_LOG": "1",
        "STREAMIFY_LOG_LEVEL": "INFO",  # the suites' default is WARNING
    }
    with booted_platform(env=env) as platform:
        platform.wait_healthy()
        gateway = platform.url("gateway")
        login = requests.post(f"{gateway}/api/auth/login", json=DEMO, timeout=30).json()
        auth = {"Authorization": f"Bearer {login['token']}"}
        requests.post(f"{gateway}/api/billing/deposit", json={"amount": 5000}, headers=auth)
        videos = requests.get(f"{gateway}/api/videos", headers=auth, timeout=30).json()["videos"]
        paid = next(v for v in videos if v["pricePerMinute"] > 0 and v["status"] == "ready")
        start = requests.post(f"{gateway}/api/stream/start/{paid['id']}", headers=auth, timeout=30)
        assert start.status_code == 200, start.text
        request_id = start.headers["X-Request-ID"]

        def the_trace() -> list[dict]:
            spans = spans_in(traces)
            edge = [
                s for s in spans
                if service_of(s) == "gateway" and s["kind"] == "SpanKind.SERVER"
                and url_of(s).endswith(f"/api/stream/start/{paid['id']}")
            ]  # fmt: skip
            if not edge:
                return []
            trace_id = edge[0]["context"]["trace_id"]
            return [s for s in spans if s["context"]["trace_id"] == trace_id]

        def consumed_and_projected(spans) -> bool:
            names = {s["name"] for s in spans}
            return {"stream.started process", "stream.started project"} <= names

        wait_for(
            lambda: consumed_and_projected(the_trace()),
            timeout=30,
            what="analytics' consumer and projection spans in the trace",
        )
        spans = the_trace()
        by_id = {s["context"]["span_id"]: s for s in spans}
        names = {(service_of(s), s["kind"].removeprefix("SpanKind."), s["name"]) for s in spans}

        # Then the one trace holds every hop, each a child of the one before it
        assert ("gateway", "SERVER", "POST proxy:streaming") in names
        assert ("streaming", "SERVER", "POST /api/stream/start/<int:video_id>") in names
        assert ("video", "SERVER", "/video.VideoService/GetVideo") in names
        assert ("billing", "SERVER", "POST /api/billing/charge") in names
        assert ("analytics", "CONSUMER", "stream.started process") in names
        for span in spans:
            if span["parent_id"] is not None:
                assert span["parent_id"] in by_id, (span["name"], "has a parent outside")
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
        time.sleep(0.5)
        lines = [
            json.loads(line)
            for line in platform.log_tail(2_000_000).splitlines()
            if line.startswith("{")
        ]
        served = [
            line for line in lines
            if line.get("logger") == "streamify.requests" and line.get("request_id") == request_id
        ]  # fmt: skip
        by_service = {line["service"]: line for line in served}
        assert set(by_service) >= {"gateway", "streaming", "billing"}, served
        streaming = by_service["streaming"]
        assert streaming["trace_id"] == consumer["context"]["trace_id"].removeprefix("0x")
        assert streaming["route"] == "/api/stream/start/<int:video_id>"
        assert streaming["status"] == 200 and streaming["duration_ms"] > 0
        claims = jwt.decode(login["token"], options={"verify_signature": False})
        assert streaming["user_id"] == claims["user_id"]
        assert by_service["gateway"]["route"] == "proxy:streaming"

        # And each task has its own line, Celery's own lines left out
        tasks = [line for line in lines if line.get("logger") == "streamify.tasks"]
        assert tasks and {"task", "task_id", "state", "duration_ms"} <= set(tasks[0])
        assert not [line for line in lines if line.get("logger") == "celery.app.trace"]

        # And no line holds a token or a password
        text = platform.log_tail(2_000_000)
        assert login["token"] not in text and "streamify-demo" not in text
        assert "Bearer" not in text
