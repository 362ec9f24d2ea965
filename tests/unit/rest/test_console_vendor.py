"""The console's vendored files are exactly those the lock records (ADR 0051)."""

import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
LOCK = (
    ROOT / "src" / "adapters" / "rest" / "ui" / "static" / "vendor" / "vendor.lock.json"
)


def _lock() -> list[dict[str, object]]:
    packages: list[dict[str, object]] = json.loads(LOCK.read_text())["packages"]
    return packages


def test_every_shipped_file_has_the_locked_sha256() -> None:
    checked = 0
    for package in _lock():
        files = package["files"]
        assert isinstance(files, dict) and files, package["name"]
        for where, digest in files.items():
            body = (ROOT / where).read_bytes()
            assert hashlib.sha256(body).hexdigest() == digest, where
            checked += 1
    assert checked >= 10


def test_every_package_is_pinned_with_a_registry_integrity() -> None:
    names = set()
    for package in _lock():
        version = str(package["version"])
        assert version[0].isdigit() and "^" not in version and "~" not in version
        assert str(package["integrity"]).startswith("sha512-")
        names.add(package["name"])
    assert {"htmx.org", "uplot", "@picocss/pico", "swagger-ui-dist"} <= names


def test_the_vendor_folder_holds_nothing_unlocked() -> None:
    folder = LOCK.parent
    locked = {
        (ROOT / where).resolve()
        for package in _lock()
        for where in package["files"]  # type: ignore[attr-defined]
    }
    shipped = {p.resolve() for p in folder.iterdir() if p != LOCK}
    assert shipped <= locked, sorted(str(p) for p in shipped - locked)
