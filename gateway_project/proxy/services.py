"""Relay one client request to an upstream service and its answer back, streaming both ways."""

from collections.abc import Iterator

import urllib3
from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from resilience.selectors import client_ip

from common import payloads, upstreams
from common.auth.authentication import token_user
from common.conditional import client_holds
from common.errors import error_body
from common.payloads import MalformedBody
from common.service_registry import ROUTES
from proxy import edge_cache

CHUNK_BYTES = 64 * 1024
# Prefix of the edge cache keys of signed-in reads (a path starts with "/", so none collides).
SIGNED_IN = "signed-in:"

# RFC 9110 section 7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Set by the gateway itself (or by requests / the WSGI server), never copied from the peer.
NOT_COPIED = HOP_BY_HOP | {"host", "content-length", "x-request-id", "x-forwarded-for"}


class BodyTooLarge(Exception):
    pass


class BodyIncomplete(Exception):
    """The client stopped sending before the length it announced: its request is void.

    Raised from inside the upstream call, so the gateway gives up on the upstream at once
    instead of leaving it waiting for bytes that will never come (until a read timeout that
    would count against its breaker).
    """


def route_for(path: str) -> str | None:
    """The upstream service that owns `path`, or None (the gateway answers 404)."""
    for prefix, service in ROUTES.items():
        bare = prefix.rstrip("/")
        if path == bare or path.startswith(bare + "/"):
            return service
    return None


def _connection_tokens(headers) -> set[str]:
    return {t.strip().lower() for t in headers.get("Connection", "").split(",") if t.strip()}


def forwarded_headers(request: HttpRequest) -> dict:
    """The client's headers minus hop-by-hop ones, plus X-Forwarded-* and X-Request-ID."""
    dropped = NOT_COPIED | _connection_tokens(request.headers)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in dropped}
    previous = request.headers.get("X-Forwarded-For")
    peer = request.META.get("REMOTE_ADDR", "")
    headers["X-Forwarded-For"] = f"{previous}, {peer}" if previous else peer
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Host"] = request.get_host()
    headers["X-Real-IP"] = client_ip(request)
    headers[upstreams.REQUEST_ID_HEADER] = request.request_id
    return headers


class _SizedBody:
    """The client's body as a file of known length, read in chunks as the upstream takes it."""

    def __init__(self, request: HttpRequest, length: int):
        self._request, self._length, self._left = request, length, length

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        if not self._left:
            return b""
        chunk = self._request.read(min(size if size and size > 0 else CHUNK_BYTES, self._left))
        if not chunk:
            raise BodyIncomplete
        self._left -= len(chunk)
        return chunk


def _chunked_body(request: HttpRequest, limit: int) -> Iterator[bytes]:
    # Django reads at most Content-Length bytes (none here); the WSGI server de-chunks the input.
    stream = request.META["wsgi.input"]
    sent = 0
    while chunk := stream.read(CHUNK_BYTES):
        sent += len(chunk)
        if sent > limit:
            raise BodyTooLarge
        yield chunk


def _request_body(request: HttpRequest):
    length = request.headers.get("Content-Length")
    if length is not None and not length.isdigit():
        raise MalformedBody("Invalid Content-Length")
    size = int(length) if length is not None else None
    if size and _is_json(request) and size <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        # Small JSON bodies are read whole and checked before any upstream sees them.
        raw = request.read(size)
        payloads.loads(raw)
        return raw
    if size is None:
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _chunked_body(request, settings.GATEWAY_MAX_BODY_BYTES)
        return None
    if size > settings.GATEWAY_MAX_BODY_BYTES:
        raise BodyTooLarge
    return _SizedBody(request, size) if size else None


def _is_json(request: HttpRequest) -> bool:
    content_type = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


class _Relay:
    """The upstream's body as it arrives, exactly as sent (no gzip decoding). Django closes it
    when the response ends, sent whole or not, so the upstream connection goes back to the
    pool or, if the client went away before the end, is dropped; a relay never started (a
    HEAD, a client gone at once) is closed all the same."""

    def __init__(self, upstream):
        self._upstream = upstream

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._upstream.stream(CHUNK_BYTES))

    def close(self) -> None:
        self._upstream.close()


