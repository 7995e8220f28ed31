"""Owners: an id per process that names it for good, and whether that process still lives.

An owner is `<pid>-<start time>-<boot id>`: a recycled pid has another start time, and after
a reboot every owner from before is dead whatever its pid.
"""

import os
from functools import cache


@cache
def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as boot:
            return boot.read().strip()[:8]
    except OSError:
        return ""


def _stat(pid: int) -> list[str]:
    # The fields of /proc/<pid>/stat after the command name: state first, start time 20th.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


@cache
def _owner_for(pid: int) -> str:
    fields = _stat(pid)
    return f"{pid}-{fields[19] if len(fields) > 19 else ''}-{boot_id()}"


def current_owner() -> str:
    # Looked up per call: a forked child (a web server worker) is an owner of its own.
    return _owner_for(os.getpid())


def owner_alive(owner: str) -> bool:
    pid, started, boot = (owner.split("-") + ["", ""])[:3]
    if not pid.isdigit() or boot != boot_id():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat(int(pid))
    if len(fields) <= 19:
        return not started  # no /proc here: that the pid exists is all there is to know
    # A killed process its parent has not reaped yet is a zombie: dead for our purpose.
    return fields[0] != "Z" and fields[19] == started
