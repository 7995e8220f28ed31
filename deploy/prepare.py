"""Make all six services ready to start, side by side: `manage.py prepare_service` in each.

    python -m deploy.prepare        # what `make prepare` (and so `make run`) does

One process per service instead of three, all at once: a warm `make run` spends its time
starting the platform, not booting Django eighteen times in a row.
"""

import subprocess
import sys

from common.paths import REPO_ROOT
from common.service_registry import SERVICES


def main() -> int:
    running = {
        service: subprocess.Popen(
            [sys.executable, "manage.py", "prepare_service"],
            cwd=REPO_ROOT / f"{service}_project",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for service in SERVICES
    }
    failed = []
    for service, process in running.items():
        output, _ = process.communicate()
        for line in output.splitlines():
            print(f"{service:<10} {line}")
        if process.returncode:
            failed.append(service)
    if failed:
        print(f"prepare failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
