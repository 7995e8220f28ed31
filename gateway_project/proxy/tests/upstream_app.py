"""A tiny upstream for proxy tests, run by gunicorn as a real process.

It stands in for routes whose owners may not have shipped yet; every answer is computed from
the request (digests, ranges, echoed headers), so the tests check what really crossed the wire.
"""

import hashlib
import json
import os
import time

BLOB_SIZE = 3 * 1024 * 1024 + 17


def blob() -> bytes:
    seed = hashlib.sha256(b"streamify").digest()
    return (seed * (BLOB_SIZE // len(seed) + 1))[:BLOB_SIZE]


BLOB = blob()
_tagged_calls = [0]


def _json(start_response, status: str, payload: dict, extra=()):
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra]
    start_response(status, headers)
    return [body]


def _echo(environ, start_response):
    digest, size = hashlib.sha256(), 0
    stream = environ["wsgi.input"]
    while chunk := stream.read(65536):
        digest.update(chunk)
        size += len(chunk)
    headers = {
        k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    return _json(
        start_response,
        "201 Created",
        {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ.get("QUERY_STRING", ""),
            "sha256": digest.hexdigest(),
            "size": size,
            "contentType": environ.get("CONTENT_TYPE", ""),
            "headers": headers,
            "pid": os.getpid(),
        },
        extra=[("X-Upstream", "echo")],
    )


def _bytes(environ, start_response):
    header = environ.get("HTTP_RANGE")
    if header and header.startswith("bytes="):
        first, _, last = header[6:].partition("-")
        start = int(first) if first else BLOB_SIZE - int(last)
        end = int(last) if first and last else BLOB_SIZE - 1
        end = min(end, BLOB_SIZE - 1)
        if start >= BLOB_SIZE:
            start_response("416 Range Not Satisfiable", [("Content-Range", f"bytes */{BLOB_SIZE}")])
            return [b""]
        part = BLOB[start : end + 1]
        start_response(
            "206 Partial Content",
            [
                ("Content-Type", "video/mp4"),
                ("Accept-Ranges", "bytes"),
                ("Content-Range", f"bytes {start}-{end}/{BLOB_SIZE}"),
                ("Content-Length", str(len(part))),
            ],
        )
        return [part]
    start_response(
        "200 OK",
        [
            ("Content-Type", "video/mp4"),
            ("Accept-Ranges", "bytes"),
            ("Content-Length", str(BLOB_SIZE)),
        ],
    )
    return [BLOB[i : i + 65536] for i in range(0, BLOB_SIZE, 65536)]


def _tagged(environ, start_response):
    """A catalog-like read the gateway may keep: counts how often it really was asked."""
    _tagged_calls[0] += 1
    tag = [("Surrogate-Key", "catalog"), ("ETag", f'"v{_tagged_calls[0]}"')]
    return _json(start_response, "200 OK", {"calls": _tagged_calls[0], "pid": os.getpid()}, tag)


def _figures(environ, start_response, cache_control: str):
    """An analytics-like read for signed-in callers (tagged; shared when `public`)."""
    _tagged_calls[0] += 1
    headers = [
        ("Surrogate-Key", "analytics"),
        ("Cache-Control", cache_control),
        ("ETag", f'"f{_tagged_calls[0]}"'),
    ]
    payload = {"calls": _tagged_calls[0], "auth": environ.get("HTTP_AUTHORIZATION", "")}
    return _json(start_response, "200 OK", payload, headers)


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/api/videos/tagged":
        return _tagged(environ, start_response)
    if path == "/api/analytics/shared":
        return _figures(environ, start_response, "public, no-cache")
    if path == "/api/analytics/personal":
        return _figures(environ, start_response, "private, no-cache")
    if path == "/health":
        return _json(start_response, "200 OK", {"status": "ok"})
    if path.startswith("/api/stream/url/"):
        return _bytes(environ, start_response)
    if path.startswith("/api/billing/status/"):
        code = int(path.rsplit("/", 1)[1])
        return _json(start_response, f"{code} Status", {"status": code})
    if path.startswith("/api/analytics/slow"):
        time.sleep(float(environ.get("QUERY_STRING", "seconds=1").split("=")[1]))
        return _json(start_response, "200 OK", {"slept": True})
    return _echo(environ, start_response)
