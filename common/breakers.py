"""Circuit breakers (pybreaker), one per upstream, with state shared by a service's processes.

Use `guarded(name)` around one call to an upstream (HTTP or gRPC)::

    with guarded("video-grpc"):
        stub.GetVideo(request, timeout=2)

Only upstream failures count (see `is_upstream_failure`): connection errors, timeouts, 5xx and
the gRPC codes that mean "the server is not serving". A 4xx or a NOT_FOUND is an answer, not a
failure. While a breaker is open, `guarded` raises `UpstreamUnavailable` without calling.

Where the state lives (so every gunicorn worker and Celery worker of one service sees the same
breaker): Redis (pybreaker's `CircuitRedisStorage`) when `REDIS_URL` is set, else a small SQLite
file `var/breakers/<service>.sqlite3`. SQLite rather than Django's FileBasedCache because every
counter update is then one atomic statement (FileBasedCache's incr is a read-modify-write of a
pickle file). Limits, the same for both stores: pybreaker reads the counter and then decides to
trip, so two processes failing at once may both trip (harmless, both write OPEN), and when the
reset timeout elapses every process may send one half-open probe, not exactly one. The SQLite
file only spans processes that share a filesystem; several hosts need `REDIS_URL`.

Configuration (environment): `STREAMIFY_BREAKER_FAIL_MAX` (consecutive failures that open a
breaker, default 5), `STREAMIFY_BREAKER_RESET_SECONDS` (how long it stays open before a probe,
default 30), and per upstream `STREAMIFY_BREAKER_<NAME>_FAIL_MAX` / `..._RESET_SECONDS`, where
<NAME> is the breaker name upper-cased with non-alphanumerics as `_` (`video-grpc` -> VIDEO_GRPC).
"""

import math
import os
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pybreaker
from django.conf import settings

from common.paths import var_dir

DEFAULT_FAIL_MAX = 5
DEFAULT_RESET_SECONDS = 30.0

STATE_NAMES = {
    pybreaker.STATE_CLOSED: "CLOSED",
    pybreaker.STATE_OPEN: "OPEN",
    pybreaker.STATE_HALF_OPEN: "HALF_OPEN",
}


class UpstreamUnavailable(Exception):
    """`service` cannot answer now: its breaker is open or the call failed.

    Callers answer 503 `{"error", "service", "retryAfter"}` (see `error_body`). `response` holds
    the upstream's own 5xx response when there was one.
    """

    def __init__(self, service: str, retry_after: int, reason: str = "", response=None):
        self.service = service
        self.retry_after = retry_after
        self.reason = reason
        self.response = response
        super().__init__(f"{service} unavailable: {reason}" if reason else f"{service} unavailable")

    def error_body(self) -> dict:
        return {
            "error": f"Service {self.service} is unavailable",
            "service": self.service,
            "retryAfter": self.retry_after,
            "details": [{"message": self.reason}] if self.reason else [],
        }


class UpstreamServerError(Exception):
    """The upstream answered with a 5xx: counted as a failure by its breaker."""

    def __init__(self, service: str, response):
        self.service = service
        self.response = response
        super().__init__(f"{service} answered {response.status_code}")


def is_upstream_failure(exc: BaseException) -> bool:
    """True when `exc` says the upstream is down or broken, not that the request was wrong."""
    import requests

    if isinstance(exc, UpstreamServerError | requests.ConnectionError | requests.Timeout):
        return True
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if getattr(exc, "transient", False):  # common.grpc.GrpcUnavailable and its kind
        return True
    try:
        import grpc
    except ImportError:  # pragma: no cover - grpcio is a dependency
        return False
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        return exc.code() in {
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.UNKNOWN,
            grpc.StatusCode.DATA_LOSS,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        }
    return False


def describe(exc: BaseException) -> str:
    """A short reason for an upstream failure, fit for an error body or the stats page."""
    import requests

    if isinstance(exc, requests.Timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, requests.ConnectionError | ConnectionError):
        return "connection failed"
    if isinstance(exc, UpstreamServerError):
        return str(exc)
    code = getattr(exc, "code", None)
    code = code() if callable(code) else code
    if hasattr(code, "name"):
        return f"gRPC {code.name}"
    return f"{type(exc).__name__}: {exc}"[:300]


