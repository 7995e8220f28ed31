"""OpenAPI: each service's drf-spectacular schema, fetched through its breaker, and one page
(`/api/docs`, Swagger UI) with a drop-down over all of them."""

from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView

from common import upstreams
from common.errors import error_body
from common.service_registry import UPSTREAMS


@require_GET
def service_schema(request, service: str):
    """`GET /api/schema/<service>`: that service's `/api/schema`, relayed as JSON."""
    if service not in UPSTREAMS:
        return JsonResponse(error_body("Unknown service", [{"service": service}]), status=404)
    try:
        response = upstreams.request(
            service,
            "GET",
            "/api/schema",
            params={"format": "json"},
            headers={"Accept": "application/json"},
        )
    except upstreams.UpstreamUnavailable as exc:
        return exc.as_response()
    if response.status_code != 200:
        return JsonResponse(
            error_body(f"{service} publishes no schema", [{"status": response.status_code}]),
            status=404,
        )
    return JsonResponse(response.json())


@extend_schema(exclude=True)
class PlatformDocsView(SpectacularSwaggerView):
    """Swagger UI over the gateway's own schema and every service's, one drop-down entry each."""

    template_name_js = "proxy/platform_docs.js"

    def _swagger_ui_settings(self, request) -> dict:
        urls = [{"url": reverse("schema") + "?format=json", "name": "gateway"}]
        urls += [{"url": reverse("service-schema", args=[s]), "name": s} for s in UPSTREAMS]
        return {"urls": urls, "deepLinking": True}

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data["settings"] = self._dump(self._swagger_ui_settings(request))
        return response
