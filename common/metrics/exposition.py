"""`GET /metrics` on every service's own port, and a worker's own port when it runs apart.

The page holds this process's counters plus the scrape-time readings (`state`). It answers
only clients in `STREAMIFY_METRICS_ALLOW` (CIDRs, comma-separated; default loopback and the
private ranges a cluster or compose network uses): the gateway is the public edge, and what it
counts (routes, upstreams, breakers) is for operators. The gateway never relays an upstream's
`/metrics` (its proxy covers /api/* only).

With `WEB_CONCURRENCY` > 1 set `PROMETHEUS_MULTIPROC_DIR` to an empty folder per service:
prometheus_client then sums the counters of every worker process of the server into each page.
"""

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from common.env import bind_host, metrics_multiprocess, worker_metrics_port
from common.errors import error_body
from common.metrics.state import StateCollector


@cache
def allowed_networks() -> tuple:
    return tuple(ipaddress.ip_network(n.strip()) for n in settings.METRICS_ALLOW if n.strip())


def allowed(address: str) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in network for network in allowed_networks())


@cache
def page_registry() -> CollectorRegistry:
    """This process's counters (or every server process's, in multiprocess mode) and the
    service's scrape-time readings."""
    registry = CollectorRegistry(auto_describe=False)
    if metrics_multiprocess():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Process())
    registry.register(StateCollector(settings.METRICS_STATE))
    return registry


class _Process:
    def collect(self):
        yield from REGISTRY.collect()


def metrics(request):
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(error_body("Method not allowed", [{"allowed": "GET"}]), status=405)
    if not allowed(request.META.get("REMOTE_ADDR", "")):
        return JsonResponse(error_body("Metrics are for the operators' network"), status=403)
    return HttpResponse(generate_latest(page_registry()), content_type=CONTENT_TYPE_LATEST)


def serve_worker_metrics() -> None:
    """A worker running as a process of its own serves its counters on
    `STREAMIFY_WORKER_METRICS_PORT` (where set): scrape-time readings stay with the web
    process, so no figure is reported twice."""
    port = worker_metrics_port()
    if port:
        start_http_server(port, addr=bind_host())
