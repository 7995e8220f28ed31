"""pytest plugin loaded by every project suite (`-p common.testing.plugin`).

It runs before Django is configured, so it can choose the backends: PostgreSQL when reachable
(required in CI), otherwise SQLite; runtime files go to a throw-away folder.
"""

import atexit
import os
import shutil
import tempfile

import pytest

from common.testing import backends

os.environ.setdefault("STREAMIFY_DEV", "1")
if "STREAMIFY_VAR_DIR" not in os.environ:
    os.environ["STREAMIFY_VAR_DIR"] = tempfile.mkdtemp(prefix="streamify-test-")
    atexit.register(shutil.rmtree, os.environ["STREAMIFY_VAR_DIR"], ignore_errors=True)
os.environ.setdefault("STREAMIFY_LOG_LEVEL", "WARNING")
if "STREAMIFY_POSTGRES_URL" not in os.environ and backends.reachable(backends.postgres_url()):
    os.environ["STREAMIFY_POSTGRES_URL"] = backends.postgres_url()


def pytest_configure(config):
    missing = backends.missing_required()
    if missing:
        pytest.exit(
            "STREAMIFY_REQUIRE_REAL_BACKENDS=1 but unreachable: " + "; ".join(missing), returncode=3
        )


def pytest_report_header(config):
    database = "PostgreSQL" if os.environ.get("STREAMIFY_POSTGRES_URL") else "SQLite"
    return f"streamify: database={database} var={os.environ['STREAMIFY_VAR_DIR']}"
