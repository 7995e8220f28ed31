"""One mapping from what a servicer method raises to the status code its caller gets.

A servicer answers domain refusals with the codes its service names (`refusals`), and a
database it cannot reach with UNAVAILABLE, which callers' breakers count as the service being
down; anything else is a bug and stays gRPC's UNKNOWN.
"""

from collections.abc import Callable
from functools import wraps

import grpc
from django.db import DatabaseError

# exception -> (code, details) for one request; None when the exception is not a refusal
Refusals = Callable[[Exception, object], tuple[grpc.StatusCode, str] | None]


def _none(exc: Exception, request) -> None:
    return None


def status_codes(refusals: Refusals = _none):
    """Decorate a servicer method so that `refusals` and database outages become status codes."""

    def decorate(method):
        @wraps(method)
        def run(self, request, context):
            try:
                return method(self, request, context)
            except DatabaseError as exc:
                context.abort(
                    grpc.StatusCode.UNAVAILABLE, f"database unavailable: {type(exc).__name__}"
                )
            except Exception as exc:
                refused = refusals(exc, request)
                if refused is None:
                    raise
                context.abort(*refused)

        return run

    return decorate
