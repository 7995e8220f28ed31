"""The worker's projector thread: applies what the event consumer appends, as soon as it commits.

The consumer (`common.events.batch`) only appends; waking this thread after each commit lets it
take and append the next batch while this one is projected. Across worker processes the
projectors take turns on the head row lock (`services.projections_catch_up`). Waking up every
few seconds on its own also catches up after a crash between an append and its projection.

Catch-ups are at least MIN_INTERVAL_SECONDS apart. Under a steady stream (registrations, views)
the consumer commits a batch of one or two events at a time; each catch-up costs a transaction on
the head row, checkpoint updates and a `projections.advanced` event that the gateway acts on, so
one per batch made the projector most of the analytics service's CPU. A lone event is projected
at once; a stream is projected at most ten times a second, in bigger batches.
"""

import logging
import threading
import time

from celery import bootsteps

logger = logging.getLogger(__name__)

IDLE_SECONDS = 5.0
MIN_INTERVAL_SECONDS = 0.1


class ProjectorThread:
    def __init__(self):
        self.wanted = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="projector", daemon=True)

    def run(self) -> None:
        # Imported here: the Celery app module imports this one before Django's apps are ready.
        from django.db import close_old_connections, connection

        from insights import services

        last = 0.0
        while not self.stopping.is_set():
            self.wanted.wait(IDLE_SECONDS)
            self.stopping.wait(MIN_INTERVAL_SECONDS - (time.monotonic() - last))
            self.wanted.clear()
            last = time.monotonic()
            close_old_connections()
            try:
                services.projections_catch_up()
            except Exception:
                logger.exception("projector failed; trying again")
                self.stopping.wait(1.0)
        connection.close()

    def stop(self, timeout: float = 30) -> None:
        self.stopping.set()
        self.wanted.set()
        self.thread.join(timeout)


_running: ProjectorThread | None = None


def projector_wake() -> bool:
    """Ask this process's projector thread to catch up; False if the process runs none."""
    if _running is None:
        return False
    _running.wanted.set()
    return True


class ProjectorStep(bootsteps.StartStopStep):
    """Worker component running the projector thread."""

    def start(self, worker):
        global _running
        _running = ProjectorThread()
        _running.thread.start()

    def stop(self, worker):
        global _running
        if _running is not None:
            _running.stop()
            _running = None

    terminate = stop
