"""Breaker state shared by every process of one service on every host, in Redis (REDIS_URL).

One hash per breaker (`streamify:breakers:<service>:<name>`) holds what the shared-memory board
holds on one host, so a replica on another node learns that an upstream is down from the
failures its peers met, not only from its own.

Reading Redis on every call would put a network round trip in front of every upstream call
(two, as pybreaker reads the state and then the failure count). Instead each process reads a
breaker's hash at most every `REFRESH_SECONDS` and serves the state from that snapshot; what
it changes (a failure, a trip, a reset) goes to Redis at once and into its own snapshot. A peer
therefore sees a breaker trip up to `REFRESH_SECONDS` late: a few more calls reach a dead
upstream and fail fast on their own, which is the price of no Redis traffic on the happy path.

Redis itself failing must not take the breakers down with it: while it cannot be reached, a
process keeps deciding on its own snapshot (as a process with no shared state would) and
writes there, and logs the outage once.
"""

import logging
import threading
import time

import pybreaker
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.breakers.fields import FieldStorage

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5
OUTAGE_RETRY_SECONDS = 5.0  # while Redis is unreachable, how often a breaker tries it again
ERROR_CHARS = 256
NUMBERS = ("fail_counter", "success_counter", "total_failures", "rejected")
TIMES = ("opened_at", "last_state_change", "last_failure_at")

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def client(url: str) -> redis.Redis:
    """One connection pool per Redis URL and process."""
    with _clients_lock:
        if url not in _clients:
            # Short timeouts and no retries: a call through a breaker must never wait long
            # for Redis (an unreachable Redis is handled by deciding alone, not by waiting).
            _clients[url] = redis.Redis.from_url(
                url,
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
                retry=Retry(NoBackoff(), 0),
            )
        return _clients[url]


class RedisStorage(FieldStorage):
    """pybreaker storage on one Redis hash, read through a short-lived local snapshot."""

    def __init__(self, name: str, *, service: str, redis_client: redis.Redis) -> None:
        super().__init__(name)
        self._redis = redis_client
        self._names_key = f"streamify:breakers:{service}"
        self._key = f"{self._names_key}:{name}"
        self._lock = threading.Lock()
        self._snapshot = self._decode({})
        self._next_read = float("-inf")
        self._outage = False
        self._claimed = False

    def _claim(self) -> None:
        with self._redis.pipeline() as claim:
            claim.sadd(self._names_key, self.name)
            claim.hsetnx(self._key, "state", pybreaker.STATE_CLOSED)
            claim.hsetnx(self._key, "last_state_change", time.time())
            claim.execute()
        self._claimed = True

    def _get(self, field: str):
        with self._lock:
            if time.monotonic() >= self._next_read:
                self._next_read = time.monotonic() + REFRESH_SECONDS
                try:
                    if not self._claimed:
                        self._claim()
                    self._snapshot = self._decode(self._redis.hgetall(self._key))
                    self._outage = False
                except redis.RedisError:
                    self._lost()
            return self._snapshot[field]

    def _lost(self) -> None:
        if not self._outage:
            logger.warning("breaker %s: Redis unreachable, deciding alone", self.name)
        self._outage = True
        self._next_read = time.monotonic() + OUTAGE_RETRY_SECONDS

    @staticmethod
    def _decode(stored: dict[bytes, bytes]) -> dict[str, object]:
        raw = {key.decode(): value.decode() for key, value in stored.items()}
        decoded: dict[str, object] = {
            "state": raw.get("state") or pybreaker.STATE_CLOSED,
            "last_error": raw.get("last_error", ""),
        }
        decoded.update({field: int(raw.get(field) or 0) for field in NUMBERS})
        decoded.update({field: float(raw.get(field) or 0.0) for field in TIMES})
        return decoded

    def _put(self, **values) -> None:
        if not self._outage:
            try:
                self._redis.hset(self._key, mapping=values)
            except redis.RedisError:
                self._lost()
        with self._lock:
            self._snapshot.update(values)

    def _add(self, field: str) -> None:
        value = None
        if not self._outage:
            try:
                value = self._redis.hincrby(self._key, field, 1)
            except redis.RedisError:
                self._lost()
        with self._lock:
            self._snapshot[field] = self._snapshot[field] + 1 if value is None else value

    def _last_error(self) -> str:
        return self._get("last_error")

    @property
    def state(self) -> str:
        return self._get("state")

    @state.setter
    def state(self, state: str) -> None:
        if self._get("state") != state:
            self._put(state=state, last_state_change=time.time())

    def record_failure(self, error: str) -> None:
        self._add("total_failures")
        self._put(last_failure_at=time.time(), last_error=error[:ERROR_CHARS])

    def reset(self) -> None:
        self._put(
            state=pybreaker.STATE_CLOSED,
            fail_counter=0,
            success_counter=0,
            opened_at=0.0,
            last_state_change=time.time(),
        )

    def known_names(self) -> list[str]:
        if self._outage:
            return [self.name]
        try:
            return sorted(name.decode() for name in self._redis.smembers(self._names_key))
        except redis.RedisError:
            self._lost()
            return [self.name]
