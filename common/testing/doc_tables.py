"""Tables in the docs that the tests compute: the lines between `<!-- name ... -->` and
`<!-- /name -->` in a markdown page, read for comparison or written back
(`STREAMIFY_DOCS_REWRITE=1`)."""

import os
from pathlib import Path


def _split(page: Path, name: str) -> tuple[str, str, str]:
    """The text before the table, the opening marker's line, the table and the text after."""
    before, rest = page.read_text().split(f"<!-- {name}", 1)
    marker, rest = rest.split("\n", 1)
    table, after = rest.split(f"<!-- /{name} -->", 1)
    return before + f"<!-- {name}" + marker + "\n", table, f"<!-- /{name} -->" + after


def table_rows(page: Path, name: str) -> list[str]:
    """The markdown table rows (lines starting with `|`) between the markers."""
    return [line for line in _split(page, name)[1].splitlines() if line.startswith("|")]


def table_rewrite(page: Path, name: str, rows: list[str]) -> None:
    """Put `rows` between the markers, keeping the rest of the page as it is."""
    head, _, tail = _split(page, name)
    page.write_text(head + "".join(f"{row}\n" for row in rows) + tail)


def table_shown(page: Path, name: str, rows: list[str]) -> list[str]:
    """The rows the page shows, for a test to compare with `rows` it computed;
    STREAMIFY_DOCS_REWRITE=1 writes `rows` into the page first."""
    if os.environ.get("STREAMIFY_DOCS_REWRITE"):
        table_rewrite(page, name, rows)
    return table_rows(page, name)
