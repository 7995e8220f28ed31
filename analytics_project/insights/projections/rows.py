"""The rows projectors hold and write: column values from payload fields, tables of rows kept
in memory, and inserts that settle which rows are new.

Payload fields the projectors read are those `insights.event_specs` checked; the free-form ones
(titles, names, e-mails, session ids, prices, durations) count only when they have the right
JSON type, the same rule in both implementations (`text`, `integer` and `number` here, their
SQL in `insights.sql_statements`).
"""

import math
from types import SimpleNamespace

from insights.bulk import rows_insert

INT64 = 2**63


def text(value, limit: int) -> str | None:
    """`value` cut to `limit` characters if it is a non-empty string; None means "no value"."""
    return value[:limit] if isinstance(value, str) and value else None


def integer(value) -> int | None:
    """`value` if it is a JSON integer that fits a bigint column."""
    if isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64:
        return value
    return None


def number(value) -> float | None:
    """`value` as a float if it is a finite JSON number."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class Table:
    """A read model table whose rows the projectors hold as plain attribute bags.

    Model instances cost more to build than the rest of a projector's work; a row here is a
    namespace of the model's columns, new ones starting from the fields' defaults.
    """

    def __init__(self, model, unique: list[str]):
        self.model, self.unique = model, unique
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.fields = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}

    def new(self, **values) -> SimpleNamespace:
        return SimpleNamespace(**{**self.defaults, **values})

    def load(self, **filters) -> list[SimpleNamespace]:
        rows = self.model.objects.filter(**filters).values(*self.fields)
        return [SimpleNamespace(**row) for row in rows]

    def write(self, rows) -> None:
        """Insert the rows, or overwrite the ones that exist (by the unique columns)."""
        values = [tuple(getattr(row, name) for name in self.fields) for row in rows]
        rows_insert(self.model, self.fields, values, conflict=self.unique, update=True)


def insert_new(model, columns: tuple[str, str], generation: int, pairs: list[tuple]) -> list:
    """Insert the (generation, *pair) rows not there yet; return the pairs that were new.

    The unique constraint decides, so nothing has to be loaded to know whether a viewer is
    new, and two projectors can never both count one.
    """
    return rows_insert(
        model,
        ("generation", *columns),
        [(generation, *pair) for pair in pairs],
        conflict=("generation", *columns),
        returning=columns,
    )
