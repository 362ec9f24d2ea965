#!/usr/bin/env python3
"""Vendor the web console's JavaScript and CSS from the npm registry (ADR 0051).

    python scripts/vendor_ui.py           # fetch, check, write the files and the lock
    python scripts/vendor_ui.py --check   # offline: shipped files match the lock

Each package is downloaded at the version pinned in ``PACKAGES`` from
registry.npmjs.org; the tarball's sha512 must equal the ``integrity`` the
registry publishes for that version (and, once locked, the one in the lock).
Only the listed files are copied, with the package's licence, and the lock
records the sha256 of every shipped file. Nothing is fetched at run time: the
console serves these files from the Python package.
"""

import argparse
import base64
import hashlib
import io
import json
import pathlib
import sys
import tarfile
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
STATIC = ROOT / "src" / "adapters" / "rest" / "ui" / "static" / "vendor"
TEST_ONLY = ROOT / "tests" / "browser" / "vendor"
LOCK = STATIC / "vendor.lock.json"
REGISTRY = "https://registry.npmjs.org"

# name, version, destination folder, {path in the tarball: file name shipped}
PACKAGES: list[tuple[str, str, pathlib.Path, dict[str, str]]] = [
    (
        "htmx.org",
        "2.0.8",
        STATIC,
        {"dist/htmx.min.js": "htmx.min.js", "LICENSE": "htmx.LICENSE.txt"},
    ),
    (
        "uplot",
        "1.6.32",
        STATIC,
        {
            "dist/uPlot.iife.min.js": "uPlot.iife.min.js",
            "dist/uPlot.min.css": "uPlot.min.css",
            "LICENSE": "uPlot.LICENSE.txt",
        },
    ),
    (
        "@picocss/pico",
        "2.1.1",
        STATIC,
        {
            "css/pico.classless.min.css": "pico.classless.min.css",
            "LICENSE.md": "pico.LICENSE.txt",
        },
    ),
    (
        "swagger-ui-dist",
        "5.35.0",
        STATIC,
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "LICENSE": "swagger-ui.LICENSE.txt",
        },
    ),
    # Only the browser tests use axe-core; it is not shipped in the package.
    ("axe-core", "4.14.1", TEST_ONLY, {"axe.min.js": "axe.min.js"}),
]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:
        data: bytes = answer.read()
    return data


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _locked() -> dict[str, dict[str, object]]:
    if not LOCK.exists():
        return {}
    entries = json.loads(LOCK.read_text())["packages"]
    return {e["name"]: e for e in entries}


def _fetch(name: str, version: str, pinned: str | None) -> bytes:
    """The tarball, checked against the registry's and the lock's integrity."""
    meta = json.loads(_get(f"{REGISTRY}/{name}/{version}"))
    integrity = meta["dist"]["integrity"]
    if pinned is not None and pinned != integrity:
        raise SystemExit(f"{name}@{version}: the registry's integrity changed")
    data = _get(meta["dist"]["tarball"])
    if _sri(data) != integrity:
        raise SystemExit(f"{name}@{version}: the tarball does not match its integrity")
    return data


def vendor() -> None:
    """Download, check and copy every package; rewrite the lock."""
    old = _locked()
    entries = []
    for name, version, folder, files in PACKAGES:
        same = old.get(name, {}).get("version") == version
        pinned = str(old[name]["integrity"]) if same else None
        data = _fetch(name, version, pinned)
        shipped = {}
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for inner, target in files.items():
                member = tar.extractfile(f"package/{inner}")
                if member is None:
                    raise SystemExit(f"{name}@{version}: no file {inner}")
                body = member.read()
                (folder / target).write_bytes(body)
                where = (folder / target).relative_to(ROOT).as_posix()
                shipped[where] = hashlib.sha256(body).hexdigest()
        entries.append(
            {
                "name": name,
                "version": version,
                "integrity": _sri(data),
                "files": shipped,
            }
        )
        print(f"{name}@{version}: {len(shipped)} files")
    LOCK.write_text(json.dumps({"packages": entries}, indent=2) + "\n")


def check() -> list[str]:
    """What differs between the shipped files and the lock (empty: nothing)."""
    problems = []
    pinned = {name: version for name, version, _, _ in PACKAGES}
    for name, entry in _locked().items():
        if pinned.get(name) != entry["version"]:
            problems.append(f"{name}: locked {entry['version']}, pinned here")
        files = entry["files"]
        assert isinstance(files, dict)
        for where, digest in files.items():
            path = ROOT / where
            if not path.exists():
                problems.append(f"{where}: missing")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                problems.append(f"{where}: differs from the lock")
    missing = set(pinned) - set(_locked())
    problems.extend(f"{name}: not in the lock" for name in sorted(missing))
    return problems


def main() -> int:
    """Vendor, or with ``--check`` compare the shipped files with the lock."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify, offline")
    if parser.parse_args().check:
        problems = check()
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    vendor()
    return 0


if __name__ == "__main__":
    sys.exit(main())
