"""Each request's count and latency, labelled by the route that matched (never the raw path:
ids would make a series per video)."""

import time

from common.metrics.instruments import HTTP_DURATION, HTTP_REQUESTS

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


def route_of(request) -> str:
    """The route pattern that served `request`; a view may name a finer one (the gateway's
    proxy names the upstream's prefix) in `request.metrics_route`."""
    named = getattr(request, "metrics_route", None)
    if named:
        return named
    match = request.resolver_match
    return f"/{match.route}" if match is not None else UNMATCHED


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in METHODS else "OTHER"
        route = route_of(request)
        HTTP_DURATION.labels(route, method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
        return response
