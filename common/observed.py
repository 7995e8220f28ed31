"""Each request observed once, by one middleware: its server span (`common.tracing`), its count
and latency (`common.metrics`) and, with STREAMIFY_ACCESS_LOG, its log line (`common.logs`).

One middleware rather than three, and our own server span rather than
opentelemetry-instrumentation-django: profiled with py-spy (--gil) under wrk on the catalog,
that instrumentation's middleware held the GIL for a quarter of each request even when no span
was recorded (it rebuilds the absolute URI, resolves the URL again for the span's name and
reads every header), and the catalog lost 30% of its throughput.
"""

import time

from common import logs, tracing
from common.metrics.instruments import HTTP_DURATION, HTTP_REQUESTS

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


def route_of(request) -> str:
    """The route pattern that served `request` (never the raw path: ids would make a series
    per video); a view may name a finer one (the gateway's proxy names the upstream) in
    `request.metrics_route`."""
    named = getattr(request, "metrics_route", None)
    if named:
        return named
    match = request.resolver_match
    return f"/{match.route}" if match is not None else UNMATCHED


class ObservedRequestsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.log_lines = logs.access_lines()

    def __call__(self, request):
        started = time.perf_counter()
        with tracing.serving(request) as span:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            method = request.method if request.method in METHODS else "OTHER"
            route = route_of(request)
            status = response.status_code
            tracing.served(span, request, route=route, status=status)
            if self.log_lines:
                logs.request_line(request, route=route, status=status, seconds=seconds)
        HTTP_DURATION.labels(route, method).observe(seconds)
        HTTP_REQUESTS.labels(route, method, str(status)).inc()
        return response
