"""The browser code the gateway serves that is not ours, vendored from the npm registry.

    python -m deploy.vendor_npm           # fetch the pinned packages, write the files below
    python -m deploy.vendor_npm --check   # the files in the tree are the packages' own

Each package's tarball comes from the registry, is checked against the registry's sha512
integrity, and only the files named here are written (with the package's licence) into
`gateway_project/webui/static/webui/vendor/`. Nothing is fetched at run time: the pages load
these files from the gateway, so they work offline and run only the code pinned here.
"""

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import urllib.request
from dataclasses import dataclass

from common.paths import REPO_ROOT

REGISTRY = "https://registry.npmjs.org"
VENDOR = REPO_ROOT / "gateway_project" / "webui" / "static" / "webui" / "vendor"
LICENCE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: dict[str, str]  # path in the package -> file name in VENDOR

    @property
    def slug(self) -> str:
        return self.name.removeprefix("@").replace("/", "-")


# graphiql, react, react-dom, the explorer plugin and graphql-ws: the versions graphene-django
# 3's GraphiQL page is written for (graphene_django/static/graphene_django/graphiql.js).
PACKAGES = (
    Package("hls.js", "1.6.19", {"dist/hls.light.min.js": "hls.light.min.js"}),
    Package(
        "uplot",
        "1.6.32",
        {"dist/uPlot.iife.min.js": "uPlot.iife.min.js", "dist/uPlot.min.css": "uPlot.min.css"},
    ),
    Package("react", "17.0.2", {"umd/react.production.min.js": "react.production.min.js"}),
    Package(
        "react-dom",
        "17.0.2",
        {"umd/react-dom.production.min.js": "react-dom.production.min.js"},
    ),
    Package(
        "graphiql",
        "2.4.7",
        {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
    ),
    Package(
        "@graphiql/plugin-explorer",
        "0.1.15",
        {
            "dist/graphiql-plugin-explorer.umd.js": "graphiql-plugin-explorer.umd.js",
            "dist/style.css": "graphiql-plugin-explorer.css",
        },
    ),
    Package("graphql-ws", "5.13.1", {"umd/graphql-ws.min.js": "graphql-ws.min.js"}),
)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the npm registry
        return response.read()


def _without_source_map(content: bytes) -> bytes:
    """The file without its `sourceMappingURL` comment: the maps are not shipped, and a
    reference to a missing file fails static collection and logs 404s in every browser."""
    return re.sub(rb"(//|/\*)# sourceMappingURL=[^\n]*\s*$", b"", content)


def package_files(package: Package) -> dict[str, bytes]:
    """The package's named files and its licence, by their names in VENDOR."""
    meta = json.loads(_get(f"{REGISTRY}/{package.name}/{package.version}"))
    tarball = _get(meta["dist"]["tarball"])
    algorithm, expected = meta["dist"]["integrity"].split("-", 1)
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(tarball).digest()).decode() != (
        expected
    ):
        raise SystemExit(f"{package.name}@{package.version}: the tarball fails its integrity")
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if m.isfile()}
        for inside, name in package.files.items():
            found[name] = _without_source_map(archive.extractfile(members[inside]).read())
        licence = next((n for n in LICENCE_NAMES if n in members), None)
        found[f"{package.slug}-LICENSE"] = (
            archive.extractfile(members[licence]).read()
            if licence
            else f"{package.name}@{package.version}: {meta['license']} (the package ships no "
            f"licence file; see {meta['repository']['url']})\n".encode()
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args()
    differ = []
    for package in PACKAGES:
        for name, content in package_files(package).items():
            path = VENDOR / name
            if args.check:
                if not path.is_file() or path.read_bytes() != content:
                    differ.append(name)
            else:
                path.write_bytes(content)
        print(f"{package.name}@{package.version}: {', '.join(package.files.values())}")
    if differ:
        print(f"not the packages' own: {', '.join(differ)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
