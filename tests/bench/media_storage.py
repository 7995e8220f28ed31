"""Media storage figures: the shared folder against an S3 API, in the same run.

    python -m tests.bench.media_storage [--megabytes 64] [--ranges 200]

For each storage, through the code the services use (`common.media_storage` and Django's
storage API): upload (video's `default_storage.save` of a file on disk), playback (streaming's
reader, sequentially in the 512 KiB blocks the web server asks for) and seeks (random 64 KiB
ranges, as players fetch after a seek). The S3 API is moto's server on this machine, so the
figures compare the code paths and the protocol's cost, not a network.
"""

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

BLOCK = 512 * 1024
RANGE = 64 * 1024


def _configure(media_root: str) -> None:
    import django
    from django.conf import settings

    from common import media_storage

    settings.configure(MEDIA_ROOT=media_root, STORAGES=media_storage.storages())
    django.setup()


def _measure(label: str, source: Path, ranges: int) -> None:
    from django.core.files import File
    from django.core.files.storage import default_storage

    from common import media_storage

    size = source.stat().st_size
    started = time.perf_counter()
    with source.open("rb") as handle:
        name = default_storage.save("bench/film.mp4", File(handle))
    upload = time.perf_counter() - started

    media = media_storage.stat_media(name)
    started = time.perf_counter()
    with media_storage.open_media(media) as reader:
        while reader.read(BLOCK):
            pass
    playback = time.perf_counter() - started

    picks = random.Random(7)
    started = time.perf_counter()
    with media_storage.open_media(media) as reader:
        for _ in range(ranges):
            reader.seek(picks.randrange(0, size - RANGE))
            reader.read(RANGE)
    seeks = time.perf_counter() - started
    default_storage.delete(name)

    megabytes = size / 2**20
    print(
        f"| {label} | {megabytes / upload:,.0f} MB/s | {megabytes / playback:,.0f} MB/s | "
        f"{ranges / seeks:,.0f} ranges/s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--ranges", type=int, default=200)
    parser.add_argument("--storage", choices=["folder", "s3"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.storage is None:
        print(f"{args.megabytes} MB file, {args.ranges} random {RANGE // 1024} KiB ranges\n")
        print("| storage | upload | playback (512 KiB reads) | seeks |\n|---|---|---|---|")
        _run_each(args)
        return
    with tempfile.TemporaryDirectory(prefix="streamify-media-bench-") as folder:
        source = Path(folder) / "film.mp4"
        source.write_bytes(os.urandom(args.megabytes * 2**20))
        _configure(str(Path(folder) / "media"))
        _measure(args.storage, source, args.ranges)


def _run_each(args) -> None:
    # Django is configured once per process: each storage runs in a process of its own.
    import subprocess
    import sys

    from common.testing.object_store import private_object_store

    common = [sys.executable, "-m", "tests.bench.media_storage"]
    common += ["--megabytes", str(args.megabytes), "--ranges", str(args.ranges)]
    base = {k: v for k, v in os.environ.items() if not k.startswith("STREAMIFY_MEDIA")}
    subprocess.run([*common, "--storage", "folder"], env=base, check=True)
    with private_object_store() as store:
        env = {**base, **store.bucket("bench")}
        subprocess.run([*common, "--storage", "s3"], env=env, check=True)


if __name__ == "__main__":
    main()
