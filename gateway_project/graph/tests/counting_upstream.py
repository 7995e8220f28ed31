"""An upstream that records every call, run by gunicorn (one process) in place of the video,
analytics, billing and streaming services, so GraphQL tests can count what reached them.

It answers the routes the resolvers use with small, predictable data (videos 1..30, stats
`totalViews = 10 * id`); `GET /__calls` lists the calls recorded since `DELETE /__calls`.
"""

import json
import re
import threading
from urllib.parse import parse_qs

CATALOG = 30
SESSION = "0b0b7c4e-4f5d-4c61-9a59-8f4b0a1f2d3e"

_calls: list[dict] = []
_lock = threading.Lock()


def _video(video_id: int) -> dict:
    return {
        "id": video_id,
        "title": f"Video {video_id}",
        "category": "demo",
        "pricePerMinute": 10,
        "status": "ready",
    }


def _session(session_id: str, video_id: int, status: str) -> dict:
    return {
        "sessionId": session_id,
        "videoId": video_id,
        "status": status,
        "streamUrl": f"/api/stream/url/{session_id}",
        "videoDetails": _video(video_id),
    }


def _videos(query: dict) -> tuple[int, dict]:
    page, limit = int(query.get("page", 1)), int(query.get("limit", 10))
    ids = [i for i in range((page - 1) * limit + 1, page * limit + 1) if i <= CATALOG]
    return 200, {"videos": [_video(i) for i in ids], "total": CATALOG, "page": page, "limit": limit}


def _route(method: str, path: str, query: dict, body: dict) -> tuple[int, dict]:
    if (method, path) == ("GET", "/api/videos"):
        return _videos(query)
    if method == "GET" and (match := re.fullmatch(r"/api/videos/([0-9]+)", path)):
        video_id = int(match[1])
        if 1 <= video_id <= CATALOG:
            return 200, _video(video_id)
    if (method, path) == ("GET", "/api/analytics/cqrs/videos/stats"):
        ids = [int(i) for i in query["ids"].split(",")]
        return 200, {"videos": [{"videoId": i, "totalViews": 10 * i} for i in ids]}
    if (method, path) == ("GET", "/api/analytics/cqrs/platform/stats"):
        return 200, {"totalVideos": CATALOG, "totalViews": 7}
    if (method, path) == ("GET", "/api/billing/balance"):
        return 200, {"userId": 7, "balance": 1000}
    if (method, path) == ("POST", "/api/billing/deposit"):
        return 200, {"message": "Deposit successful", "newBalance": 1000 + body["amount"]}
    if (method, path) == ("GET", "/api/stream/sessions/active"):
        return 200, {"sessions": [_session(SESSION, 3, "active")]}
    if method == "POST" and (match := re.fullmatch(r"/api/stream/start/([0-9]+)", path)):
        return 201, _session(SESSION, int(match[1]), "active")
    if method == "POST" and (match := re.fullmatch(r"/api/stream/end/([0-9a-f-]{36})", path)):
        return 200, _session(match[1], 3, "ended")
    if method == "POST" and (match := re.fullmatch(r"/api/stream/end/([0-9]+)", path)):
        return 200, {**_session(SESSION, 3, "ended"), "sessionNumber": int(match[1])}
    return 404, {"error": "Not found", "details": [{"path": path}]}


def _answer(start_response, status: int, payload: dict):
    body = json.dumps(payload).encode()
    start_response(
        f"{status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def app(environ, start_response):
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if path == "/health":
        return _answer(start_response, 200, {"status": "ok"})
    if path == "/__calls":
        with _lock:
            if method == "DELETE":
                _calls.clear()
            return _answer(start_response, 200, {"calls": list(_calls)})
    raw_query = environ.get("QUERY_STRING", "")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw_body = environ["wsgi.input"].read(length) if length else b""
    with _lock:
        _calls.append({"method": method, "path": path, "query": raw_query})
    query = {k: v[0] for k, v in parse_qs(raw_query).items()}
    status, payload = _route(method, path, query, json.loads(raw_body) if raw_body else {})
    return _answer(start_response, status, payload)
