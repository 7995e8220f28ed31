"""Pooled keep-alive connections to upstreams: a connection the upstream dropped while idle is
replaced without the caller noticing, but only where sending again cannot repeat an effect."""

import socket
import threading

import pytest
import urllib3

from common import upstreams
from common.breakers.failures import never_connected


class DroppingServer:
    """Answers the first request of each connection and drops the second one unanswered, as an
    upstream does when its keep-alive timeout fires just as a request arrives."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.seen: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            for number in (1, 2):
                data = conn.recv(65536)
                if not data:
                    return
                line = data.split(b"\r\n", 1)[0].decode()
                if number == 2:
                    self.seen.append(f"dropped {line}")
                    return
                self.seen.append(line)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def close(self):
        self.socket.close()


@pytest.fixture
def upstream():
    server = DroppingServer()
    yield server
    server.close()


def _call(url: str, method: str, path: str, body: bytes | None = None):
    """One call as `common.upstreams.request` makes it: a pooled connection, its retry policy."""
    pool = urllib3.connection_from_url(url, maxsize=1, retries=upstreams.NO_RETRY)
    retries = upstreams.STALE_RETRY if body is None else upstreams.NO_RETRY
    return pool, lambda: pool.urlopen(method, path, body=body, retries=retries, timeout=5)


def test_a_read_on_a_dropped_connection_is_sent_again_on_a_new_one(upstream):
    pool, _ = _call(upstream.url, "GET", "/a")

    first = pool.urlopen("GET", "/a", retries=upstreams.STALE_RETRY, timeout=5)
    second = pool.urlopen("GET", "/b", retries=upstreams.STALE_RETRY, timeout=5)

    assert (first.data, second.data) == (b"ok", b"ok")
    assert upstream.seen == ["GET /a HTTP/1.1", "dropped GET /b HTTP/1.1", "GET /b HTTP/1.1"]


def test_a_write_on_a_dropped_connection_is_not_sent_again(upstream):
    pool, _ = _call(upstream.url, "GET", "/a")
    pool.urlopen("GET", "/a", retries=upstreams.STALE_RETRY, timeout=5)

    with pytest.raises(urllib3.exceptions.ProtocolError):
        pool.urlopen("POST", "/charge", body=b"{}", retries=upstreams.NO_RETRY, timeout=5)

    assert upstream.seen == ["GET /a HTTP/1.1", "dropped POST /charge HTTP/1.1"]


def test_a_refused_connection_is_not_retried_and_is_known_unsent():
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    _, call = _call(url, "GET", "/a")

    with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
        call()

    assert isinstance(caught.value.reason, urllib3.exceptions.NewConnectionError)
    assert never_connected(caught.value)
