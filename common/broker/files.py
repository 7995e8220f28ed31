"""The file mechanics under the embedded broker: folders that may vanish, a claimed message
put back where it was, and a mark file locked for one writer at a time."""

import fcntl
import os
from contextlib import suppress
from pathlib import Path


def folders(folder: Path, *, files: bool = False) -> list[Path]:
    """The sub-folders of `folder` (or its files), none if it does not exist."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return [Path(e.path) for e in entries if (e.is_file() if files else e.is_dir())]


def move_back(claimed: Path, queue_folder: Path) -> None:
    # Gone already: acked meanwhile, or moved back by a concurrent recovery.
    with suppress(FileNotFoundError):
        os.rename(claimed, queue_folder / claimed.name)


class locked:
    """An exclusively locked mark file, or None if it vanished before the lock was ours.

    The inode is checked after locking: a mark unlinked by another process while this one
    waited must not be written to (nobody would ever read it again).
    """

    def __init__(self, path: Path, *, create: bool = False):
        self.path, self.create, self.handle = path, create, None

    def __enter__(self):
        while True:
            try:
                handle = open(self.path, "a+" if self.create else "r+")  # noqa: SIM115
            except FileNotFoundError:
                return None
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                same = os.fstat(handle.fileno()).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                handle.seek(0)
                self.handle = handle
                return handle
            handle.close()
            if not self.create:
                return None

    def __exit__(self, *exc):
        if self.handle is not None:
            self.handle.close()  # closing releases the lock
