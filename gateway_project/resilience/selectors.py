"""Reads about the caller and the upstreams: client IP, breaker stats, health."""

import ipaddress
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from common import breakers, upstreams
from common.env import service_url
from common.health import Memo, health_payload
from common.service_registry import GRPC_SERVICES, UPSTREAMS

HEALTH_TIMEOUT = (1.0, 2.0)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        ip in ipaddress.ip_network(net, strict=False) for net in settings.GATEWAY_TRUSTED_PROXIES
    )


def client_ip(request: HttpRequest) -> str:
    """The caller's IP: the peer address, or X-Forwarded-For's entry set by a trusted proxy.

    X-Forwarded-For is read right to left and only while the hop that wrote it is a configured
    trusted proxy, so a client cannot pick its own rate-limit key by sending the header.
    """
    address = request.META.get("REMOTE_ADDR", "")
    forwarded = request.headers.get("X-Forwarded-For", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    while _is_trusted(address) and hops:
        address = hops.pop()
    return address


def ratelimit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key function (dotted path in the middleware)."""
    return client_ip(request)


def breaker_stats() -> dict:
    """Every upstream's breaker: one per instance where `<SERVICE>_URL` lists several."""
    names = [i.breaker for s in UPSTREAMS for i in upstreams.instances(s)]
    names += [f"{s}-grpc" for s in GRPC_SERVICES]
    return breakers.stats(names)


def _instance_health(service: str, instance: upstreams.Instance) -> dict:
    try:
        response = upstreams.request(
            service, "GET", "/health", timeout=HEALTH_TIMEOUT, instance=instance
        )
    except upstreams.UpstreamUnavailable as exc:
        return {"status": "down", "error": exc.reason, "retryAfter": exc.retry_after}
    ok = response.status_code == 200
    result = {"status": "up" if ok else "down", "httpStatus": response.status_code}
    result["latencyMs"] = round(response.elapsed.total_seconds() * 1000, 2)
    return result


def _http_health(pool: ThreadPoolExecutor, service: str):
    """A function returning `service`'s HTTP health once its checks (started now) are done:
    the lone instance's answer, or with replicas each instance's by URL and "up" only when
    all are ("degraded" while some are)."""
    listed = upstreams.instances(service)
    checks = {i.url: pool.submit(_instance_health, service, i) for i in listed}
    if len(listed) == 1:
        return checks[listed[0].url].result

    def summary() -> dict:
        each = {url: check.result() for url, check in checks.items()}
        up = sum(answer["status"] == "up" for answer in each.values())
        status = "up" if up == len(each) else ("degraded" if up else "down")
        return {"status": status, "instances": each}

    return summary


def _grpc_health(service: str) -> dict:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from common.env import grpc_target
    from common.rpc.client import channel_to

    target = grpc_target(service)
    stub = health_pb2_grpc.HealthStub(channel_to(target))
    try:
        with breakers.guarded(f"{service}-grpc"):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT[1])
    except breakers.UpstreamUnavailable as exc:
        return {"status": "down", "target": target, "error": exc.reason}
    except Exception as exc:  # noqa: BLE001 - an answer other than SERVING is "down", with why
        return {"status": "down", "target": target, "error": f"{type(exc).__name__}: {exc}"[:200]}
    serving = reply.status == health_pb2.HealthCheckResponse.SERVING
    return {"status": "up" if serving else "down", "target": target}


def _upstreams_health() -> dict:
    calls = sum(len(upstreams.instances(s)) for s in UPSTREAMS)
    calls += len(GRPC_SERVICES)
    with ThreadPoolExecutor(max_workers=calls) as pool:
        answers = {(s, "http"): _http_health(pool, s) for s in UPSTREAMS}
        for service in GRPC_SERVICES:
            answers[(service, "grpc")] = pool.submit(_grpc_health, service).result
    by_service = {service: {} for service in UPSTREAMS}
    for (service, kind), answer in answers.items():
        by_service[service][kind] = answer()
    return by_service


_upstreams = Memo(_upstreams_health, settings.READY_CACHE_SECONDS)


def platform_health() -> tuple[dict, bool]:
    """The gateway's own health (decides the status code) plus every upstream's, checked at once.

    The upstream checks go through the breakers, so an open breaker answers instantly and a
    returning service is probed (half-open) by the next health check after the reset timeout.
    Like the gateway's own checks, they run at most once per `READY_CACHE_SECONDS`, however
    often /health is called.
    """
    payload, healthy = health_payload()
    checked = _upstreams.get()
    payload["upstreams"] = checked
    # The original's gateway named each upstream's base URL; its clients read them here.
    payload["services"] = {s: service_url(s) for s in UPSTREAMS}
    degraded = any(c["status"] != "up" for u in checked.values() for c in u.values())
    if healthy and degraded:
        payload["status"] = "degraded"
    payload["timestamp"] = timezone.now().isoformat()
    return payload, healthy
