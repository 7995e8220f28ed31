"""Each query's latency, timed by an execute wrapper that every new connection gets."""

import time

from django.db.backends.signals import connection_created

from common.metrics.instruments import DB_QUERY_DURATION


def _timed(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        DB_QUERY_DURATION.labels(context["connection"].alias).observe(time.perf_counter() - started)


def _instrument(sender, connection, **kwargs) -> None:
    # The signal fires for every new DB-API connection of a wrapper that lives on.
    if _timed not in connection.execute_wrappers:
        connection.execute_wrappers.append(_timed)


def instrument_queries() -> None:
    connection_created.connect(_instrument, dispatch_uid="streamify-query-metrics")
