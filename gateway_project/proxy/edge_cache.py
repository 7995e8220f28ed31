"""Shared reads answered from the gateway's memory until an event says they changed.

An upstream marks an answer the gateway may keep by tagging it (`Surrogate-Key: catalog`, the
convention of HTTP caches that purge by tag): anonymous GETs, and signed-in GETs whose answer
is the same for every caller (`proxy.services._edge_key`). Each gateway process listens on the
event bus itself, on a private queue bound to the event types that change tagged answers
(`EDGE_PURGES` in `gateway_project/event_handlers.py`): the moment such an event arrives,
every answer with that tag is dropped, so a deleted or edited video is never served once its
event has reached the gateway, nor an analytics figure once the projections that computed it
have moved on.

While the process is not listening (starting, broker down, connection lost) nothing is served
from memory and nothing is kept: the gateway is then a plain proxy again. Every (re)connection
starts from an empty cache, since events may have gone by unheard. An answer fetched while a
purge happened is not kept (a generation number tells).
"""

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from gateway_project.event_handlers import EDGE_PURGES
from kombu import Queue, binding

from common.events.topology import EVENTS_EXCHANGE, topic_matches
from common.lru import LRU

logger = logging.getLogger(__name__)

MAX_ENTRIES = 1024
MAX_BODY_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024
RECONNECT_SECONDS = 2.0
HEARTBEAT_SECONDS = 10
TAG_HEADER = "Surrogate-Key"
SURROGATE_HEADERS = frozenset({"surrogate-key", "surrogate-control"})


@dataclass(frozen=True)
class Entry:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    tags: frozenset[str]

    @property
    def etag(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "etag"), None)


class EdgeCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_TOTAL_BYTES):
        # Bounded in entries and bytes: junk query strings cannot grow it past either.
        self._entries: LRU[Entry] = LRU(
            max_entries=max_entries, max_bytes=max_bytes, weigh=lambda entry: len(entry.body)
        )
        self._lock = threading.Lock()  # a put and a purge never interleave
        self.generation = 0
        self.live = threading.Event()

    def get(self, key: str) -> Entry | None:
        return self._entries.get(key) if self.live.is_set() else None

    def put(self, key: str, entry: Entry, *, generation: int) -> bool:
        """Keep `entry` unless a purge happened since `generation` was read, or not live."""
        with self._lock:
            if generation != self.generation or not self.live.is_set():
                return False
            return self._entries.put(key, entry)

    def purge(self, tags: set[str] | None = None) -> int:
        """Drop the entries carrying any of `tags` (all of them when None)."""
        with self._lock:
            self.generation += 1
            return self._entries.drop_where(lambda entry: tags is None or bool(entry.tags & tags))


cache = EdgeCache()
_listener: threading.Thread | None = None
_listener_lock = threading.Lock()


def tags_of(headers) -> frozenset[str]:
    return frozenset(headers.get(TAG_HEADER, "").split())


def purged_tags(event_type: str) -> set[str]:
    """The tags an event of `event_type` makes stale (topic patterns as the broker matches)."""
    found = set()
    for pattern, tags in EDGE_PURGES.items():
        if topic_matches(pattern, event_type):
            found.update(tags)
    return found


def ensure_listening() -> None:
    """Start this process's listener once (web processes only: it is called by the proxy)."""
    global _listener
    if _listener is not None and _listener.is_alive():
        return
    with _listener_lock:
        if _listener is None or not _listener.is_alive():
            _listener = threading.Thread(target=_listen, name="edge-cache-purges", daemon=True)
            _listener.start()


def _listen() -> None:
    from common.workers import service_app

    name = f"gateway.edge.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    queue = Queue(
        name,
        bindings=[binding(EVENTS_EXCHANGE, routing_key=p) for p in EDGE_PURGES],
        exclusive=True,
        auto_delete=True,
        durable=False,
    )
    while True:
        try:
            # Heartbeats, so a connection that died without a word is noticed and caching stops.
            with service_app().connection_for_read(heartbeat=HEARTBEAT_SECONDS) as connection:
                _consume(connection, queue)
        except Exception as exc:  # noqa: BLE001 - any failure: stop caching, reconnect later
            logger.warning("edge cache not listening (%r); proxying without it", exc)
        finally:
            cache.live.clear()
            cache.purge()
        time.sleep(RECONNECT_SECONDS)


def _consume(connection, queue: Queue) -> None:
    """Serve from memory while this connection delivers purges; return or raise when it ends."""
    with connection.Consumer(queue, on_message=_on_event, no_ack=True):
        cache.purge()
        cache.live.set()
        logger.info("edge cache listening for %s", list(EDGE_PURGES))
        while True:
            try:
                connection.drain_events(timeout=1.0)
            except TimeoutError:
                connection.heartbeat_check()


def _on_event(message) -> None:
    event_type = message.delivery_info.get("routing_key", "")
    tags = purged_tags(event_type)
    if tags:
        dropped = cache.purge(tags)
        logger.debug("%s: dropped %d cached answers tagged %s", event_type, dropped, tags)
