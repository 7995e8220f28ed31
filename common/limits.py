"""Body size limits answered as `413 {"error", "details"}` instead of a 400 or a parsed giant."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from common.errors import close_connection, error_body


def _too_large(limit: int) -> JsonResponse:
    response = JsonResponse(
        error_body(
            "Request body too large",
            [{"field": None, "message": f"The body may be at most {limit} bytes"}],
        ),
        status=413,
    )
    return close_connection(response)  # the body is never read


def streams_request_body(view):
    """Mark a view that relays its body as a stream and enforces its own limit (the proxy)."""
    view.streams_request_body = True
    return view


class RequestSizeLimitMiddleware:
    """Refuse a non-multipart body over DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads it.

    DRF parses JSON from the raw stream, which Django's own limit (checked only in
    `request.body` and form parsing) never sees; multipart uploads keep Django's per-field
    limits and whatever upload limit the view sets. The check runs once the view is known, so
    a view marked with `streams_request_body` can take bodies of any size.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if getattr(view_func, "streams_request_body", False):
            return None
        if limit is not None and not request.content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse(error_body("Invalid Content-Length header"), status=400)
            if length > limit:
                return _too_large(limit)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return _too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return None
