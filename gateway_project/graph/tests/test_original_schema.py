"""The original system's GraphQL schema is part of Streamify's: every type, field and argument
it had is here with its name, type, nullability and default, but for the differences listed in
`DIFFERENCES` (and docs/compat.md, whose table is the one computed here)."""

from graphql import GraphQLObjectType, build_schema

from common.paths import REPO_ROOT
from common.testing.doc_tables import table_rows
from graph.schema import schema

ORIGINAL = build_schema((REPO_ROOT / "tests/compat/original/schema.graphql").read_text())
STREAMIFY = schema.graphql_schema
COMPAT = REPO_ROOT / "docs" / "compat.md"

# (type, field, argument) whose type differs on purpose -> why, as docs/compat.md says it.
DIFFERENCES = {
    ("Mutation", "endStream", "sessionId"): "`ID!` takes the session's number, as the "
    "original's `Int!` did, or its UUID",
}


def _object_types(schema) -> dict[str, GraphQLObjectType]:
    return {
        name: kind
        for name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLObjectType) and not name.startswith("__")
    }


def _differences() -> list[tuple]:
    """(type, field, argument or None, original type, Streamify's type or None) that differ."""
    found = []
    ours = _object_types(STREAMIFY)
    for type_name, kind in _object_types(ORIGINAL).items():
        mine = ours.get(type_name)
        for field_name, field in kind.fields.items():
            now = mine.fields.get(field_name) if mine else None
            if now is None or str(now.type) != str(field.type):
                found.append((type_name, field_name, None, str(field.type), now and str(now.type)))
                continue
            for arg_name, arg in field.args.items():
                now_arg = now.args.get(arg_name)
                same = now_arg is not None and (
                    str(now_arg.type),
                    now_arg.default_value,
                ) == (str(arg.type), arg.default_value)
                if not same:
                    found.append(
                        (
                            type_name,
                            field_name,
                            arg_name,
                            str(arg.type),
                            now_arg and str(now_arg.type),
                        )
                    )
    return found


def side_by_side() -> list[str]:
    """One row per original type: the fields both have alike, those that differ, and the fields
    and arguments Streamify adds."""
    rows = []
    ours = _object_types(STREAMIFY)
    differ = {(t, f, a): now for t, f, a, _, now in _differences()}
    for type_name, kind in _object_types(ORIGINAL).items():
        kept, changed = [], []
        for field_name, field in kind.fields.items():
            args = ", ".join(f"{a}: {arg.type}" for a, arg in field.args.items())
            shown = f"`{field_name}{f'({args})' if args else ''}: {field.type}`"
            changes = [
                (a, now) for (t, f, a), now in differ.items() if (t, f) == (type_name, field_name)
            ]
            if changes:
                changed.append(
                    shown + " → " + "; ".join(f"`{a or field_name}: {now}`" for a, now in changes)
                )
            else:
                kept.append(shown)
        mine = ours[type_name].fields
        added = [f"`{name}`" for name in sorted(set(mine) - set(kind.fields))] + [
            f"`{name}({arg})`"
            for name, field in kind.fields.items()
            for arg in sorted(set(mine[name].args) - set(field.args))
        ]
        rows.append(
            f"| `{type_name}` | {', '.join(kept)} | {'; '.join(changed) or '–'} | "
            f"{', '.join(added) or '–'} |"
        )
    return rows


def test_every_original_type_field_and_argument_is_kept():
    expected = {(t, f, a) for t, f, a in DIFFERENCES}
    found = {(t, f, a): (was, now) for t, f, a, was, now in _differences()}
    assert set(found) == expected, found
    assert found[("Mutation", "endStream", "sessionId")] == ("Int!", "ID!")


def test_the_compat_page_shows_the_schema_table_computed_here():
    shown = [row for row in table_rows(COMPAT, "graphql-table") if row.startswith("| `")]
    assert shown == side_by_side(), (
        "regenerate with graph.tests.test_original_schema.side_by_side()"
    )
