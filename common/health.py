"""Health routes every service mounts.

- `GET /health/live`: the process answers (no I/O at all); for liveness probes and as the
  ceiling a benchmark compares every path with.
- `GET /health/ready` and `GET /health`: database and broker (and the media bucket, where
  video and streaming use one), each timed. The checks run at most
  once per `STREAMIFY_READY_CACHE_SECONDS` (default 2) per process, so probes and load never
  turn into one database and broker round trip per call.
"""

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from common import media_storage
from common.workers import service_app


class Memo:
    """The value of `compute()`, recomputed at most once per `seconds`; one caller computes
    while the others wait for its answer (no stampede when a cached check expires under load)."""

    def __init__(self, compute: Callable, seconds: float):
        self._compute, self._seconds = compute, seconds
        self._lock = threading.Lock()
        self._value, self._expires = None, 0.0

    def get(self):
        if time.monotonic() < self._expires:
            return self._value
        with self._lock:
            if time.monotonic() >= self._expires:
                self._value = self._compute()
                self._expires = time.monotonic() + self._seconds
            return self._value


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


def _checked() -> tuple[dict, bool]:
    checks = {"database": _timed(check_database), "broker": _timed(check_broker)}
    if settings.SERVICE_NAME in media_storage.MEDIA_SERVICES and media_storage.on_object_store():
        checks["media"] = _timed(media_storage.check_bucket)
    healthy = all(check["status"] == "up" for check in checks.values())
    payload = {
        "status": "ok" if healthy else "unavailable",
        "service": settings.SERVICE_NAME,
        "timestamp": timezone.now().isoformat(),
        "checks": checks,
    }
    return payload, healthy


_readiness = Memo(_checked, settings.READY_CACHE_SECONDS)


def health_payload() -> tuple[dict, bool]:
    """This service's own checks (at most `READY_CACHE_SECONDS` old) and whether all are up."""
    payload, healthy = _readiness.get()
    return dict(payload), healthy


@require_GET
def health(request):
    payload, healthy = health_payload()
    return JsonResponse(payload, status=200 if healthy else 503)


@require_GET
def live(request):
    return JsonResponse({"status": "ok", "service": settings.SERVICE_NAME})
