"""A process-local least-recently-used map, bounded in entries and optionally in bytes.

Every in-memory cache of the platform (verified tokens, catalog pages, analytics answers, the
gateway's edge cache) is keyed by something a caller chooses (a token, a query string), so each
must stay bounded however many distinct keys arrive: the oldest entries go first.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    """Thread-safe. `weigh(value)` gives a value's bytes when `max_bytes` bounds the total."""

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int | None = None,
        weigh: Callable[[V], int] = lambda value: 0,
    ):
        self.max_entries, self.max_bytes, self.weigh = max_entries, max_bytes, weigh
        self.bytes = 0
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> bool:
        """Keep `value` under `key`; False (nothing kept) if it alone exceeds `max_bytes`."""
        size = self.weigh(value)
        if self.max_bytes is not None and size > self.max_bytes:
            return False
        with self._lock:
            self._drop(key)
            self._entries[key] = value
            self.bytes += size
            while len(self._entries) > self.max_entries or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                self._drop(next(iter(self._entries)))
        return True

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._drop(key)

    def drop_where(self, doomed: Callable[[V], bool]) -> int:
        """Drop every entry whose value is `doomed`; return how many."""
        with self._lock:
            keys = [key for key, value in self._entries.items() if doomed(value)]
            for key in keys:
                self._drop(key)
            return len(keys)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: Hashable) -> None:
        value = self._entries.pop(key, None)
        if value is not None:
            self.bytes -= self.weigh(value)
