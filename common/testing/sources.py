"""The production code of the checkout: every module but tests, test support, benches and
migrations, for the checks that read the code itself."""

from collections.abc import Iterator
from pathlib import Path

from common.paths import REPO_ROOT

NOT_PRODUCTION = {".venv", "tests", "testing", "bench", "migrations", "build", "var", ".ci"}


def production_modules(below: Path = REPO_ROOT) -> Iterator[Path]:
    for path in sorted(below.rglob("*.py")):
        if not set(path.relative_to(REPO_ROOT).parts) & NOT_PRODUCTION:
            yield path
