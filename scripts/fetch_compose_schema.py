#!/usr/bin/env python3
"""Put the Compose Specification JSON schema in a local cache; print its path.

    scripts/fetch_compose_schema.py [--dest FILE] [--tarball FILE.tgz]

The schema is the compose-spec project's ``schema/compose-spec.json`` (draft-07,
Apache-2.0). No PyPI package ships a current copy (the ``docker-compose`` 1.29.2
wheel has the 2021 one), so it comes from the npm package ``dclint`` 3.1.0
(MIT), whose ``schemas/compose.schema.json`` is an unmodified copy of it. Both
the package tarball and the extracted file are checked against pinned sha256
sums, so the cache holds exactly the reviewed file.

Idempotent: a cached file with the right checksum is used as is (no network).
Otherwise the tarball is fetched with ``npm pack`` when npm is installed (it
honours the user's npm registry, proxy and CA settings), else downloaded from
the npm registry (``$NPM_CONFIG_REGISTRY``, default registry.npmjs.org).
``--tarball`` uses an already downloaded ``dclint-3.1.0.tgz`` instead.

Exit status: 0 and the schema path on stdout, or 1 with the reason on stderr.
"""

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

PACKAGE = "dclint"
VERSION = "3.1.0"
TARBALL = f"{PACKAGE}-{VERSION}.tgz"
TARBALL_SHA256 = "73fc6079a0408c80c7ccea9e9e5c21c40551afaf15e8c1ee25a5ad6af1ec0414"
MEMBER = "package/schemas/compose.schema.json"
SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
TIMEOUT_SECONDS = 120

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = REPO_ROOT / ".cache" / "compose-spec" / "compose-spec.json"


class FetchError(Exception):
    """The schema could not be obtained or did not match its checksum."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cached(dest: Path) -> bool:
    try:
        return _sha256(dest.read_bytes()) == SCHEMA_SHA256
    except OSError:
        return False


def _npm_pack(workdir: Path) -> bytes:
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm not found")
    result = subprocess.run(
        [npm, "pack", "--silent", f"{PACKAGE}@{VERSION}", "--pack-destination", "."],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    tarball = workdir / TARBALL
    if result.returncode != 0 or not tarball.is_file():
        raise FetchError(f"npm pack failed: {result.stderr.strip()[-500:]}")
    return tarball.read_bytes()


def _download() -> bytes:
    registry = os.environ.get("NPM_CONFIG_REGISTRY") or DEFAULT_REGISTRY
    url = f"{registry.rstrip('/')}/{PACKAGE}/-/{TARBALL}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            data: bytes = response.read()
    except OSError as exc:
        raise FetchError(f"cannot download {url}: {exc}") from exc
    return data


def _tarball(given: Path | None) -> bytes:
    if given is not None:
        return given.read_bytes()
    with tempfile.TemporaryDirectory(prefix="compose-schema-") as tmp:
        try:
            return _npm_pack(Path(tmp))
        except (FetchError, OSError, subprocess.SubprocessError) as exc:
            print(f"fetch_compose_schema: {exc}; downloading", file=sys.stderr)
    return _download()


def _extract(tarball: bytes) -> bytes:
    if _sha256(tarball) != TARBALL_SHA256:
        raise FetchError(f"{TARBALL}: sha256 {_sha256(tarball)} != {TARBALL_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            raise FetchError(f"{TARBALL} has no {MEMBER}")
        schema = member.read()
    if _sha256(schema) != SCHEMA_SHA256:
        raise FetchError(f"{MEMBER}: sha256 {_sha256(schema)} != {SCHEMA_SHA256}")
    return schema


def fetch(dest: Path = DEFAULT_DEST, tarball: Path | None = None) -> Path:
    """Return ``dest`` holding the pinned schema, fetching it if needed."""
    if _cached(dest):
        return dest
    schema = _extract(_tarball(tarball))
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Atomic: a concurrent reader sees the old file or the whole new one.
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(schema)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    parser.add_argument("--tarball", type=Path, help=f"a downloaded {TARBALL}")
    args = parser.parse_args(argv)
    try:
        path = fetch(args.dest, args.tarball)
    except (FetchError, OSError, tarfile.TarError) as exc:
        print(f"fetch_compose_schema: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
