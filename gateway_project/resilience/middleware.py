"""Per-client-IP rate limits (django-ratelimit counters), answered with 429 + Retry-After."""

from django.conf import settings
from django.http import JsonResponse
from django_ratelimit.core import get_usage

from common.errors import error_body
from common.metrics.instruments import RATE_LIMITED

EXEMPT_PREFIXES = ("/health", "/static/", "/favicon.ico")
AUTH_PREFIXES = ("/api/auth/", "/api/saga/")


def rate_for(path: str) -> tuple[str, str] | None:
    """(group, rate) that applies to `path`, or None when it is not limited."""
    if path.startswith(EXEMPT_PREFIXES):
        return None
    if path.startswith(AUTH_PREFIXES):
        return "auth", settings.GATEWAY_RATE_AUTH
    return "general", settings.GATEWAY_RATE_GENERAL


class RateLimitMiddleware:
    """Count every request against its group's limit; refuse over-limit ones before any work."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = rate_for(request.path)
        if limit is not None:
            group, rate = limit
            usage = get_usage(
                request,
                group=f"gateway.{group}",
                key="resilience.selectors.ratelimit_key",
                rate=rate,
                increment=True,
            )
            if usage and usage["should_limit"]:
                RATE_LIMITED.labels(group).inc()
                return _too_many(group, usage)
        return self.get_response(request)


def _too_many(group: str, usage: dict) -> JsonResponse:
    retry_after = max(1, int(usage["time_left"]))
    body = error_body(
        "Too many requests",
        [{"group": group, "limit": usage["limit"], "retryAfter": retry_after}],
    )
    response = JsonResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response
