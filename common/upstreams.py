"""Calling another service over HTTP: pooled connections, timeouts, request ids, breakers.

    from common import upstreams
    response = http.request("billing", "POST", "/api/billing/charge", json={...},
                            headers={"Authorization": authorization_header(...)})

Every call goes through the upstream's breaker (`common.breakers`), carries `X-Request-ID`
(the current request's, else a new one) and has connect/read timeouts. A 4xx comes back as the
response; an open breaker, a connection error, a timeout or a 5xx raises `UpstreamUnavailable`,
which callers turn into 503 `{"error", "service", "retryAfter"}`.

urllib3 rather than requests: the gateway makes one such call per proxied request, and
requests' per-call machinery (sessions, hooks, cookie jars, environment lookups) cost more CPU
than the gateway's own work; urllib3 is the pool requests itself sends through.

Replicas: `<SERVICE>_URL` may list several instances. Calls go to them in turn, each instance
behind a breaker of its own (`<service>@<host:port>`), so one dead replica is skipped once its
breaker opens instead of failing the whole service; while it is closed, a call that surely never
reached an instance (no connection made) goes on to the next, when its body can be sent again.

Timeouts (environment, seconds): `STREAMIFY_HTTP_CONNECT_TIMEOUT` (default 2) and
`STREAMIFY_HTTP_READ_TIMEOUT` (default 10); `STREAMIFY_HTTP_POOL_SIZE` connections kept per
upstream instance and process (default 16).
"""

import http.client as http_client
import itertools
import random
import re
import threading
import time
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import orjson
import urllib3
from django.conf import settings
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from common import logs
from common.breakers import UpstreamServerError, UpstreamUnavailable, guarded, refusing
from common.env import service_urls

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIDMiddleware",
    "Response",
    "UpstreamUnavailable",
    "current_request_id",
    "request",
    "surely_not_sent",
    "timeouts",
]

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META = "HTTP_X_REQUEST_ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_request_id: ContextVar[str | None] = ContextVar("streamify_request_id", default=None)
_pools: dict[str, urllib3.HTTPConnectionPool] = {}
_lock = threading.Lock()


def timeouts() -> tuple[float, float]:
    """(connect, read) timeouts in seconds."""
    return settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT


def new_request_id() -> str:
    # An id only needs to be unique, not secret: os.urandom is a system call, and under load a
    # thread that lets the GIL go for one can wait several switch intervals to get it back
    # (py-spy --gil put a tenth of /health/live there once every service made ids).
    return f"{random.getrandbits(128):032x}"


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
        # META, not `request.headers`: that builds a mapping of every header, for one.
        request_id = accepted_request_id(request.META.get(REQUEST_ID_META))
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
            # Named by authentication for this request's log lines; not the next request's.
            logs.set_user(None)
        response[REQUEST_ID_HEADER] = request_id
        return response


# --- retries ------------------------------------------------------------------------------------


class StaleConnectionRetry(Retry):
    """Send a request again, once, only when a pooled keep-alive connection turned out to be
    closed by the upstream before it answered anything (the upstream drops idle connections
    on its own schedule, and a request may be written into one just as it goes).

    Only for methods without side effects and without a body: anything else, a refused
    connection (the upstream is down) or a timeout (it is slow) goes to the breaker at once.
    """

    def increment(self, method=None, url=None, response=None, error=None, **kwargs):
        if error is not None and not _closed_before_answer(error):
            return NO_RETRY.increment(method, url, response, error, **kwargs)
        return super().increment(method, url, response, error, **kwargs)


def _closed_before_answer(error: Exception) -> bool:
    reason = error.args[1] if isinstance(error, ProtocolError) and len(error.args) > 1 else None
    closed = (ConnectionResetError, BrokenPipeError, http_client.RemoteDisconnected)
    return isinstance(reason, closed)


NO_RETRY = Retry(0, read=False, redirect=False)
STALE_RETRY = StaleConnectionRetry(
    total=1, connect=0, read=1, other=0, status=0, redirect=False,
    allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}), raise_on_status=False,
)  # fmt: skip


@dataclass(frozen=True)
class Instance:
    breaker: str
    url: str


def instances(service: str) -> list[Instance]:
    """`service`'s instances; a lone one's breaker is the service's own name."""
    urls = service_urls(service)
    if len(urls) == 1:
        return [Instance(service, urls[0])]
    return [Instance(f"{service}@{urlsplit(url).netloc}", url) for url in urls]


_turns: defaultdict[str, itertools.count] = defaultdict(itertools.count)


def in_turn(service: str) -> list[Instance]:
    """The instances to try for one call: the next in turn first, those whose breaker would
    refuse the call last (tried only after every other one could not be reached). Once an
    open breaker's reset timeout has run out its instance takes its turn again, as the probe."""
    found = instances(service)
    if len(found) == 1:
        return found
    start = next(_turns[service]) % len(found)
    ordered = found[start:] + found[:start]
    return sorted(ordered, key=lambda instance: refusing(instance.breaker))


