"""URL patterns every service mounts: health, metrics, admin and its OpenAPI schema."""

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from common.health import health, live
from common.metrics.exposition import metrics


class PositiveIntConverter:
    """Ids are positive integers that fit a bigint; anything else is not a route (404)."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


service_urlpatterns = [
    path("health", health, name="health"),
    path("health/ready", health, name="health-ready"),
    path("health/live", live, name="health-live"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
]

handler400 = "common.errors.bad_request"
handler403 = "common.errors.permission_denied"
handler404 = "common.errors.not_found"
handler500 = "common.errors.server_error"
