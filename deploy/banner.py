"""Print where everything answers once `make run` has started it."""

from common.env import flower_port, service_url
from common.service_registry import SERVICES


def main(*, flower_login: str | None = None) -> None:
    rows = [(name, service_url(name)) for name in SERVICES]
    rows.append(("flower", f"http://127.0.0.1:{flower_port()}"))
    print("Streamify is starting; Ctrl-C stops every process.")
    for name, url in rows:
        print(f"  {name:<10} {url}")
    print(
        "  admin: <service url>/admin/  (dev login admin / streamify-admin;"
        " on auth: admin@streamify.local)"
    )
    if flower_login:
        print(f"  flower login (dev): {flower_login.replace(':', ' / ', 1)}")
    print("  health: <service url>/health")
    print("  one process: python -m deploy.supervise ctl status|stop|start|restart <name>")
