"""The environment is read in one place: `common.env` (django-environ). Settings modules and
the rest of the code ask it, by name, so each variable has one reader, one type and one
default."""

import re

from common.paths import REPO_ROOT

READ = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|environ\.Env\(")
NOT_PRODUCTION = {".venv", "tests", "testing", "bench", "migrations", "build", "var", ".ci"}


def production_modules():
    for path in sorted(REPO_ROOT.rglob("*.py")):
        parts = set(path.relative_to(REPO_ROOT).parts)
        if not parts & NOT_PRODUCTION:
            yield path


def test_only_common_env_reads_the_environment():
    readers = {
        str(path.relative_to(REPO_ROOT))
        for path in production_modules()
        if READ.search(path.read_text())
    }
    assert readers == {"common/env.py"}
