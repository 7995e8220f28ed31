"""Traces (OpenTelemetry): one trace follows a click from the gateway through REST and gRPC
hops, the outbox, the broker and the worker that consumes the event.

- HTTP: `serving` opens each request's server span, the child of the caller's W3C
  `traceparent` (`common.observed` says why not opentelemetry-instrumentation-django); the
  urllib3 instrumentation sends `traceparent` on every upstream call (`common.upstreams`).
- gRPC: the grpc instrumentation, in metadata, on both sides.
- Celery: the celery instrumentation, in task headers (saga steps, processing jobs).
- Events: `publish()` writes the publisher's context into the envelope as `traceparent`
  (CloudEvents' distributed-tracing extension), so it survives the outbox row, the relay and
  the broker; the consumer opens its span as that context's child (`consuming`).

Exporters (environment): none by default, so `make run` needs no collector (spans are then
not recorded, only their context travels, so log lines still name a trace); OTLP over HTTP
when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (with the other standard OTEL_* settings);
`STREAMIFY_TRACES_FILE=<folder>` writes each process's spans as JSON lines to
`<folder>/<process>.jsonl` for local inspection; `STREAMIFY_TRACING=0` turns tracing off.
"""

import os
from contextlib import contextmanager
from pathlib import Path

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from common.env import flag, otlp_configured, process_name, traces_folder

TRACEPARENT = "traceparent"
# Probes and scrapes every few seconds would bury the requests worth reading.
UNTRACED = ("/health", "/metrics", "/static/", "/favicon.ico")

_propagator = TraceContextTextMapPropagator()
tracer = trace.get_tracer("streamify")


def enabled() -> bool:
    return flag("STREAMIFY_TRACING", True)


def configure(service: str, *, exporter=None) -> None:
    """Install this process's tracer provider and instrument Django, urllib3, gRPC and Celery.

    `exporter` (the tests' in-memory one) replaces those the environment names.
    """
    if not enabled() or getattr(configure, "done", False):
        return
    configure.done = True
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

    process = process_name(default=service)
    resource = Resource.create({"service.name": service, "service.instance.id": process})
    exporters = _exporters(process) + ([exporter] if exporter is not None else [])
    # With nowhere to send spans, none is recorded: contexts still travel (log lines still name
    # their trace), but a span's attributes are never gathered. Recording everything cost the
    # catalog 30% of its throughput (docs/observability.md). Otherwise OTEL_TRACES_SAMPLER
    # decides, every span by default.
    sampler = None if exporters else ParentBased(ALWAYS_OFF)
    configure.recording = bool(exporters)
    provider = TracerProvider(resource=resource, sampler=sampler)
    for configured in exporters:
        processor = SimpleSpanProcessor if configured is exporter else BatchSpanProcessor
        provider.add_span_processor(processor(configured))
    trace.set_tracer_provider(provider)
    _instrument()
    # Server worker processes leave through os._exit: flush what is buffered on the way out.
    from common.serving import on_worker_exit

    on_worker_exit(provider.shutdown)


def recording() -> bool:
    """Whether this process records spans: worth reading what only a span would hold."""
    return getattr(configure, "recording", False)


def _exporters(process: str) -> list:
    found = []
    if otlp_configured():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        found.append(OTLPSpanExporter())
    folder = traces_folder()
    if folder:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        Path(folder).mkdir(parents=True, exist_ok=True)
        # Open for the process's life; the provider's shutdown flushes it.
        out = open(Path(folder) / f"{process}.{os.getpid()}.jsonl", "a")  # noqa: SIM115
        found.append(ConsoleSpanExporter(out=out, formatter=_json_line))
    return found


def _json_line(span) -> str:
    return span.to_json(indent=None) + "\n"


def _instrument() -> None:
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient, GrpcInstrumentorServer
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

    # Django's server spans are ours (`serving`, in common.observed): see there why.
    URLLib3Instrumentor().instrument()
    GrpcInstrumentorServer().instrument()
    GrpcInstrumentorClient().instrument()
    CeleryInstrumentor().instrument()


def current_trace_ids() -> tuple[str | None, str | None]:
    """(trace id, span id) in hex of the span this thread is in, or (None, None)."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return format_trace_id(context.trace_id), format_span_id(context.span_id)


@contextmanager
def serving(request):
    """The server span of one HTTP request, child of the caller's `traceparent` if it sent one.
    Its name and attributes are set once the answer is known (`served`)."""
    if request.path.startswith(UNTRACED):
        yield None
        return
    header = request.META.get("HTTP_TRACEPARENT")
    parent = _propagator.extract({TRACEPARENT: header}) if header else None
    span = tracer.start_span(request.method, context=parent, kind=SpanKind.SERVER)
    with trace.use_span(span, end_on_exit=True):
        yield span


def served(span, request, *, route: str, status: int) -> None:
    if span is None or not span.is_recording():
        return
    from common.logs import redacted

    span.update_name(f"{request.method} {route}")
    span.set_attributes(
        {
            "http.request.method": request.method,
            "http.route": route,
            "url.path": redacted(request.path),
            "http.response.status_code": status,
        }
    )
    if status >= 500:
        span.set_status(trace.Status(trace.StatusCode.ERROR))


def stamp(envelope: dict) -> dict:
    """`envelope` with the current trace context as its `traceparent` (none outside a span)."""
    carrier: dict = {}
    _propagator.inject(carrier)
    if TRACEPARENT in carrier:
        envelope[TRACEPARENT] = carrier[TRACEPARENT]
    return envelope


@contextmanager
def consuming(envelope: dict, service: str):
    """A consumer span for one event, child of the context its publisher stamped on it."""
    carrier = {TRACEPARENT: envelope[TRACEPARENT]} if envelope.get(TRACEPARENT) else {}
    parent = _propagator.extract(carrier)
    token = otel_context.attach(parent)
    try:
        with tracer.start_as_current_span(
            f"{envelope.get('type', 'event')} process",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "process",
                "messaging.destination.name": f"{service}.events",
                "messaging.message.id": str(envelope.get("id", "")),
                "cloudevents.event_type": str(envelope.get("type", "")),
            },
        ) as span:
            yield span
    finally:
        otel_context.detach(token)


def done_later(name: str, traceparent: str, *, start_ns: int, attributes: dict) -> None:
    """A span `name` from `start_ns` to now in the trace `traceparent` names: work done for an
    event long after its consumer's span ended (analytics projects events in batches)."""
    parent = _propagator.extract({TRACEPARENT: traceparent})
    tracer.start_span(name, context=parent, start_time=start_ns, attributes=attributes).end()
