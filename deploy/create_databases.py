"""Create the streamify_<service> PostgreSQL databases if they do not exist (idempotent)."""

import psycopg2
from psycopg2 import sql

from common.env import postgres_server
from common.service_registry import SERVICES


def main() -> None:
    conn = psycopg2.connect(f"{postgres_server().rstrip('/')}/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        for service in SERVICES:
            name = f"streamify_{service}"
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                print(f"{name}: exists")
                continue
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"{name}: created")
    conn.close()


if __name__ == "__main__":
    main()
