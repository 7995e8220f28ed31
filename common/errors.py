"""One error shape for every service: `{"error": "...", "details": [...]}`."""

from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def error_body(message: str, details: list | None = None) -> dict:
    return {"error": message, "details": details or []}


def flatten_details(detail, prefix: str = "") -> list[dict]:
    """Turn DRF's nested error dict/list into `[{"field": ..., "message": ...}]`."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            field = f"{prefix}.{key}" if prefix else str(key)
            items.extend(flatten_details(value, field))
        return items
    if isinstance(detail, list):
        items = []
        for value in detail:
            items.extend(flatten_details(value, prefix))
        return items
    return [{"field": prefix or None, "message": str(detail)}]


def exception_handler(exc, context):
    """DRF's handler, reshaped; anything DRF does not know stays a 500 (it is a bug)."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("Validation failed", flatten_details(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict) and "detail" in detail:
            detail = detail["detail"]
        body = error_body(str(detail) if not isinstance(detail, list | dict) else "Request failed")
        if isinstance(detail, list | dict):
            body["details"] = flatten_details(detail)
    return Response(body, status=response.status_code, headers=_kept_headers(response))


def _kept_headers(response) -> dict:
    return {k: v for k, v in response.items() if k in {"WWW-Authenticate", "Retry-After", "Allow"}}


def not_found(request, exception=None):
    return JsonResponse(error_body("Not found", [{"path": request.path}]), status=404)


def server_error(request):
    return JsonResponse(error_body("Internal server error"), status=500)


def bad_request(request, exception=None):
    return JsonResponse(error_body("Bad request"), status=status.HTTP_400_BAD_REQUEST)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("Forbidden"), status=403)
