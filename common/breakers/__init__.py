"""Circuit breakers (pybreaker), one per upstream, shared by a service's processes on a host.

Use `guarded(name)` around one call to an upstream (HTTP or gRPC)::

    with guarded("video-grpc"):
        stub.GetVideo(request, timeout=2)

Only upstream failures count (`failures.is_upstream_failure`): connection errors, timeouts, 5xx
and the gRPC codes that mean "the server is not serving". A 4xx or a NOT_FOUND is an answer,
not a failure. While a breaker is open, `guarded` raises `UpstreamUnavailable` without calling.

State lives on the service's board (`board.py`, shared memory, one per host), or with REDIS_URL
in Redis (`shared.py`, every host, read through a half-second snapshot): either way a call
through a closed breaker reads memory and writes nothing. Limits: pybreaker reads the counter
and then decides to trip, so two processes failing at once may both trip (harmless, both write
OPEN); once the reset timeout elapses, pybreaker's half-open state lets calls through (in every
thread of every process) until the first of them succeeds or fails, rather than exactly one
probe; and a process that notices another's state change resets the shared failure count,
which can delay (never prevent) the next trip.

Configuration (environment): `STREAMIFY_BREAKER_FAIL_MAX` (consecutive failures that open a
breaker, default 5), `STREAMIFY_BREAKER_RESET_SECONDS` (how long it stays open before a probe,
default 30), and per upstream `STREAMIFY_BREAKER_<NAME>_FAIL_MAX` / `..._RESET_SECONDS`, where
<NAME> is the breaker name upper-cased with non-alphanumerics as `_` (`video-grpc` -> VIDEO_GRPC).
"""

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pybreaker
from django.conf import settings

from common.breakers.board import BoardStorage, board_at
from common.breakers.failures import (
    UpstreamServerError,
    UpstreamUnavailable,
    describe,
    is_upstream_failure,
    never_connected,
)
from common.env import breaker_setting, var_dir
from common.metrics.instruments import UPSTREAM_CALLS, UPSTREAM_DURATION

if TYPE_CHECKING:  # imported when REDIS_URL is set (it brings the redis client)
    from common.breakers.shared import RedisStorage

__all__ = [
    "UpstreamServerError",
    "UpstreamUnavailable",
    "breaker",
    "describe",
    "guarded",
    "is_upstream_failure",
    "refusing",
    "reset",
    "retry_after",
    "stats",
]

DEFAULT_FAIL_MAX = 5
DEFAULT_RESET_SECONDS = 30.0

STATE_NAMES = {
    pybreaker.STATE_CLOSED: "CLOSED",
    pybreaker.STATE_OPEN: "OPEN",
    pybreaker.STATE_HALF_OPEN: "HALF_OPEN",
}


def fail_max(name: str) -> int:
    return int(breaker_setting(name, "FAIL_MAX", DEFAULT_FAIL_MAX))


def reset_seconds(name: str) -> float:
    return breaker_setting(name, "RESET_SECONDS", DEFAULT_RESET_SECONDS)


class _Recorder(pybreaker.CircuitBreakerListener):
    """Keeps the last failure's reason beside the breaker's shared state (`stats`)."""

    def __init__(self, storage):
        self.storage = storage

    def failure(self, cb, exc):
        self.storage.record_failure(describe(exc))


@dataclass(frozen=True)
class _Guard:
    """A breaker and the storage it was given: ours to read, where pybreaker keeps it private."""

    breaker: pybreaker.CircuitBreaker
    storage: "BoardStorage | RedisStorage"


_guards: dict[str, _Guard] = {}
_lock = threading.Lock()


def _storage(name: str) -> "BoardStorage | RedisStorage":
    if settings.REDIS_URL:
        from common.breakers import shared

        client = shared.client(settings.REDIS_URL)
        return shared.RedisStorage(name, service=settings.SERVICE_NAME, redis_client=client)
    return BoardStorage(name, board_at(var_dir() / "breakers" / f"{settings.SERVICE_NAME}.board"))


