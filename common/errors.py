"""One error shape for every service: `{"error": "...", "details": [...]}`."""

from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.breakers.failures import UpstreamUnavailable


def error_body(message: str, details: list | None = None) -> dict:
    return {"error": message, "details": details or []}


class DomainError(Exception):
    """A refusal a service's own code raises; the one exception handler below answers it.

    A subclass names its `status` and the envelope's `error` (`message`, else the exception's
    text); `details()`, `fields()` (the documented answer's extra fields) and `headers()` add
    to it. The view that called the service needs no try/except of its own.
    """

    status = 400
    message: str | None = None

    def details(self) -> list[dict]:
        return []

    def fields(self) -> dict:
        return {}

    def headers(self) -> dict:
        return {}

    def as_response(self) -> Response:
        body = {**error_body(self.message or str(self), self.details()), **self.fields()}
        return Response(body, status=self.status, headers=self.headers())


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


def close_connection(response):
    """Mark `response` as the last one on its connection: it answers a body left unread.

    The web server closes a connection whose request body the application did not read, but
    does not say so; a client that pools connections (the gateway does) would send its next
    request on it and see that fail, a client's mistake counted against a breaker. With
    `Connection: close` it opens a new connection instead (RFC 9112, section 9.6).
    """
    response["Connection"] = "close"
    return response


def close_if_body_unread(request, response):
    """`close_connection(response)` when `request` carried a body nobody read."""
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    length = request.META.get("CONTENT_LENGTH") or "0"
    # Django sets `_read_started` on the first read of the body; it has no public equivalent.
    if length != "0" and not request._read_started:
        close_connection(response)
    return response


def exception_handler(exc, context):
    """DRF's handler, reshaped; a `DomainError` is answered as it says, an upstream that
    cannot answer is a 503 with Retry-After; anything else DRF does not know stays a 500 (it is
    a bug)."""
    if isinstance(exc, DomainError | UpstreamUnavailable):
        return close_if_body_unread(context["request"], exc.as_response())
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
    answer = Response(body, status=response.status_code, headers=_kept_headers(response))
    return close_if_body_unread(context["request"], answer)


def _kept_headers(response) -> dict:
    return {k: v for k, v in response.items() if k in {"WWW-Authenticate", "Retry-After", "Allow"}}


def not_found(request, exception=None):
    answer = JsonResponse(error_body("Not found", [{"path": request.path}]), status=404)
    return close_if_body_unread(request, answer)


def server_error(request):
    return JsonResponse(error_body("Internal server error"), status=500)


def bad_request(request, exception=None):
    answer = JsonResponse(error_body("Bad request"), status=status.HTTP_400_BAD_REQUEST)
    return close_if_body_unread(request, answer)


def permission_denied(request, exception=None):
    return close_if_body_unread(request, JsonResponse(error_body("Forbidden"), status=403))