def _env_name(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def fail_max(name: str) -> int:
    value = os.environ.get(f"STREAMIFY_BREAKER_{_env_name(name)}_FAIL_MAX")
    return int(value or os.environ.get("STREAMIFY_BREAKER_FAIL_MAX") or DEFAULT_FAIL_MAX)


def reset_seconds(name: str) -> float:
    value = os.environ.get(f"STREAMIFY_BREAKER_{_env_name(name)}_RESET_SECONDS")
    return float(
        value or os.environ.get("STREAMIFY_BREAKER_RESET_SECONDS") or DEFAULT_RESET_SECONDS
    )


# --- storage -------------------------------------------------------------------------------


def _timestamp(value: float | None) -> str | None:
    return datetime.fromtimestamp(value, UTC).isoformat() if value else None


class SqliteStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker storage on one SQLite row per breaker; every write is one atomic statement."""

    _local = threading.local()

    def __init__(self, name: str, path) -> None:
        super().__init__(name)
        self._path = str(path)
        self._execute(
            "INSERT OR IGNORE INTO breaker (name, state, last_state_change) VALUES (?, ?, ?)",
            (name, pybreaker.STATE_CLOSED, time.time()),
        )

    def _connection(self) -> sqlite3.Connection:
        connections = self._local.__dict__.setdefault("connections", {})
        conn = connections.get(self._path)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS breaker ("
                " name TEXT PRIMARY KEY, state TEXT NOT NULL,"
                " fail_counter INTEGER NOT NULL DEFAULT 0,"
                " success_counter INTEGER NOT NULL DEFAULT 0,"
                " opened_at REAL, last_state_change REAL,"
                " total_failures INTEGER NOT NULL DEFAULT 0,"
                " rejected INTEGER NOT NULL DEFAULT 0,"
                " last_failure_at REAL, last_error TEXT)"
            )
            connections[self._path] = conn
        return conn

    def _execute(self, sql: str, params: tuple = ()) -> list:
        return self._connection().execute(sql, params).fetchall()

    def _column(self, column: str):
        rows = self._execute(f"SELECT {column} FROM breaker WHERE name = ?", (self.name,))  # noqa: S608
        return rows[0][0] if rows else None

    @property
    def state(self) -> str:
        return self._column("state") or pybreaker.STATE_CLOSED

    @state.setter
    def state(self, state: str) -> None:
        self._execute(
            "UPDATE breaker SET state = ?, last_state_change = ? WHERE name = ? AND state != ?",
            (state, time.time(), self.name, state),
        )

    def increment_counter(self) -> None:
        self._execute(
            "UPDATE breaker SET fail_counter = fail_counter + 1 WHERE name = ?", (self.name,)
        )

    def reset_counter(self) -> None:
        # pybreaker resets after every success; reading first keeps the happy path write-free.
        if self.counter:
            self._execute("UPDATE breaker SET fail_counter = 0 WHERE name = ?", (self.name,))

    def increment_success_counter(self) -> None:
        self._execute(
            "UPDATE breaker SET success_counter = success_counter + 1 WHERE name = ?",
            (self.name,),
        )

    def reset_success_counter(self) -> None:
        if self.success_counter:
            self._execute("UPDATE breaker SET success_counter = 0 WHERE name = ?", (self.name,))

    @property
    def counter(self) -> int:
        return self._column("fail_counter") or 0

    @property
    def success_counter(self) -> int:
        return self._column("success_counter") or 0

    @property
    def opened_at(self) -> datetime | None:
        value = self._column("opened_at")
        return datetime.fromtimestamp(value, UTC) if value else None

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._execute(
            "UPDATE breaker SET opened_at = ? WHERE name = ?", (value.timestamp(), self.name)
        )

    def record_failure(self, error: str) -> None:
        self._execute(
            "UPDATE breaker SET total_failures = total_failures + 1, last_failure_at = ?,"
            " last_error = ? WHERE name = ?",
            (time.time(), error[:300], self.name),
        )

    def record_rejection(self) -> None:
        self._execute("UPDATE breaker SET rejected = rejected + 1 WHERE name = ?", (self.name,))

    def extras(self) -> dict:
        rows = self._execute(
            "SELECT last_state_change, total_failures, rejected, last_failure_at, last_error"
            " FROM breaker WHERE name = ?",
            (self.name,),
        )
        changed, failures, rejected, failed_at, error = (
            rows[0] if rows else (None, 0, 0, None, None)
        )
        return {
            "lastStateChange": _timestamp(changed),
            "totalFailures": failures,
            "rejected": rejected,
            "lastFailureAt": _timestamp(failed_at),
            "lastError": error,
        }

    def reset(self) -> None:
        self._execute(
            "UPDATE breaker SET state = ?, fail_counter = 0, success_counter = 0, opened_at = NULL,"
            " last_state_change = ? WHERE name = ?",
            (pybreaker.STATE_CLOSED, time.time(), self.name),
        )

    def known_names(self) -> list[str]:
        return [row[0] for row in self._execute("SELECT name FROM breaker ORDER BY name")]


class RedisStorage(pybreaker.CircuitRedisStorage):
    """pybreaker's Redis storage plus the counters the stats endpoint shows, in one hash."""

    def __init__(self, name: str, redis_client, namespace: str) -> None:
        super().__init__(pybreaker.STATE_CLOSED, redis_client, namespace=namespace)
        self._name = name
        self._extras_key = f"{namespace}:extras"
        redis_client.hsetnx(self._extras_key, "last_state_change", time.time())
        redis_client.sadd(f"{namespace.rsplit(':', 1)[0]}:names", name)

    @property
    def state(self) -> str:
        return pybreaker.CircuitRedisStorage.state.fget(self)

    @state.setter
    def state(self, state: str) -> None:
        if pybreaker.CircuitRedisStorage.state.fget(self) != state:
            self._redis.hset(self._extras_key, "last_state_change", time.time())
        pybreaker.CircuitRedisStorage.state.fset(self, state)

    def record_failure(self, error: str) -> None:
        pipe = self._redis.pipeline()
        pipe.hincrby(self._extras_key, "total_failures", 1)
        pipe.hset(self._extras_key, mapping={"last_failure_at": time.time(), "last_error": error})
        pipe.execute()

    def record_rejection(self) -> None:
        self._redis.hincrby(self._extras_key, "rejected", 1)

    def extras(self) -> dict:
        raw = {k.decode(): v.decode() for k, v in self._redis.hgetall(self._extras_key).items()}
        return {
            "lastStateChange": _timestamp(float(raw.get("last_state_change") or 0)),
            "totalFailures": int(raw.get("total_failures", 0)),
            "rejected": int(raw.get("rejected", 0)),
            "lastFailureAt": _timestamp(float(raw.get("last_failure_at") or 0)),
            "lastError": raw.get("last_error"),
        }

    def reset(self) -> None:
        self.reset_counter()
        self.reset_success_counter()
        self._redis.delete(self._namespace("opened_at"))
        self.state = pybreaker.STATE_CLOSED

    def known_names(self) -> list[str]:
        key = f"{self._namespace_name.rsplit(':', 1)[0]}:names"
        return sorted(n.decode() for n in self._redis.smembers(key))


# --- breakers ------------------------------------------------------------------------------


class _Recorder(pybreaker.CircuitBreakerListener):
    def failure(self, cb, exc):
        cb._state_storage.record_failure(describe(exc))


_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()


def _storage(name: str):
    service = settings.SERVICE_NAME
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return RedisStorage(name, client, namespace=f"streamify:breakers:{service}:{name}")
    folder = var_dir() / "breakers"
    folder.mkdir(exist_ok=True)
    return SqliteStorage(name, folder / f"{service}.sqlite3")


def breaker(name: str) -> pybreaker.CircuitBreaker:
    """The breaker guarding upstream `name` (e.g. "billing", "video-grpc") in this process."""
    found = _breakers.get(name)
    if found is not None:
        return found
    with _lock:
        if name not in _breakers:
            _breakers[name] = pybreaker.CircuitBreaker(
                fail_max=fail_max(name),
                reset_timeout=reset_seconds(name),
                exclude=[lambda exc: not is_upstream_failure(exc)],
                listeners=[_Recorder()],
                state_storage=_storage(name),
                name=name,
            )
        return _breakers[name]


def retry_after(name: str) -> int:
    """Whole seconds until an open breaker lets a probe through (at least 1)."""
    cb = breaker(name)
    opened = cb._state_storage.opened_at
    if cb.current_state != pybreaker.STATE_OPEN or opened is None:
        return 1
    remaining = opened.timestamp() + cb.reset_timeout - time.time()
    return max(1, math.ceil(remaining))


@contextmanager
def guarded(name: str):
    """Run the block as one call to upstream `name` through its breaker.

    Raise `UpstreamUnavailable` when the breaker is open or the block fails with an upstream
    failure; let other exceptions (the upstream's answers, programming errors) through as they
    are. The block runs outside pybreaker's lock, so concurrent calls do not queue behind it.
    """
    cb = breaker(name)
    entered = False
    try:
        with cb.calling():
            entered = True
            yield cb
    except pybreaker.CircuitBreakerError as exc:
        if not entered:
            cb._state_storage.record_rejection()
        cause = exc.__context__
        raise UpstreamUnavailable(
            name,
            retry_after(name),
            reason=f"circuit open after: {describe(cause)}" if cause else "circuit open",
            response=getattr(cause, "response", None),
        ) from exc
    except UpstreamServerError:
        raise
    except Exception as exc:
        if is_upstream_failure(exc):
            raise UpstreamUnavailable(name, retry_after(name), reason=describe(exc)) from exc
        raise


def reset(name: str) -> None:
    """Close breaker `name` and zero its counters (operators, and tests between cases)."""
    breaker(name)._state_storage.reset()


def stats(names: list[str] | tuple[str, ...] = ()) -> dict[str, dict]:
    """Each breaker's shared state: the `names` given plus any this service has used."""
    known = set(names)
    if names or _breakers:
        any_name = next(iter(names), None) or next(iter(_breakers))
        known.update(breaker(any_name)._state_storage.known_names())
    result = {}
    for name in sorted(known):
        cb = breaker(name)
        storage = cb._state_storage
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
