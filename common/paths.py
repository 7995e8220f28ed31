"""Where a checkout keeps its runtime state (databases, broker files, dev secrets)."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def var_dir() -> Path:
    """Return the runtime folder, outside git; tests point it elsewhere."""
    path = Path(os.environ.get("STREAMIFY_VAR_DIR", REPO_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path
