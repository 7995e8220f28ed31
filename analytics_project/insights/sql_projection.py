"""The projectors as SQL over a range of the store: how PostgreSQL projects and replays.

`range_project` applies the events of positions (after, upto] to one generation in a handful of
set-based statements, so the work runs in the database, not one event at a time in Python. The
live projector calls it for each batch; a replay calls it once, over the whole store, into an
empty generation. It is the twin of the Python projectors in `insights.projections` (used on
SQLite), and the property test holds the two to the same answer.

One scan pulls the fields every read model needs from the range into a temporary table. Each
read model is then one statement that merges the range with the rows the generation already
has: sums add up; an order-dependent field (a title, a status, "the last login") takes the
value of the last event in the range that sets it, else keeps the old one; a count of distinct
things (viewers) grows by the pairs its unique constraint accepted as new.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import connection, transaction

from insights.sql_statements import (
    ANALYZE_FROM_ROWS,
    EXTRACT,
    TABLES,
    USERS,
    VIDEOS,
    WRITE,
    statement_params,
)


def _statements(*, tables: str, kind: str, empty: bool) -> list[str]:
    """Every statement of a range, in order, over the work tables named `tables*`."""
    conflicts = "" if empty else "ON CONFLICT DO NOTHING"
    sql = [TABLES.replace("{kind}", kind), EXTRACT, USERS, VIDEOS]
    sql += WRITE.replace("{new_pairs_only}", conflicts).split(";\n\n")
    return [statement.replace("insights_range", tables) for statement in sql]


def range_project(
    *,
    generation: int,
    after: int,
    upto: int,
    from_time: datetime | None = None,
    read_models_after: int | None = None,
    daily_after: int | None = None,
) -> int:
    """Apply the stored events at positions (after, upto] to `generation`; return how many.

    Runs in the caller's transaction. With `from_time`, only events that occurred at or after
    it count. `read_models_after` / `daily_after` (default `after`) skip the events one of the
    two projections has applied already. Returns the number of events counted.
    """
    params = statement_params(
        g=generation,
        after=after,
        upto=upto,
        from_time=from_time,
        read_models_after=after if read_models_after is None else read_models_after,
        daily_after=after if daily_after is None else daily_after,
    )
    tables, extract, users, videos, *writes = _statements(
        tables="insights_range", kind="TEMP", empty=False
    )
    with connection.cursor() as cursor:
        cursor.execute(tables)
        cursor.execute(extract, params)
        counted = cursor.rowcount
        if counted == 0:
            return 0
        if counted >= ANALYZE_FROM_ROWS:
            # Sorts and hashes over this many rows: in memory, and planned with statistics.
            cursor.execute("SET LOCAL work_mem = '256MB'; ANALYZE insights_range")
        for statement in (users, videos, *writes):
            cursor.execute(statement, params)
    return counted


def _run(statements: list[str], params: dict) -> None:
    """Run `statements` in one transaction of this thread's own connection, then close it."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            for statement in statements:
                cursor.execute(statement, params)
    finally:
        connection.close()


def generation_build(*, generation: int, upto: int, from_time: datetime | None) -> int:
    """Fill the empty `generation` from the events up to position `upto`; return how many.

    A replay's build: `range_project`'s statements over the whole store, with plain INSERTs
    (no pair can exist yet in an empty generation). Outside a transaction the work tables are
    UNLOGGED tables of this generation, and the writes to different read models run side by
    side on their own connections; inside one (tests), everything runs in it, in order.
    """
    params = statement_params(
        g=generation, after=0, upto=upto, from_time=from_time, read_models_after=0, daily_after=0
    )
    if connection.in_atomic_block:
        statements = _statements(tables="insights_range", kind="TEMP", empty=True)
        with connection.cursor() as cursor:
            cursor.execute(statements[0])
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(statements[1], params)
            counted = cursor.rowcount
            cursor.execute("ANALYZE insights_range")
            for statement in statements[2:]:
                cursor.execute(statement, params)
        return counted
    tables = f"insights_replay_{generation}"
    ddl, extract, users, videos, *writes = _statements(tables=tables, kind="UNLOGGED", empty=True)
    videos_stats, users_stats, forget, views, platform, daily = writes
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ddl)
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(extract, params)
            counted = cursor.rowcount
            cursor.execute(f"ANALYZE {tables}")
            cursor.execute(users, params)
            cursor.execute(videos, params)
        # Committed: every connection sees the work tables. The biggest writes go side by side.
        groups = [[forget, views], [videos_stats, users_stats, platform], [daily]]
        with ThreadPoolExecutor(len(groups)) as pool:
            for done in [pool.submit(_run, group, params) for group in groups]:
                done.result()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {tables}, {tables}_users, {tables}_videos")
    return counted
