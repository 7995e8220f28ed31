"""The migrations describe the models: a model change without its migration fails here, not in
the first deployment that runs `migrate` against a schema the code does not expect."""

import subprocess
import sys

import pytest

from common.paths import REPO_ROOT
from common.service_registry import SERVICES
from common.testing.backends import environ_without_backends


@pytest.mark.parametrize("service", SERVICES)
def test_every_model_change_has_its_migration(service, tmp_path):
    # The embedded default, in a scratch folder: only the model state is compared.
    env = dict(environ_without_backends(), STREAMIFY_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=REPO_ROOT / f"{service}_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
