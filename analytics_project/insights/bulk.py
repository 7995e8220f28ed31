"""Multi-row writes without the ORM's per-value work: projectors write thousands of rows a second.

`rows_insert` sends one INSERT per thousand rows. A value goes through its field's
`get_db_prep_save` only where the database needs it converted (JSON; UUIDs and dates on SQLite);
numbers, text and booleans pass as they are, which is where `bulk_create` spent its time.
The SQL (`ON CONFLICT ... DO NOTHING / DO UPDATE`, `RETURNING`) is the same on PostgreSQL and
on SQLite 3.35+.
"""

from collections.abc import Iterable, Sequence

from django.db import connection

PLAIN = {
    "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "FloatField",
    "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "TextField",
}  # fmt: skip
# psycopg2 adapts these itself (Django registers the UUID adapter); SQLite needs them as text.
PLAIN_ON_POSTGRESQL = {"DateField", "DateTimeField", "UUIDField"}
CHUNK = 1000


def rows_insert(
    model,
    fields: Sequence[str],
    rows: Iterable[Sequence],
    *,
    conflict: Sequence[str] = (),
    update: bool = False,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert `rows` (values in `fields` order) into `model`'s table; return the `returning` rows.

    With `conflict` (the columns of a unique constraint), a row that collides is skipped, or
    with `update` overwrites the other columns of the row it collides with.
    """
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    plain = PLAIN | PLAIN_ON_POSTGRESQL if connection.vendor == "postgresql" else PLAIN
    convert = [None if f.get_internal_type() in plain else f for f in columns]
    sql = f"INSERT INTO {meta.db_table} ({', '.join(f.column for f in columns)}) VALUES {{}}"
    if conflict:
        targets = ", ".join(meta.get_field(name).column for name in conflict)
        if update:
            assignments = ", ".join(
                f"{f.column} = EXCLUDED.{f.column}" for f in columns if f.name not in conflict
            )
            sql += f" ON CONFLICT ({targets}) DO UPDATE SET {assignments}"
        else:
            sql += f" ON CONFLICT ({targets}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(meta.get_field(name).column for name in returning)}"
    placeholder = f"({', '.join(['%s'] * len(columns))})"
    rows = list(rows)
    result: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = [
                value if field is None else field.get_db_prep_save(value, connection)
                for row in chunk
                for value, field in zip(row, convert, strict=True)
            ]
            cursor.execute(sql.format(", ".join([placeholder] * len(chunk))), params)
            if returning:
                result.extend(cursor.fetchall())
    return result