def _guard(name: str) -> _Guard:
    found = _guards.get(name)
    if found is not None:
        return found
    with _lock:
        if name not in _guards:
            storage = _storage(name)
            cb = pybreaker.CircuitBreaker(
                fail_max=fail_max(name),
                reset_timeout=reset_seconds(name),
                exclude=[lambda exc: not is_upstream_failure(exc)],
                listeners=[_Recorder(storage)],
                state_storage=storage,
                name=name,
            )
            _guards[name] = _Guard(cb, storage)
        return _guards[name]


def breaker(name: str) -> pybreaker.CircuitBreaker:
    """The breaker guarding upstream `name` (e.g. "billing", "video-grpc") in this process."""
    return _guard(name).breaker


def retry_after(name: str) -> int:
    """Whole seconds until an open breaker lets a probe through (at least 1)."""
    guard = _guard(name)
    cb, storage = guard.breaker, guard.storage
    opened = storage.opened_at
    if cb.current_state != pybreaker.STATE_OPEN or opened is None:
        return 1
    remaining = opened.timestamp() + cb.reset_timeout - time.time()
    return max(1, math.ceil(remaining))


def refusing(name: str) -> bool:
    """Whether breaker `name` is open and its reset timeout has not run out: a call now would
    be refused. (pybreaker moves to half-open only inside a call, so an open state whose
    timeout has passed still lets the next call through as a probe.)"""
    guard = _guard(name)
    cb, storage = guard.breaker, guard.storage
    opened = storage.opened_at
    if cb.current_state != pybreaker.STATE_OPEN or opened is None:
        return False
    return opened.timestamp() + cb.reset_timeout > time.time()


@contextmanager
def guarded(name: str):
    """Run the block as one call to upstream `name` through its breaker.

    Raise `UpstreamUnavailable` when the breaker is open or the block fails with an upstream
    failure; let other exceptions (the upstream's answers, programming errors) through as they
    are. The block runs outside pybreaker's lock, so concurrent calls do not queue behind it.
    Each call is counted by outcome (`streamify_upstream_calls`) and timed.
    """
    guard = _guard(name)
    cb = guard.breaker
    entered = False
    outcome = "failed"
    started = time.perf_counter()
    try:
        with cb.calling():
            entered = True
            yield cb
        outcome = "ok"
    except pybreaker.CircuitBreakerError as exc:
        if not entered:
            outcome = "rejected"
            guard.storage.record_rejection()
        cause = exc.__context__
        raise UpstreamUnavailable(
            name,
            retry_after(name),
            reason=f"circuit open after: {describe(cause)}" if cause else "circuit open",
            response=getattr(cause, "response", None),
            # Refused before calling, or this very call tripped the breaker: then it went out.
            reached=entered and not never_connected(cause),
        ) from exc
    except UpstreamServerError:
        raise
    except Exception as exc:
        if is_upstream_failure(exc):
            raise UpstreamUnavailable(
                name, retry_after(name), reason=describe(exc), reached=not never_connected(exc)
            ) from exc
        outcome = "ok"  # an answer (a 4xx, NOT_FOUND), not a failure of the upstream
        raise
    finally:
        UPSTREAM_CALLS.labels(name, outcome).inc()
        if entered:
            UPSTREAM_DURATION.labels(name).observe(time.perf_counter() - started)


def reset(name: str) -> None:
    """Close breaker `name` and zero its counters (operators, and tests between cases)."""
    _guard(name).storage.reset()


def stats(names: list[str] | tuple[str, ...] = ()) -> dict[str, dict]:
    """Each breaker's shared state: the `names` given plus any this service has used."""
    known = set(names)
    if names or _guards:
        any_name = next(iter(names), None) or next(iter(_guards))
        known.update(_guard(any_name).storage.known_names())
    result = {}
    for name in sorted(known):
        guard = _guard(name)
        cb, storage = guard.breaker, guard.storage
        state = storage.state
        opened = storage.opened_at
        result[name] = {
            "state": STATE_NAMES.get(state, state.upper()),
            "failures": storage.counter,
            "successes": storage.success_counter,
            "failMax": cb.fail_max,
            "resetTimeout": cb.reset_timeout,
            "openedAt": opened.isoformat() if opened and state != pybreaker.STATE_CLOSED else None,
            "retryAfter": retry_after(name) if state == pybreaker.STATE_OPEN else 0,
            **storage.extras(),
        }
    return result