def proxy_forward(*, request: HttpRequest, service: str) -> HttpResponseBase:
    """Send `request` to `service` unchanged in method, path, query and body; relay its answer.

    Status, headers (minus hop-by-hop) and body come back as the upstream sent them, Range and
    Content-Range included; bodies stream in 64 KiB chunks both ways, never held whole. A JSON
    body is checked first (`common.payloads`): a malformed one is the client's 400, answered
    here, so it never reaches an upstream and never counts against its breaker. Anonymous GETs
    the upstream tagged as cacheable, and signed-in GETs of answers it tagged and marked the same
    for every caller, are answered from `edge_cache` while it is live.
    """
    try:
        body = _request_body(request)
    except BodyTooLarge:
        return _too_large()
    except MalformedBody as exc:
        return JsonResponse(error_body(str(exc)), status=400)
    key = _edge_key(request)
    if key is not None:
        edge_cache.ensure_listening()
        entry = edge_cache.cache.get(key)
        if entry is not None and _may_share(request, key):
            return _from_entry(request, entry)
        generation = edge_cache.cache.generation
    try:
        upstream = upstreams.request(
            service,
            request.method,
            request.get_full_path(),
            headers=forwarded_headers(request),
            data=body,
            stream=True,
            pass_server_errors=True,
        )
    except upstreams.UpstreamUnavailable as exc:
        return exc.as_response()
    except BodyTooLarge:
        return _too_large()
    except BodyIncomplete:
        return JsonResponse(error_body("Request body shorter than its Content-Length"), status=400)
    headers = _relayed_headers(upstream)
    signed_in = key is not None and key.startswith(SIGNED_IN)
    if key is not None and _keepable(upstream, signed_in=signed_in) and _may_share(request, key):
        try:
            body = upstream.content
        except urllib3.exceptions.HTTPError:
            upstream.close()
            return JsonResponse(error_body(f"{service} broke off its answer"), status=502)
        entry = edge_cache.Entry(
            upstream.status_code, headers, body, edge_cache.tags_of(upstream.headers)
        )
        edge_cache.cache.put(key, entry, generation=generation)
        return _from_entry(request, entry)
    response = StreamingHttpResponse(_Relay(upstream), status=upstream.status_code)
    response.reason_phrase = upstream.reason or response.reason_phrase
    for name, value in headers:
        response[name] = value
    return response


def _too_large() -> JsonResponse:
    limit = settings.GATEWAY_MAX_BODY_BYTES
    return JsonResponse(error_body("Request body too large", [{"limitBytes": limit}]), status=413)


def _relayed_headers(upstream) -> tuple[tuple[str, str], ...]:
    dropped = (
        HOP_BY_HOP
        | _connection_tokens(upstream.headers)
        | edge_cache.SURROGATE_HEADERS
        | {"x-request-id"}
    )
    return tuple((k, v) for k, v in upstream.headers.items() if k.lower() not in dropped)


def _edge_key(request: HttpRequest) -> str | None:
    """The cache key of a GET that may be answered from memory, else None (a cookie: never).

    Anonymous GETs share one key space, signed-in GETs another: only answers that are the same
    for every signed-in caller are kept there (`_keepable`), so whose token it is does not
    matter, as long as the gateway has verified it (`_may_share`).
    """
    if request.method != "GET" or "Cookie" in request.headers:
        return None
    if "Authorization" not in request.headers:
        return request.get_full_path()
    return SIGNED_IN + request.get_full_path()


def _may_share(request: HttpRequest, key: str) -> bool:
    """Whether `request` may be answered from `key`, or its answer kept there.

    A signed-in request only with a token the gateway verifies itself (the local check every
    service makes, no call), and only when memory is involved: a signed-in GET whose answer is
    never kept (a balance) costs no check here, and a rejected token goes to the upstream,
    which says why.
    """
    return not key.startswith(SIGNED_IN) or token_user(request) is not None


def _keepable(upstream, *, signed_in: bool) -> bool:
    """A tagged 200 of bounded size; for a signed-in request, one its upstream marked `public`
    (RFC 9111 section 3.5: a shared cache may reuse an answer to an authorized request only
    then), which our upstreams do only for answers that do not depend on the caller."""
    length = upstream.headers.get("Content-Length", "")
    return (
        upstream.status_code == 200
        and edge_cache.TAG_HEADER in upstream.headers
        and length.isdigit()
        and int(length) <= edge_cache.MAX_BODY_BYTES
        and (not signed_in or "public" in _directives(upstream.headers.get("Cache-Control", "")))
    )


def _directives(cache_control: str) -> set[str]:
    return {part.split("=", 1)[0].strip().lower() for part in cache_control.split(",")}


def _from_entry(request: HttpRequest, entry: edge_cache.Entry) -> HttpResponse:
    """A kept answer, or 304 when the client already holds it (If-None-Match)."""
    if client_holds(request, entry.etag):
        response = HttpResponseNotModified()
        kept = {"etag", "cache-control", "vary"}
        headers = [(k, v) for k, v in entry.headers if k.lower() in kept]
    else:
        response = HttpResponse(entry.body, status=entry.status)
        headers = entry.headers
    for name, value in headers:
        response[name] = value
    return response
