"""Waking a request that waits for its saga to finish, instead of polling the saga's row.

The transaction that finishes a saga sends a PostgreSQL notification carrying the saga's id
(`saga_finished_notify`); PostgreSQL delivers it only when that transaction commits, so a woken
waiter reads the finished row. Each web process keeps one connection listening on the channel,
in a daemon thread started by the first wait, which wakes whoever watches that saga.

A notification is a hint, the row is the truth: a watcher rereads the row every
RECHECK_SECONDS all the same (a notification sent while the listener reconnects is lost), every
watcher is woken once the listener (re)connects, and without PostgreSQL (the embedded SQLite
mode) or while the listener is down, watchers poll the row as before.
"""

import logging
import os
import select
import threading
import time
from contextlib import contextmanager, suppress

from django.db import DEFAULT_DB_ALIAS, connection, connections

logger = logging.getLogger(__name__)

CHANNEL = "registration_saga_finished"
RECHECK_SECONDS = 1.0
RECONNECT_SECONDS = 1.0
IDLE_CHECK_SECONDS = 30.0


def saga_finished_notify(*, saga_id) -> None:
    """Tell the listening web processes that saga `saga_id` finished, once the current
    transaction commits (nothing is sent if it rolls back). A no-op without PostgreSQL."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(saga_id)])


class Listener:
    """One LISTEN connection (its own, outside Django's per-thread ones) waking the watchers
    registered per saga id."""

    def __init__(self, alias: str = DEFAULT_DB_ALIAS):
        self.alias = alias
        self.listening = threading.Event()
        self._lock = threading.Lock()
        self._watchers: dict[str, set[threading.Event]] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wakeup_read, self._wakeup_write = os.pipe()

    def start(self) -> "Listener":
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="saga-finished-listener", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and end the thread (the process's own listener never stops)."""
        self._stopping.set()
        os.write(self._wakeup_write, b"x")
        if self._thread is not None:
            self._thread.join(timeout)
        os.close(self._wakeup_read)
        os.close(self._wakeup_write)

    @contextmanager
    def watch(self, saga_id):
        """Yield an event set when saga `saga_id` may have finished; stop watching on exit."""
        key, event = str(saga_id), threading.Event()
        with self._lock:
            self._watchers.setdefault(key, set()).add(event)
        try:
            yield event
        finally:
            with self._lock:
                events = self._watchers.get(key, set())
                events.discard(event)
                if not events:
                    self._watchers.pop(key, None)

    def _wake(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                events = [event for events in self._watchers.values() for event in events]
            else:
                events = list(self._watchers.get(key, ()))
        for event in events:
            event.set()

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            wrapper = connections.create_connection(self.alias)
            try:
                wrapper.ensure_connection()
                failures = 0
                self._listen(wrapper.connection)
            except Exception:
                # Once per outage: a database that stays down would log every second.
                if not failures:
                    logger.warning("saga listener disconnected; waiters poll", exc_info=True)
                failures += 1
            finally:
                self.listening.clear()
                with suppress(Exception):  # the connection is broken already
                    wrapper.close()
            if not self._stopping.is_set():
                time.sleep(RECONNECT_SECONDS)

    def _listen(self, raw) -> None:
        with raw.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        self.listening.set()
        # A saga that finished before the LISTEN took effect notified nobody: every current
        # watcher rereads its row once.
        self._wake()
        while not self._stopping.is_set():
            readable, _, _ = select.select([raw, self._wakeup_read], [], [], IDLE_CHECK_SECONDS)
            if not readable:
                with raw.cursor() as cursor:
                    cursor.execute("SELECT 1")  # raises on a connection that died silently
            raw.poll()
            while raw.notifies:
                self._wake(raw.notifies.pop(0).payload)


class _Watch:
    def __init__(self, listener: Listener | None, event: threading.Event):
        self.listener, self.event = listener, event

    def wait(self, *, seconds_left: float, poll: float) -> None:
        """Sleep until woken, `seconds_left` is over, or it is time to reread the row anyway."""
        listening = self.listener is not None and self.listener.listening.is_set()
        self.event.wait(min(seconds_left, RECHECK_SECONDS if listening else poll))
        self.event.clear()


@contextmanager
def saga_watch(*, saga_id):
    """Yield a watch whose `wait` returns early when saga `saga_id` finishes."""
    listener = process_listener()
    if listener is None:
        yield _Watch(None, threading.Event())
        return
    with listener.watch(saga_id) as event:
        yield _Watch(listener, event)


_listener: Listener | None = None
_listener_lock = threading.Lock()


def process_listener() -> Listener | None:
    """This process's listener, started on first use; None without PostgreSQL."""
    global _listener
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return None
    with _listener_lock:
        if _listener is None:
            _listener = Listener().start()
    return _listener
