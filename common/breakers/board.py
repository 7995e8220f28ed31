"""Breaker state shared by every process of one service on one host, in shared memory.

The board is a small file (`var/breakers/<service>.board`) mapped into each process with mmap:
web server workers, the Celery worker and any command of one service see the same record per
breaker, so an upstream that one worker found dead is refused by all of them at once.

Reading the state is a memory read, so a call through a closed breaker costs no system call,
no file or network I/O. Writes (a failure, a state change, a refused call, a reset) take an
exclusive lock on the file (fcntl) plus a thread lock, because several processes update the
same counters; they happen only when something goes wrong, never on the happy path.

Across hosts each host decides on its own, as per-instance breakers do (Hystrix, resilience4j):
every replica learns an upstream is down from its own failures.
"""

import fcntl
import mmap
import os
import struct
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pybreaker

from common.breakers.fields import FieldStorage

SLOTS = 64
NAME_BYTES = 64
ERROR_BYTES = 256
# One record per breaker; the state byte is padded so the numbers after it stay 8-byte aligned.
LAYOUT = (
    ("name", f"{NAME_BYTES}s"),
    ("state", "B7x"),
    ("fail_counter", "q"),
    ("success_counter", "q"),
    ("opened_at", "d"),
    ("last_state_change", "d"),
    ("total_failures", "q"),
    ("rejected", "q"),
    ("last_failure_at", "d"),
    ("last_error", f"{ERROR_BYTES}s"),
)
FIELDS: dict[str, tuple[int, struct.Struct]] = {}
for _field, _format in LAYOUT:
    FIELDS[_field] = (sum(s.size for _, s in FIELDS.values()), struct.Struct(f"<{_format}"))
RECORD_SIZE = sum(layout.size for _, layout in FIELDS.values())
STATES = (pybreaker.STATE_CLOSED, pybreaker.STATE_OPEN, pybreaker.STATE_HALF_OPEN)
CODES = {state: code for code, state in enumerate(STATES)}


class BoardFull(RuntimeError):
    pass


class Board:
    """The mapped file: one fixed-size record per breaker name."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        size = SLOTS * RECORD_SIZE
        if os.fstat(self._fd).st_size < size:
            os.ftruncate(self._fd, size)  # zero-filled: every slot empty
        self._map = mmap.mmap(self._fd, size)
        self._thread_lock = threading.Lock()
        self._slots: dict[str, int] = {}

    @contextmanager
    def locked(self):
        with self._thread_lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def slot(self, name: str) -> int:
        """The record of breaker `name`, claimed (CLOSED, zero counters) the first time."""
        found = self._slots.get(name)
        if found is not None:
            return found
        encoded = name.encode()[:NAME_BYTES]
        with self.locked():
            free = None
            for index in range(SLOTS):
                stored = self.read(index, "name").rstrip(b"\0")
                if stored == encoded:
                    self._slots[name] = index
                    return index
                if not stored and free is None:
                    free = index
            if free is None:
                raise BoardFull(f"more than {SLOTS} breakers on one board")
            # Slots are never given back, so a free one is still all zeros (CLOSED, no counts).
            self.write(free, "name", encoded)
            self.write(free, "last_state_change", time.time())
            self._slots[name] = free
            return free

    def names(self) -> list[str]:
        found = []
        for index in range(SLOTS):
            stored = self.read(index, "name").rstrip(b"\0")
            if stored:
                found.append(stored.decode())
        return sorted(found)

    def read(self, index: int, field: str):
        offset, layout = FIELDS[field]
        return layout.unpack_from(self._map, index * RECORD_SIZE + offset)[0]

    def write(self, index: int, field: str, value) -> None:
        """Set one field; callers hold `locked()` when the new value depends on the old."""
        offset, layout = FIELDS[field]
        layout.pack_into(self._map, index * RECORD_SIZE + offset, value)


_boards: dict[Path, Board] = {}
_boards_lock = threading.Lock()


def board_at(path: Path) -> Board:
    with _boards_lock:
        if path not in _boards:
            _boards[path] = Board(path)
        return _boards[path]


class BoardStorage(FieldStorage):
    """pybreaker storage on one record of a `Board`."""

    def __init__(self, name: str, board: Board) -> None:
        super().__init__(name)
        self._board = board
        self._slot = board.slot(name)

    def _get(self, field: str):
        return self._board.read(self._slot, field)

    def _put(self, **values) -> None:
        with self._board.locked():
            for field, value in values.items():
                self._board.write(self._slot, field, value)

    def _add(self, field: str) -> None:
        with self._board.locked():
            self._board.write(self._slot, field, self._get(field) + 1)

    def _last_error(self) -> str:
        return self._get("last_error").rstrip(b"\0").decode(errors="replace")

    @property
    def state(self) -> str:
        return STATES[self._get("state")]

    @state.setter
    def state(self, state: str) -> None:
        with self._board.locked():
            if self._get("state") != CODES[state]:
                self._board.write(self._slot, "state", CODES[state])
                self._board.write(self._slot, "last_state_change", time.time())

    def record_failure(self, error: str) -> None:
        with self._board.locked():
            self._board.write(self._slot, "total_failures", self._get("total_failures") + 1)
            self._board.write(self._slot, "last_failure_at", time.time())
            self._board.write(self._slot, "last_error", error.encode()[:ERROR_BYTES])

    def reset(self) -> None:
        self._put(
            state=CODES[pybreaker.STATE_CLOSED],
            fail_counter=0,
            success_counter=0,
            opened_at=0.0,
            last_state_change=time.time(),
        )

    def known_names(self) -> list[str]:
        return self._board.names()