def pool(url: str) -> urllib3.HTTPConnectionPool:
    """This process's pool of keep-alive connections to the instance at `url`."""
    found = _pools.get(url)
    if found is not None:
        return found
    with _lock:
        if url not in _pools:
            _pools[url] = urllib3.connection_from_url(
                url, maxsize=settings.HTTP_POOL_SIZE, block=False, retries=NO_RETRY
            )
        return _pools[url]


# --- calls --------------------------------------------------------------------------------------


class Response:
    """An upstream's answer: status and headers at once, the body read whole or streamed."""

    def __init__(self, raw: urllib3.BaseHTTPResponse, elapsed: float, *, streamed: bool):
        self.raw = raw
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = raw.headers
        self.elapsed = timedelta(seconds=elapsed)
        self._streamed = streamed
        self._finished = not streamed
        self._body: bytes | None = None
        self._closed = False

    @property
    def content(self) -> bytes:
        if self._body is None:
            self._body = self.raw.data  # read now (and kept) unless it was read with the headers
            if not self._finished:
                self._finished = True
                self.raw.release_conn()
        return self._body

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self):
        return orjson.loads(self.content)

    def stream(self, chunk_bytes: int):
        """The body in chunks as it arrives, exactly as sent (no decoding)."""
        yield from self.raw.stream(chunk_bytes, decode_content=False)
        self._finished = True

    def close(self) -> None:
        """Give the connection back to the pool, once; drop it first if the body was not all
        read (a client that went away mid-video must not leave the rest of it on the line)."""
        if self._closed:
            return
        self._closed = True
        if not self._finished:
            self.raw.close()
        self.raw.release_conn()


def request(
    service: str,
    method: str,
    path: str,
    *,
    headers: dict | None = None,
    timeout: float | tuple[float, float] | None = None,
    pass_server_errors: bool = False,
    params: dict | None = None,
    json=None,
    data=None,
    stream: bool = False,
    instance: Instance | None = None,
) -> Response:
    """Send one request to `service` at `path` through its breaker; return the response.

    `json` is sent as JSON; `data` as it is (bytes, a file-like object or an iterator, streamed).
    With `stream` the body is left to read (`Response.stream`), else it is read now. With
    `pass_server_errors` a 5xx is still counted as a failure but its response is returned
    instead of raising, so a proxy can relay it. Raise `UpstreamUnavailable` when the breaker
    is open or the call fails. With `instance` (one of `instances(service)`) only that one is
    asked, never another in its place.
    """
    sent_headers = {REQUEST_ID_HEADER: current_request_id(), **(headers or {})}
    if json is not None:
        data = orjson.dumps(json)
        sent_headers.setdefault("Content-Type", "application/json")
    elif data is not None and not isinstance(data, bytes) and _sized(data):
        sent_headers["Content-Length"] = str(len(data))
    if params:
        path = f"{path}{'&' if '?' in path else '?'}{urlencode(params, doseq=True)}"
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    defaults = timeouts()
    limits = urllib3.Timeout(connect=connect or defaults[0], read=read or defaults[1])
    call = {
        "method": method,
        "url": path,
        "body": data,
        "headers": sent_headers,
        "timeout": limits,
        "retries": STALE_RETRY if data is None else NO_RETRY,
        "redirect": False,
        "preload_content": not stream,
        "decode_content": False,
        "chunked": data is not None and not isinstance(data, bytes) and not _sized(data),
    }
    # Only a body that can be sent twice may go on to another instance.
    resendable = data is None or isinstance(data, bytes)
    targets = [instance] if instance else in_turn(service)
    for attempt, target in enumerate(targets, start=1):
        try:
            return _send(service, target, call, stream=stream, pass_errors=pass_server_errors)
        except UpstreamUnavailable as exc:
            if exc.reached or not resendable or attempt == len(targets):
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _send(service: str, instance: Instance, call: dict, *, stream: bool, pass_errors: bool):
    started = time.perf_counter()
    try:
        with guarded(instance.breaker):
            raw = pool(instance.url).urlopen(**call)
            response = Response(raw, time.perf_counter() - started, streamed=stream)
            if response.status_code >= 500:
                raise UpstreamServerError(service, response)
    except UpstreamServerError as exc:
        if pass_errors:
            return exc.response
        exc.response.close()
        raise UpstreamUnavailable(
            service, 1, reason=f"answered {exc.response.status_code}"
        ) from exc
    except UpstreamUnavailable as exc:
        if pass_errors and exc.response is not None:
            return exc.response
        if exc.response is not None:
            exc.response.close()
        if instance.breaker == service:
            raise
        # Callers answer for the service; which instance failed goes into the reason.
        raise UpstreamUnavailable(
            service,
            exc.retry_after,
            reason=f"{instance.breaker}: {exc.reason}",
            response=exc.response,
            reached=exc.reached,
        ) from exc
    return response


def _sized(data) -> bool:
    return hasattr(data, "__len__")


def surely_not_sent(exc: UpstreamUnavailable) -> bool:
    """True when a failed call never reached the upstream (breaker open, no connection made).

    Otherwise (timeout, 5xx, connection dropped mid-request) the upstream may have acted.
    """
    return not exc.reached
