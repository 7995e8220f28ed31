"""Where the checkout is; its runtime folder is the environment's to say (`common.env.var_dir`)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
