"""`GET /health`: is this service able to serve? Database and broker, each timed."""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from common.celery import service_app


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - a failing dependency is reported, not raised
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "up", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with service_app().connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        # The filesystem transport "connects" without touching anything: probe its folders too.
        folder = conn.transport_options.get("data_folder_in")
        if folder:
            probe = conn.default_channel
            probe._size("health-probe")


def health_payload() -> tuple[dict, bool]:
    checks = {"database": _timed(check_database), "broker": _timed(check_broker)}
    healthy = all(check["status"] == "up" for check in checks.values())
    payload = {
        "status": "ok" if healthy else "unavailable",
        "service": settings.SERVICE_NAME,
        "timestamp": timezone.now().isoformat(),
        "checks": checks,
    }
    return payload, healthy


@require_GET
def health(request):
    payload, healthy = health_payload()
    return JsonResponse(payload, status=200 if healthy else 503)
