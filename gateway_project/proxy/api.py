"""The proxy view: one adapter for every upstream prefix."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from common.errors import error_body
from common.limits import streams_request_body
from proxy.services import proxy_forward, route_for


@csrf_exempt
@streams_request_body
def proxy_view(request, path: str = ""):
    service = route_for(request.path)
    if service is None:
        return JsonResponse(error_body("Not found", [{"path": request.path}]), status=404)
    # Metrics, the trace and the log line name the upstream, not the catch-all pattern.
    request.metrics_route = f"proxy:{service}"
    return proxy_forward(request=request, service=service)
