"""SQL twins of `projections.rows`' readers, for the set-based projection's statements: the
same value out of an event's JSON payload, or NULL where the Python reader gives None."""


def text(key: str, limit: int) -> str:
    """SQL for `projections.rows.text`: a non-empty JSON string, cut to `limit`, else NULL."""
    value = f"(e.payload->>'{key}')"
    return (
        f"CASE WHEN jsonb_typeof(e.payload->'{key}') = 'string' AND {value} <> '' "
        f"THEN left({value}, {limit}) END"
    )


def integer(key: str) -> str:
    """SQL for `projections.rows.integer` (nested CASEs: SQL does not promise AND's order)."""
    value = f"(e.payload->>'{key}')"
    return (
        f"CASE WHEN jsonb_typeof(e.payload->'{key}') = 'number' THEN "
        f"CASE WHEN {value} ~ '^-?[0-9]+$' THEN "
        f"CASE WHEN {value}::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 "
        f"THEN {value}::bigint END END END"
    )


def number(key: str) -> str:
    """SQL for `projections.rows.number`."""
    value = f"(e.payload->>'{key}')"
    return (
        f"CASE WHEN jsonb_typeof(e.payload->'{key}') = 'number' THEN "
        f"CASE WHEN abs({value}::numeric) < 1e308 THEN {value}::float8 END END"
    )


def last(expression: str, where: str) -> str:
    """The value of `expression` at the last event (by position) matching `where`, or NULL."""
    return f"(array_agg({expression} ORDER BY position DESC) FILTER (WHERE {where}))[1]"
