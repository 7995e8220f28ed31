"""Throw-away PostgreSQL databases for booted processes (project suites use pytest-django's)."""

import uuid
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql

from common.testing import backends


def _admin_connection():
    conn = psycopg2.connect(f"{backends.postgres_url()}/postgres")
    conn.autocommit = True
    return conn


@contextmanager
def temporary_databases(services: list[str], prefix: str = "streamify_xt"):
    """Yield {service: database URL} for fresh, uniquely named databases; drop them afterwards."""
    tag = uuid.uuid4().hex[:8]
    names = {service: f"{prefix}_{tag}_{service}" for service in services}
    conn = _admin_connection()
    try:
        with conn.cursor() as cursor:
            for name in names.values():
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield {s: f"{backends.postgres_url()}/{name}" for s, name in names.items()}
    finally:
        with conn.cursor() as cursor:
            for name in names.values():
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        conn.close()
