"""Checks on the code itself: the environment is read in one place, `common.env`
(django-environ), so each variable has one reader, one type and one default; and no module
grows past what one reader can hold in mind."""

import re

from common.paths import REPO_ROOT
from common.testing.sources import production_modules

READ = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|environ\.Env\(")
MAX_MODULE_LINES = 350


def test_only_common_env_reads_the_environment():
    readers = {
        str(path.relative_to(REPO_ROOT))
        for path in production_modules()
        if READ.search(path.read_text())
    }
    assert readers == {"common/env.py"}


def test_no_production_module_is_over_350_lines():
    sizes = {
        str(path.relative_to(REPO_ROOT)): len(path.read_text().splitlines())
        for path in production_modules()
    }
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}
