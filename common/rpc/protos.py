"""The Python modules of `protos/*.proto`, generated into `build/protos/` (outside git).

`make install` generates them (`python -m common.rpc.protos [--force]`), as does the image
build; services only import them:

    from common.rpc.protos import proto_modules
    auth_pb2, auth_pb2_grpc = proto_modules("auth")
"""

import fcntl
import importlib
import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from common.paths import REPO_ROOT

logger = logging.getLogger(__name__)

PROTO_DIR = REPO_ROOT / "protos"
BUILD_DIR = REPO_ROOT / "build" / "protos"


def _outputs(proto: Path) -> tuple[Path, Path]:
    return BUILD_DIR / f"{proto.stem}_pb2.py", BUILD_DIR / f"{proto.stem}_pb2_grpc.py"


_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)\.proto"\s*;', re.MULTILINE)


def _with_dependencies(names: Iterable[str]) -> list[Path]:
    """The .proto files of `names` plus the ones of protos/ they import, transitively."""
    seen: dict[str, Path] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        path = PROTO_DIR / f"{name}.proto"
        if name in seen or not path.exists():
            continue
        seen[name] = path
        pending.extend(_IMPORT.findall(path.read_text()))
    return sorted(seen.values())


def _stale_protos(protos: Iterable[Path] | None = None) -> list[Path]:
    stale = []
    for proto in sorted(PROTO_DIR.glob("*.proto")) if protos is None else protos:
        source_time = proto.stat().st_mtime
        if any(
            not output.exists() or output.stat().st_mtime < source_time
            for output in _outputs(proto)
        ):
            stale.append(proto)
    return stale


def generate_all(*, force: bool = False, names: Iterable[str] | None = None) -> list[Path]:
    """Compile the `protos/*.proto` whose modules are missing or older (all if `force`).

    `names` limits the work to those protos and their imports, so one service's broken
    .proto never stops another service from starting. Return the modules written.
    Processes that start together take turns on a lock file; each module is written aside
    and renamed into place, so a reader never imports half of one.
    """
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    scope = sorted(PROTO_DIR.glob("*.proto")) if names is None else _with_dependencies(names)
    with open(BUILD_DIR / ".generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _compile(scope if force else _stale_protos(scope))


def _compile(protos: list[Path]) -> list[Path]:
    from grpc_tools import protoc

    if not protos:
        return []
    well_known = Path(protoc.__file__).parent / "_proto"
    written = []
    with tempfile.TemporaryDirectory(dir=BUILD_DIR, prefix=".gen-") as scratch:
        argv = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"--python_out={scratch}",
            f"--grpc_python_out={scratch}",
            *(str(p) for p in protos),
        ]
        if protoc.main(argv) != 0:
            raise RuntimeError(f"protoc failed for {', '.join(p.name for p in protos)}")
        for proto in protos:
            for output in _outputs(proto):
                os.replace(Path(scratch) / output.name, output)
                written.append(output)
    logger.info("generated gRPC modules: %s", ", ".join(p.name for p in written))
    return written


def proto_modules(name: str):
    """Return `(<name>_pb2, <name>_pb2_grpc)` for `protos/<name>.proto`, generated beforehand.

    Nothing is compiled here: `make install` (or `python -m common.rpc.protos`) generates the
    modules, and a missing or out-of-date one is an error that says so, not a protoc run in
    whichever process happens to import first.
    """
    proto = PROTO_DIR / f"{name}.proto"
    if not proto.exists():
        raise FileNotFoundError(f"no protos/{name}.proto")
    if _stale_protos(_with_dependencies([name])):
        raise ModuleNotFoundError(
            f"the gRPC modules of protos/{name}.proto are missing or older than it: "
            "run `make protos` (python -m common.rpc.protos)"
        )
    # protoc's modules import their siblings by top-level name (`import auth_pb2`).
    if str(BUILD_DIR) not in sys.path:
        sys.path.insert(0, str(BUILD_DIR))
    return importlib.import_module(f"{name}_pb2"), importlib.import_module(f"{name}_pb2_grpc")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate_all(force="--force" in sys.argv[1:])
