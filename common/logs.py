"""Log lines: readable under `make run`, one JSON object per line with STREAMIFY_LOG_FORMAT=json.

Every line names its service and process, and, when it is written while serving a request or
running a task, that request's id (`X-Request-ID`), its trace and its signed-in user. It never
holds a token, a password or a hash: request lines name the path without its query, a signed
media URL's signature is cut out of every line (`redacted`), and the user appears by id.

With `STREAMIFY_ACCESS_LOG` (default: on with JSON, off otherwise) each request and each Celery
task also gets one line of its own: route, status or state, and duration. Celery's own
"received"/"succeeded" lines are then left out, so a task is one line, not three.
"""

import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

from common.env import flag, json_logs, log_level, process_name

_user_id: ContextVar[int | None] = ContextVar("streamify_user_id", default=None)
_task_request_id: ContextVar[str | None] = ContextVar("streamify_task_request_id", default=None)

# A signed media URL's `<expiry>.<signature>` path segment (playback's `token`): a capability
# to the media, so it never reaches a log line, the platform's or Django's own.
SIGNED_SEGMENT = re.compile(r"/\d{9,12}\.[A-Za-z0-9_-]{16,}(?=/|$)")

requests_log = logging.getLogger("streamify.requests")
tasks_log = logging.getLogger("streamify.tasks")


def access_lines() -> bool:
    return flag("STREAMIFY_ACCESS_LOG", json_logs())


def set_user(user_id) -> None:
    """Name the signed-in user of the request being served (authentication sets it,
    `RequestIDMiddleware` clears it when the request ends)."""
    _user_id.set(user_id)


def set_task_request_id(request_id: str | None):
    """Name the request that sent the task being run; returns the token to reset it with."""
    return _task_request_id.set(request_id)


def reset_task_request_id(token) -> None:
    _task_request_id.reset(token)


def redacted(path: str) -> str:
    return SIGNED_SEGMENT.sub("/<signed>", path)


def current_ids() -> dict:
    """The request id, trace and span ids and user id of what this thread is serving now."""
    from common.tracing import current_trace_ids
    from common.upstreams import _request_id

    trace_id, span_id = current_trace_ids()
    return {
        "request_id": _request_id.get() or _task_request_id.get(),
        "trace_id": trace_id,
        "span_id": span_id,
        "user_id": _user_id.get(),
    }


class ContextFilter(logging.Filter):
    """Stamp every record with the service, the process and `current_ids()`."""

    def __init__(self):
        super().__init__()
        self.process_name = process_name()

    def filter(self, record: logging.LogRecord) -> bool:
        from django.conf import settings

        # A line may be written before settings are (a start-up failure): it still goes out.
        record.service = getattr(settings, "SERVICE_NAME", "") if settings.configured else ""
        record.process_name = self.process_name
        for key, value in current_ids().items():
            setattr(record, key, value)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redacted(a) if isinstance(a, str) else a for a in record.args)
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per record; a line's own figures (`extra={"fields": {...}}`) beside."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(record, "service", ""),
            "process": getattr(record, "process_name", ""),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "trace_id", "span_id", "user_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config() -> dict:
    level = log_level()
    # Under `make run` every process writes to one terminal: each line names its process.
    process = process_name()
    label = f"[{process}] " if process else ""
    formatters = {
        "plain": {"format": f"%(asctime)s %(levelname)s {label}%(name)s %(message)s"},
        "json": {"()": "common.logs.JSONFormatter"},
    }
    levels = {}
    if access_lines():
        # Asked for by their own switch, whatever STREAMIFY_LOG_LEVEL says; our task line
        # replaces Celery's "received" and "succeeded" lines.
        levels = {logger.name: {"level": "INFO"} for logger in (requests_log, tasks_log)}
        levels |= {n: {"level": "WARNING"} for n in ("celery.app.trace", "celery.worker.strategy")}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "common.logs.ContextFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json_logs() else "plain",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}, **levels},
    }


def request_line(request, *, route: str, status: int, seconds: float) -> None:
    path = redacted(request.path)
    duration_ms = round(seconds * 1000, 1)
    fields = {
        "method": request.method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": duration_ms,
    }
    requests_log.info(
        "%s %s %s %.1f ms", request.method, path, status, duration_ms, extra={"fields": fields}
    )


def task_line(*, task: str, task_id: str, state: str, seconds: float | None) -> None:
    if not access_lines():
        return
    duration_ms = round(seconds * 1000, 1) if seconds is not None else None
    fields = {"task": task, "task_id": task_id, "state": state, "duration_ms": duration_ms}
    tasks_log.info("%s %s %s ms", task, state, duration_ms, extra={"fields": fields})
