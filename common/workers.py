"""One Celery app per service, configured the same way everywhere."""

import faulthandler
import logging
import os
import threading
import time
from importlib import import_module

from celery import Celery, bootsteps
from celery.platforms import EX_OK
from celery.signals import task_postrun, task_prerun
from celery.utils.nodenames import gethostname, nodename
from celery.worker import state as worker_state
from django.conf import settings
from kombu import Exchange, Queue

from common import task_signals  # noqa: F401 - connects the signals
from common.env import ENV, web_concurrency
from common.events.topology import events_queue, handled_types
from common.saga import commands_queue

logger = logging.getLogger(__name__)


def create_app(service: str) -> Celery:
    """The Celery app of `service`: its default queue, its event queue, and the outbox sweep."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", f"{service}_project.settings")
    app = Celery(service)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks(["common.events"], related_name="consumer")
    app.autodiscover_tasks()
    app.autodiscover_tasks(related_name="saga")
    commands = commands_queue(service)
    app.conf.task_routes = {f"{service}.saga.*": {"queue": commands}}
    app.conf.task_queues = [
        Queue(service, Exchange(service), routing_key=service),
        Queue(commands, Exchange(commands), routing_key=commands),
    ]
    if handled_types(service):
        app.conf.task_queues.append(events_queue(service))
    app.steps["worker"].add(OutboxSweepStep)
    return app


# Celery's Django fixup closes every database connection before and after each task unless
# DB_REUSE_MAX is set (see `celery_settings`): a new PostgreSQL connection per event cost more
# than applying the event. A task is treated as Django treats a request instead: connections
# live up to CONN_MAX_AGE, and one that broke is replaced at the next task.
@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(sender=None, **kwargs) -> None:
    # Not for a task applied in-process (`apply`): its caller's transaction is still open.
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


def service_app() -> Celery:
    """The Celery app of the service this process runs."""
    return import_module(f"{settings.SERVICE_NAME}_project.celery").app


def work_beside_web() -> threading.Thread:
    """Run this service's Celery worker in the web process too (`common.serving`).

    The worker is Celery's own (`WorkController`: the same bootsteps, queues, task events and
    periodic steps as `celery worker`), on a thread instead of a process of its own: on one
    machine that saves a Python process and its ~100 MB per service. `STREAMIFY_WORKER_THREADS`
    is its pool's size; it stops warm (unacknowledged tasks go back to the broker) when the
    web worker exits.
    """
    from common.serving import on_worker_exit

    service = settings.SERVICE_NAME
    several = web_concurrency() > 1
    worker = service_app().WorkController(
        hostname=nodename(f"{service}.{os.getpid()}" if several else service, gethostname()),
        pool_cls="threads",
        concurrency=ENV.int("STREAMIFY_WORKER_THREADS", default=4),
        task_events=True,
        without_gossip=True,
        without_mingle=True,
    )
    thread = threading.Thread(target=worker.start, name="celery-worker", daemon=True)
    thread.start()
    on_worker_exit(_stop_worker_thread, thread)
    return thread


def _stop_worker_thread(thread: threading.Thread, seconds: float = 15.0) -> None:
    # The worker must stop on its own thread, as `celery worker` does on a signal: its loop
    # sees `should_stop` and shuts down warm. Stopping it from here instead would race that
    # loop for the broker connection (a consumer cancel waiting forever for its answer). The
    # loop looks between 2 s polls, so a warm stop takes a few seconds (deploy.web's kill
    # timeout leaves room for it).
    # A process still here a little later is stuck: its threads' stacks go to the log before
    # the server's kill timeout ends it, so what held it up is on record.
    faulthandler.dump_traceback_later(seconds + 2, exit=False)
    started = time.monotonic()
    worker_state.should_stop = EX_OK
    thread.join(seconds)
    if thread.is_alive():
        logger.warning("celery worker still running %.0f s after it was told to stop", seconds)
    else:
        logger.info("celery worker stopped warm in %.1f s", time.monotonic() - started)


class PeriodicStep(bootsteps.StartStopStep):
    """Worker component running `job` every `interval_setting` seconds on the worker's timer.

    The platform has no beat process: periodic chores ride on each worker's own timer, stop
    with the worker, and are written so that several workers running them at once is safe.
    `job` is a dotted path to a function returning what it did: a count or a dict of counts,
    logged when not all zero.
    """

    requires = {"celery.worker.components:Timer"}
    job: str
    interval_setting: str

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        interval = getattr(settings, self.interval_setting)
        self.timer_ref = worker.timer.call_repeatedly(interval, run_job, (self.job,))

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()


def periodic_step(job: str, interval_setting: str) -> type[PeriodicStep]:
    name = job.rsplit(".", 1)[1]
    return type(
        f"Periodic_{name}", (PeriodicStep,), {"job": job, "interval_setting": interval_setting}
    )


def run_job(job: str) -> None:
    from django.db import close_old_connections

    module, name = job.rsplit(".", 1)
    close_old_connections()
    try:
        done = getattr(import_module(module), name)()
    except Exception:
        logger.exception("periodic %s failed", job)
        return
    if any(done.values()) if isinstance(done, dict) else done:
        logger.info("periodic %s: %s", job, done)


class OutboxSweepStep(PeriodicStep):
    """Declare the topology at start, then relay outbox leftovers periodically."""

    job = "common.events.relay.relay_outbox"
    interval_setting = "EVENTS_SWEEP_SECONDS"

    def start(self, worker):
        from common.events.topology import declare_topology

        try:
            with worker.app.connection_for_write() as connection:
                declare_topology(connection, settings.SERVICE_NAME)
        except Exception as exc:  # noqa: BLE001 - the consumer declares its queues on connect
            logger.warning("topology not declared at start (broker unreachable?): %r", exc)
        super().start(worker)
