"""Print where everything answers once `make run` has started it."""

import os

from common.env import SERVICES, service_url


def main() -> None:
    flower = os.environ.get("FLOWER_PORT", "5555")
    rows = [(name, service_url(name)) for name in SERVICES]
    rows.append(("flower", f"http://127.0.0.1:{flower}"))
    print("Streamify is starting; Ctrl-C stops every process.")
    for name, url in rows:
        print(f"  {name:<10} {url}")
    print(
        "  admin: <service url>/admin/  (dev login admin / streamify-admin;"
        " on auth: admin@streamify.local)"
    )
    print("  health: <service url>/health")


if __name__ == "__main__":
    main()
