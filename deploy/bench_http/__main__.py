"""The command line: `python -m deploy.bench_http [--smoke] [--modes ...] [--compare REF] ...`."""

import argparse
import shutil
import sys
from contextlib import ExitStack
from pathlib import Path

from common.paths import REPO_ROOT
from deploy.bench_http.load import run_python_load, run_wrk
from deploy.bench_http.measure import measure_mode, worktree
from deploy.bench_http.report import report


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.bench_http")
    parser.add_argument("--modes", default="embedded,real")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--paths", nargs="*", help="only paths whose name contains one of these")
    parser.add_argument("--compare", metavar="GIT_REF", help="also measure this ref, first")
    parser.add_argument("--redis", action="store_true", help="with REDIS_URL (every mode)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--smoke", action="store_true", help="2 s per path, embedded, no file")
    args = parser.parse_args()
    if args.smoke:
        args.modes, args.seconds, args.videos, args.idle_seconds = "embedded", 2, 4, 2
    if shutil.which("wrk"):
        loader = run_wrk
    elif args.smoke:
        loader = lambda url, path, **kw: run_python_load(  # noqa: E731
            url, path, token=kw["token"], seconds=kw["seconds"]
        )
    else:
        print("wrk is missing: `apt-get install wrk` (Debian's package)", file=sys.stderr)
        return 2

    runs = []
    with ExitStack() as stack:
        before = worktree(args.compare, stack) if args.compare else None
        for mode in args.modes.split(","):
            if before:
                runs.append(measure_mode(mode, f"{mode}, before ({args.compare})", before, args,
                                         loader))  # fmt: skip
            runs.append(measure_mode(mode, f"{mode}", REPO_ROOT, args, loader))
    text = report(runs, args)
    if args.smoke:
        failed = [r for run in runs for r in run.results if r.errors or not r.requests]
        print(text)
        if failed:
            print(f"smoke: errors on {[r.name for r in failed]}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
