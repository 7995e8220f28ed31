"""Operator endpoints: breaker stats and platform health (public, as in the seed)."""

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from resilience.selectors import breaker_stats, platform_health


@require_GET
def circuit_breaker_stats(request):
    return JsonResponse({"timestamp": timezone.now().isoformat(), "breakers": breaker_stats()})


@require_GET
def health(request):
    payload, healthy = platform_health()
    return JsonResponse(payload, status=200 if healthy else 503)
