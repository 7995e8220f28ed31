"""The trace context an event carries: stamped at publish, the consumer's span its child; and
the JSON log line that names it."""

import json
import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from common import logs, tracing

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def provider():
    # A process has one provider; this suite's is the in-memory one.
    installed = TracerProvider()
    installed.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(installed)
    tracing.tracer = trace.get_tracer("streamify")
    yield


@pytest.fixture(autouse=True)
def clear():
    EXPORTER.clear()


def envelope(**extra) -> dict:
    return {"id": "4c7c1b1e-0c7a-4d39-9f0c-8e3f3a0b8d41", "type": "stream.started", **extra}


def test_the_consumer_span_is_the_child_of_the_span_that_published():
    with tracing.tracer.start_as_current_span("POST /api/stream/start") as publishing:
        stamped = tracing.stamp(envelope())
    with tracing.consuming(stamped, "analytics"):
        pass
    (consumer,) = [s for s in EXPORTER.get_finished_spans() if s.name == "stream.started process"]
    assert consumer.context.trace_id == publishing.get_span_context().trace_id
    assert consumer.parent.span_id == publishing.get_span_context().span_id
    assert consumer.kind == trace.SpanKind.CONSUMER
    assert consumer.attributes["messaging.destination.name"] == "analytics.events"
    assert consumer.attributes["messaging.message.id"] == stamped["id"]


def test_an_event_published_outside_a_trace_starts_one_of_its_own():
    stamped = tracing.stamp(envelope())
    assert "traceparent" not in stamped
    with tracing.consuming(stamped, "billing"):
        pass
    (consumer,) = EXPORTER.get_finished_spans()
    assert consumer.parent is None


def test_a_malformed_traceparent_is_ignored_not_fatal():
    with tracing.consuming(envelope(traceparent="not-a-context"), "billing"):
        assert tracing.current_trace_ids()[0] is not None
    (consumer,) = EXPORTER.get_finished_spans()
    assert consumer.parent is None


def test_a_json_line_names_the_trace_it_was_written_in():
    record = logging.LogRecord(
        "streamify.requests", logging.INFO, __file__, 1, "GET %s", ("/x",), None
    )
    with tracing.tracer.start_as_current_span("request") as span:
        logs.ContextFilter().filter(record)
    record.fields = {"route": "/x", "status": 200}
    line = json.loads(logs.JSONFormatter().format(record))
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["message"] == "GET /x"
    assert line["route"] == "/x" and line["status"] == 200
    assert line["level"] == "INFO" and line["logger"] == "streamify.requests"


def test_no_line_holds_a_signed_media_url():
    session = "bf689a3c-570a-41d8-8be0-b86adafbe943"
    path = f"/api/stream/url/{session}/1796670653.VCw0vl7U6GfPwfXGZ4M5/video.mp4"
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Bad: %s", (path,), None
    )
    logs.ContextFilter().filter(record)
    assert record.getMessage() == f"Bad: /api/stream/url/{session}/<signed>/video.mp4"
