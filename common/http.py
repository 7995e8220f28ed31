"""Calling another service over HTTP: pooled sessions, timeouts, request ids, circuit breakers.

    from common import http
    response = http.request("billing", "POST", "/api/billing/charge", json={...},
                            headers={"Authorization": authorization_header(...)})

Every call goes through the upstream's breaker (`common.breakers`), carries `X-Request-ID`
(the current request's, else a new one) and has connect/read timeouts. A 4xx comes back as the
response; an open breaker, a connection error, a timeout or a 5xx raises `UpstreamUnavailable`,
which callers turn into 503 `{"error", "service", "retryAfter"}`.

Timeouts (environment, seconds): `STREAMIFY_HTTP_CONNECT_TIMEOUT` (default 2) and
`STREAMIFY_HTTP_READ_TIMEOUT` (default 10); `STREAMIFY_HTTP_POOL_SIZE` connections kept per
upstream and process (default 16).
"""

import http.client as http_client
import os
import re
import threading
import uuid
from contextvars import ContextVar
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from common.breakers import UpstreamServerError, UpstreamUnavailable, guarded
from common.env import service_url

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIDMiddleware",
    "UpstreamUnavailable",
    "current_request_id",
    "request",
    "session",
    "timeouts",
]

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_request_id: ContextVar[str | None] = ContextVar("streamify_request_id", default=None)
_sessions: dict[str, requests.Session] = {}
_lock = threading.Lock()


def timeouts() -> tuple[float, float]:
    """(connect, read) timeouts in seconds."""
    return (
        float(os.environ.get("STREAMIFY_HTTP_CONNECT_TIMEOUT", "2")),
        float(os.environ.get("STREAMIFY_HTTP_READ_TIMEOUT", "10")),
    )


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being served (set by `RequestIDMiddleware`), else a new one."""
    return _request_id.get() or new_request_id()


def accepted_request_id(value: str | None) -> str:
    """Keep a caller's id if it is a sane token; otherwise make one (never echo arbitrary text)."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return new_request_id()


class RequestIDMiddleware:
    """Give every request an `X-Request-ID` (kept from the caller or new) and echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class StaleConnectionRetry(Retry):
    """Send a request again, once, only when a pooled keep-alive connection turned out to be
    closed by the upstream before it answered anything (the upstream drops idle connections
    on its own schedule, and a request may be written into one just as it goes).

    Only for methods without side effects: anything else, a refused connection (the upstream
    is down) or a timeout (it is slow) goes to the breaker at once, as before.
    """

    def increment(self, method=None, url=None, response=None, error=None, **kwargs):
        if error is not None and not _closed_before_answer(error):
            # Exactly what requests does with no retries at all (its `max_retries=0`).
            return Retry(0, read=False).increment(method, url, response, error, **kwargs)
        return super().increment(method, url, response, error, **kwargs)


def _closed_before_answer(error: Exception) -> bool:
    reason = error.args[1] if isinstance(error, ProtocolError) and len(error.args) > 1 else None
    closed = (ConnectionResetError, BrokenPipeError, http_client.RemoteDisconnected)
    return isinstance(reason, closed)


STALE_RETRY = StaleConnectionRetry(
    total=1, connect=0, read=1, other=0, status=0, redirect=False,
    allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}), raise_on_status=False,
)  # fmt: skip


def session(service: str) -> requests.Session:
    """This process's pooled session to `service` (no cookies, no proxies from the env)."""
    found = _sessions.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _sessions:
            size = int(os.environ.get("STREAMIFY_HTTP_POOL_SIZE", "16"))
            http = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=size, max_retries=STALE_RETRY)
            http.mount("http://", adapter)
            http.mount("https://", adapter)
            # One session serves every user: a cookie set for one must never reach another.
            http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            http.trust_env = False
            _sessions[service] = http
        return _sessions[service]


def request(
    service: str,
    method: str,
    path: str,
    *,
    headers: dict | None = None,
    timeout: float | tuple[float, float] | None = None,
    pass_server_errors: bool = False,
    breaker_name: str | None = None,
    **kwargs,
) -> requests.Response:
    """Send one request to `service` at `path` through its breaker; return the response.

    `kwargs` go to `requests` (params, json, data, stream, ...). With `pass_server_errors` a
    5xx is still counted as a failure but its response is returned instead of raising, so a
    proxy can relay it. Raise `UpstreamUnavailable` when the breaker is open or the call fails.
    """
    sent_headers = {REQUEST_ID_HEADER: current_request_id(), **(headers or {})}
    url = f"{service_url(service)}{path}"
    try:
        with guarded(breaker_name or service):
            response = session(service).request(
                method, url, headers=sent_headers, timeout=timeout or timeouts(), **kwargs
            )
            if response.status_code >= 500:
                raise UpstreamServerError(service, response)
    except UpstreamServerError as exc:
        if pass_server_errors:
            return exc.response
        exc.response.close()
        raise UpstreamUnavailable(
            service, 1, reason=f"answered {exc.response.status_code}"
        ) from exc
    except UpstreamUnavailable as exc:
        if pass_server_errors and exc.response is not None:
            return exc.response
        if exc.response is not None:
            exc.response.close()
        raise
    return response
