"""common.breakers in-process: counting rules and the board shared by a service's processes."""

import subprocess
import sys
import time
import uuid

import grpc
import pybreaker
import pytest
import requests
import urllib3

from common import breakers
from common.breakers.board import Board, BoardStorage
from common.paths import REPO_ROOT


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


def test_board_is_shared_by_independent_breakers(tmp_path):
    path = tmp_path / "shared.board"
    first = pybreaker.CircuitBreaker(fail_max=3, state_storage=BoardStorage("x", Board(path)))
    second = pybreaker.CircuitBreaker(fail_max=3, state_storage=BoardStorage("x", Board(path)))

    for cb in (first, second, first):
        with pytest.raises((RuntimeError, pybreaker.CircuitBreakerError)), cb.calling():
            raise RuntimeError("down")

    assert second.current_state == pybreaker.STATE_OPEN
    with pytest.raises(pybreaker.CircuitBreakerError), second.calling():
        pass


def test_board_is_shared_with_another_process(tmp_path):
    path = tmp_path / "shared.board"
    mine = BoardStorage("billing", Board(path))
    script = (
        "import sys, pybreaker\n"
        "from common.breakers.board import Board, BoardStorage\n"
        "storage = BoardStorage('billing', Board(__import__('pathlib').Path(sys.argv[1])))\n"
        "cb = pybreaker.CircuitBreaker(fail_max=2, state_storage=storage)\n"
        "for _ in range(2):\n"
        "    try:\n"
        "        cb.call(lambda: 1 / 0)\n"
        "    except (ZeroDivisionError, pybreaker.CircuitBreakerError):\n"
        "        pass\n"
        "storage.record_failure('division by zero')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, cwd=REPO_ROOT)

    assert mine.state == pybreaker.STATE_OPEN
    assert mine.counter == 2
    assert mine.extras()["lastError"] == "division by zero"
    mine.reset()
    assert (mine.state, mine.counter) == (pybreaker.STATE_CLOSED, 0)


def test_board_keeps_one_record_per_name(tmp_path):
    board = Board(tmp_path / "names.board")
    BoardStorage("video", board).increment_counter()
    again = BoardStorage("video", Board(tmp_path / "names.board"))
    BoardStorage("billing", board)

    assert again.counter == 1
    assert board.names() == ["billing", "video"]


class _FiveHundred:
    status_code = 500


def test_what_reached_the_upstream_is_told_apart_from_what_surely_did_not(monkeypatch):
    monkeypatch.setenv("STREAMIFY_BREAKER_FAIL_MAX", "2")
    name = _name()
    refused = urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.NewConnectionError(None, "refused")
    )

    def outcome(exc: Exception) -> breakers.UpstreamUnavailable:
        with pytest.raises(breakers.UpstreamUnavailable) as caught, breakers.guarded(name):
            raise exc
        return caught.value

    # A 5xx reached the upstream, including the one that trips the breaker.
    with pytest.raises(breakers.UpstreamServerError), breakers.guarded(name):
        raise breakers.UpstreamServerError(name, _FiveHundred())
    tripping = outcome(breakers.UpstreamServerError(name, _FiveHundred()))
    assert tripping.reason.startswith("circuit open after") and tripping.reached
    # Refused by the open breaker: never sent.
    assert not outcome(breakers.UpstreamServerError(name, _FiveHundred())).reached
    breakers.reset(name)
    # No connection could be made: never sent, even when it trips the breaker.
    assert not outcome(refused).reached
    assert not outcome(refused).reached
    breakers.reset(name)
    # A timeout after the request went out: it may have been acted on.
    assert outcome(urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out")).reached
