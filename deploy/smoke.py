"""Boot the whole platform with `make run`, wait for every /health to answer 200, walk a new
user's journey through the gateway (`deploy.journey`), then Ctrl-C it.

    python -m deploy.smoke            # embedded: SQLite + filesystem broker, in a scratch var dir
    python -m deploy.smoke --real     # fresh PostgreSQL databases + RabbitMQ (private vhost)

Prints the seconds from `make run` to all healthy, the platform's total RSS and its idle CPU,
and how long the journey took.
"""

import argparse
import sys
import time

from deploy import journey
from deploy.booted import PlatformFailed, booted_platform, idle_cpu_percent, memory_kb


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--idle-seconds", type=float, default=20)
    args = parser.parse_args()

    try:
        with booted_platform(real=args.real) as platform:
            elapsed = platform.wait_healthy(
                args.timeout, report=lambda name, at: print(f"{name:<10} healthy after {at:5.1f}s")
            )
            print(f"all healthy in {elapsed:.1f}s (from `make run`, including migrate)")
            pids = platform.pids()
            time.sleep(3)
            idle = idle_cpu_percent(pids, args.idle_seconds)
            rss = sum(memory_kb(pid)[0] for pid in pids) / 1024
            print(
                f"processes: {len(pids)}  total RSS: {rss:.0f} MB  "
                f"idle CPU: {idle:.1f}% of one core over {args.idle_seconds:.0f}s"
            )
            print("journey through the gateway:")
            walked = time.monotonic()
            try:
                journey.walk(platform.url("gateway"))
            except AssertionError as exc:
                print(platform.log_tail())
                print(f"JOURNEY FAILED: {exc}", file=sys.stderr)
                return 1
            print(f"journey done in {time.monotonic() - walked:.1f}s")
    except PlatformFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print("stopped cleanly with Ctrl-C")
    return 0


if __name__ == "__main__":
    sys.exit(main())
