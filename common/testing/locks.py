"""Holding a service's database from outside, so that its writer stops inside a transaction."""

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import psycopg2


@contextmanager
def writes_held(database: Path | str, *, table: str):
    """Hold `database` (a SQLite file, or a PostgreSQL URL) for the block: the whole SQLite
    file (`BEGIN IMMEDIATE`), or on PostgreSQL an exclusive lock on `table`."""
    if isinstance(database, Path):
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        holder = psycopg2.connect(database)
        with holder.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
