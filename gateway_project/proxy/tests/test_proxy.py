"""The proxy against real processes: a gunicorn gateway in front of a gunicorn upstream."""

import hashlib
import os
import socket
import time

import requests

from proxy.tests.upstream_app import BLOB, BLOB_SIZE


def test_upload_is_relayed_byte_exact_with_forwarding_headers(platform, gateway):
    platform.upstream("video")
    url = gateway()
    body = os.urandom(5 * 1024 * 1024 + 3)

    def chunks():
        for i in range(0, len(body), 1 << 20):
            yield body[i : i + (1 << 20)]

    sized = requests.post(
        f"{url}/api/videos/upload?x=1",
        data=body,
        headers={"Content-Type": "application/octet-stream", "X-Request-ID": "req-123", "TE": "x"},
        timeout=30,
    )
    chunked = requests.put(f"{url}/api/videos/upload", data=chunks(), timeout=30)

    assert sized.status_code == 201
    echoed = sized.json()
    assert echoed["sha256"] == hashlib.sha256(body).hexdigest()
    assert echoed["size"] == len(body)
    assert echoed["method"] == "POST" and echoed["path"] == "/api/videos/upload"
    assert echoed["query"] == "x=1"
    assert echoed["contentType"] == "application/octet-stream"
    assert echoed["headers"]["X-Request-Id"] == "req-123"
    assert echoed["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert "Te" not in echoed["headers"]
    assert sized.headers["X-Request-ID"] == "req-123"
    assert sized.headers["X-Upstream"] == "echo"
    assert chunked.status_code == 201
    assert chunked.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert chunked.json()["method"] == "PUT"


def test_request_id_is_created_when_absent(platform, gateway):
    platform.upstream("billing")
    url = gateway()

    response = requests.post(f"{url}/api/billing/anything", json={}, timeout=10)

    created = response.headers["X-Request-ID"]
    assert len(created) == 32
    assert response.json()["headers"]["X-Request-Id"] == created


def test_range_downloads_are_byte_exact_and_keep_status_and_headers(platform, gateway):
    platform.upstream("streaming")
    url = gateway()

    whole = requests.get(f"{url}/api/stream/url/abc", timeout=30)
    middle = requests.get(
        f"{url}/api/stream/url/abc", headers={"Range": "bytes=1000-200999"}, timeout=30
    )
    tail = requests.get(f"{url}/api/stream/url/abc", headers={"Range": "bytes=-17"}, timeout=30)
    beyond = requests.get(
        f"{url}/api/stream/url/abc", headers={"Range": f"bytes={BLOB_SIZE}-"}, timeout=30
    )

    assert whole.status_code == 200 and whole.content == BLOB
    assert whole.headers["Content-Length"] == str(BLOB_SIZE)
    assert middle.status_code == 206
    assert middle.content == BLOB[1000:201000]
    assert middle.headers["Content-Range"] == f"bytes 1000-200999/{BLOB_SIZE}"
    assert middle.headers["Accept-Ranges"] == "bytes"
    assert tail.status_code == 206 and tail.content == BLOB[-17:]
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{BLOB_SIZE}"


def test_upstream_status_codes_pass_through(platform, gateway):
    platform.upstream("billing")
    url = gateway()

    assert requests.get(f"{url}/api/billing/status/402", timeout=10).status_code == 402
    assert requests.get(f"{url}/api/billing/status/409", timeout=10).json() == {"status": 409}
    assert requests.get(f"{url}/api/billing/status/500", timeout=10).status_code == 500


def test_unknown_routes_and_oversized_bodies_get_json_errors(platform, gateway):
    platform.upstream("video")
    url = gateway(GATEWAY_MAX_BODY_BYTES=1024)

    missing = requests.get(f"{url}/api/nothing-here", timeout=10)
    near_miss = requests.get(f"{url}/api/videosx", timeout=10)
    too_big = requests.post(f"{url}/api/videos/upload", data=b"x" * 2048, timeout=10)
    too_big_chunked = requests.post(
        f"{url}/api/videos/upload", data=iter([b"x" * 1000, b"y" * 1000]), timeout=10
    )
    fits = requests.post(f"{url}/api/videos/upload", data=b"x" * 1024, timeout=10)

    assert missing.status_code == 404
    assert missing.json() == {"error": "Not found", "details": [{"path": "/api/nothing-here"}]}
    assert near_miss.status_code == 404
    assert too_big.status_code == 413
    assert too_big.json()["details"] == [{"limitBytes": 1024}]
    assert too_big_chunked.status_code == 413
    assert fits.status_code == 201 and fits.json()["size"] == 1024


def test_a_body_cut_short_by_the_client_never_counts_against_the_upstream(platform, gateway):
    platform.upstream("video")
    url = gateway(STREAMIFY_BREAKER_FAIL_MAX="1", STREAMIFY_HTTP_READ_TIMEOUT="3")
    host, port = url.removeprefix("http://").split(":")

    # Five uploads announcing 10 MB that stop after 1 KB and hang up.
    for _ in range(5):
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                b"POST /api/videos/upload HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"
                + b"x"
                * 1024
            )
            conn.shutdown(socket.SHUT_WR)
            conn.recv(65536)
    time.sleep(4)  # past the read timeout a waiting upstream would have hit

    stats = requests.get(f"{url}/api/circuit-breaker/stats", timeout=10).json()["breakers"]
    assert stats["video"]["state"] == "CLOSED" and stats["video"]["totalFailures"] == 0
    assert requests.get(f"{url}/api/videos/upload", timeout=10).status_code == 201
