"""common.breakers in-process: counting rules, the shared SQLite store, and Redis when present."""

import shutil
import subprocess
import time
import uuid

import grpc
import pybreaker
import pytest
import requests

from common import breakers
from common.testing.processes import free_port, wait_for


class FakeRpcError(grpc.RpcError):
    def __init__(self, code):
        self._code = code

    def code(self):
        return self._code


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def test_only_upstream_failures_count():
    assert breakers.is_upstream_failure(requests.ConnectionError())
    assert breakers.is_upstream_failure(requests.ReadTimeout())
    assert breakers.is_upstream_failure(FakeRpcError(grpc.StatusCode.UNAVAILABLE))
    assert breakers.is_upstream_failure(FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED))
    assert not breakers.is_upstream_failure(FakeRpcError(grpc.StatusCode.NOT_FOUND))
    assert not breakers.is_upstream_failure(ValueError("a bug, not an outage"))


def test_guarded_opens_after_fail_max_and_rejects_without_calling(monkeypatch):
    monkeypatch.setenv("STREAMIFY_BREAKER_FAIL_MAX", "2")
    name, calls = _name(), []

    def failing():
        calls.append(1)
        raise requests.ConnectionError("refused")

    outcomes = []
    for _ in range(4):
        with pytest.raises(breakers.UpstreamUnavailable) as caught, breakers.guarded(name):
            failing()
        outcomes.append(caught.value.reason)

    assert len(calls) == 2
    assert outcomes[0] == "connection failed"
    assert outcomes[1] == "circuit open after: connection failed"
    assert outcomes[2:] == ["circuit open", "circuit open"]
    stats = breakers.stats([name])[name]
    assert stats["state"] == "OPEN" and stats["totalFailures"] == 2 and stats["rejected"] == 2


def test_answers_pass_through_and_reset_the_count(monkeypatch):
    monkeypatch.setenv("STREAMIFY_BREAKER_FAIL_MAX", "2")
    name = _name()

    with pytest.raises(breakers.UpstreamUnavailable), breakers.guarded(name):
        raise requests.ConnectionError()
    with pytest.raises(FakeRpcError), breakers.guarded(name):
        raise FakeRpcError(grpc.StatusCode.NOT_FOUND)

    assert breakers.stats([name])[name]["failures"] == 0
    assert breakers.stats([name])[name]["state"] == "CLOSED"


def test_half_open_probe_closes_on_success(monkeypatch):
    monkeypatch.setenv("STREAMIFY_BREAKER_FAIL_MAX", "1")
    monkeypatch.setenv("STREAMIFY_BREAKER_RESET_SECONDS", "0.2")
    name = _name()
    with pytest.raises(breakers.UpstreamUnavailable), breakers.guarded(name):
        raise requests.Timeout()
    opened = breakers.stats([name])[name]

    time.sleep(0.25)
    with breakers.guarded(name):
        pass

    assert opened["state"] == "OPEN" and opened["lastError"] == "timed out"
    closed = breakers.stats([name])[name]
    assert closed["state"] == "CLOSED" and closed["lastStateChange"] > opened["lastStateChange"]


def test_sqlite_store_is_shared_by_independent_breakers(tmp_path):
    path = tmp_path / "shared.sqlite3"
    first = pybreaker.CircuitBreaker(fail_max=3, state_storage=breakers.SqliteStorage("x", path))
    second = pybreaker.CircuitBreaker(fail_max=3, state_storage=breakers.SqliteStorage("x", path))

    for cb in (first, second, first):
        with pytest.raises((RuntimeError, pybreaker.CircuitBreakerError)), cb.calling():
            raise RuntimeError("down")

    assert second.current_state == pybreaker.STATE_OPEN
    with pytest.raises(pybreaker.CircuitBreakerError), second.calling():
        pass


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_redis_store_keeps_state_and_stats(monkeypatch, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        wait_for(client.ping, timeout=10, what="redis")
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
        monkeypatch.setenv("STREAMIFY_BREAKER_FAIL_MAX", "2")
        name = _name()
        for _ in range(3):
            with pytest.raises(breakers.UpstreamUnavailable), breakers.guarded(name):
                raise requests.ConnectionError()
        stats = breakers.stats([name])[name]

        assert stats["state"] == "OPEN"
        assert stats["totalFailures"] == 2 and stats["rejected"] == 1
        assert client.get(f"streamify:breakers:gateway:{name}:pybreaker:state") == b"open"
        breakers.reset(name)
        assert breakers.stats([name])[name]["state"] == "CLOSED"
    finally:
        server.terminate()
        server.wait(timeout=10)
