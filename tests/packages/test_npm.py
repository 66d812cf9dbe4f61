"""Node.js packages: package roots in node_modules trees and Debian's nodejs directories."""

from __future__ import annotations

import json

import pytest

from slimline.packages.base import Package
from slimline.packages.npm import CATALOGER, is_package_root_manifest, licenses_of
from tests.image.builders import Op

from .helpers import files_from, image_files

APP = "app/node_modules"
GLOBAL = "usr/local/lib/node_modules"


def manifest(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def app_layer() -> list[Op]:
    express = manifest(
        name="express", version="4.18.2", license="MIT", dependencies={"debug": "2.6.9"}
    )
    return [
        ("file", f"{APP}/express/package.json", express),
        ("file", f"{APP}/express/index.js", 224),
        ("file", f"{APP}/express/lib/router/index.js", 15000),
        # not package roots: an ESM marker and a test fixture that looks like a package
        ("file", f"{APP}/express/lib/package.json", b'{"type": "module"}'),
        ("file", f"{APP}/express/test/fixtures/package.json", manifest(name="fx", version="0.0.1")),
        (
            "file",
            f"{APP}/express/node_modules/debug/package.json",
            manifest(name="debug", version="2.6.9", license={"type": "MIT"}),
        ),
        ("file", f"{APP}/express/node_modules/debug/src/index.js", 263),
        ("file", f"{APP}/@types/node/package.json", manifest(name="@types/node", version="20.1.0")),
        ("file", f"{APP}/@types/node/index.d.ts", 3000),
        ("file", f"{APP}/@types/package.json", manifest(name="@types", version="1.0.0")),
        ("file", f"{APP}/stub/package.json", manifest(name="stub")),
        ("file", f"{APP}/broken/package.json", b'{"name": "broken", "version": '),
        ("file", f"{APP}/array/package.json", b"[1, 2]"),
        ("file", f"{APP}/typed/package.json", manifest(name=["x"], version="1")),
        ("file", f"{APP}/.bin/package.json", manifest(name="bin", version="1")),
        ("symlink", f"{APP}/.bin/express", "../express/bin/express"),
        ("file", "app/package.json", manifest(name="my-app", version="1.0.0")),
    ]


def global_layer() -> list[Op]:
    return [
        ("file", f"{GLOBAL}/npm/package.json", manifest(name="npm", version="10.2.4")),
        (
            "file",
            f"{GLOBAL}/npm/node_modules/@npmcli/arborist/package.json",
            manifest(name="@npmcli/arborist", version="7.2.1", licenses=[{"type": "ISC"}]),
        ),
        (
            "file",
            "usr/share/nodejs/semver/package.json",
            manifest(name="semver", version="7.3.5", license="ISC"),
        ),
        ("file", "usr/share/nodejs/semver/index.js", 1982),
        (
            "file",
            "usr/share/nodejs/@types/ms/package.json",
            manifest(name="@types/ms", version="0.7.31"),
        ),
        (
            "file",
            "usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json",
            manifest(name="bufferutil", version="4.0.7"),
        ),
        ("file", "usr/share/doc/nodejs/package.json", manifest(name="doc", version="1")),
    ]


@pytest.fixture(scope="module")
def packages() -> dict[str, Package]:
    found = CATALOGER.catalog(image_files(app_layer(), global_layer()))
    return {p.name: p for p in found}


def test_package_roots_only(packages: dict[str, Package]) -> None:
    assert sorted(packages) == [
        "@npmcli/arborist",
        "@types/ms",
        "@types/node",
        "bufferutil",
        "debug",
        "express",
        "npm",
        "semver",
    ]


def test_purls(packages: dict[str, Package]) -> None:
    assert packages["express"].purl == "pkg:npm/express@4.18.2"
    assert packages["@types/node"].purl == "pkg:npm/%40types/node@20.1.0"
    assert packages["@npmcli/arborist"].purl == "pkg:npm/%40npmcli/arborist@7.2.1"


def test_fields(packages: dict[str, Package]) -> None:
    express = packages["express"]
    assert express.location == f"{APP}/express/package.json"
    assert (express.ecosystem, express.cataloger, express.layer) == ("npm", "npm", 0)
    assert express.licenses == ("MIT",)
    assert express.depends == ("debug",)
    assert packages["debug"].licenses == ("MIT",)
    assert packages["@npmcli/arborist"].licenses == ("ISC",)
    assert packages["semver"].layer == 1


def test_files_leave_out_nested_node_modules(packages: dict[str, Package]) -> None:
    express = packages["express"]
    assert express.files == (
        f"{APP}/express/index.js",
        f"{APP}/express/lib/package.json",
        f"{APP}/express/lib/router/index.js",
        f"{APP}/express/package.json",
        f"{APP}/express/test/fixtures/package.json",
    )
    assert express.size_bytes == sum(
        len(data) if isinstance(data, bytes) else int(str(data))
        for kind, path, data in app_layer()
        if kind == "file" and path in express.files
    )
    assert packages["debug"].files == (
        f"{APP}/express/node_modules/debug/package.json",
        f"{APP}/express/node_modules/debug/src/index.js",
    )


def test_pnpm_store_is_counted_once() -> None:
    store = "app/node_modules/.pnpm/ms@2.1.3/node_modules/ms"
    files = image_files(
        [
            ("file", f"{store}/package.json", manifest(name="ms", version="2.1.3")),
            ("symlink", "app/node_modules/ms", ".pnpm/ms@2.1.3/node_modules/ms"),
        ]
    )
    assert [p.location for p in CATALOGER.catalog(files)] == [f"{store}/package.json"]


def test_licenses_of() -> None:
    assert licenses_of({"license": "(MIT OR Apache-2.0)"}) == ("(MIT OR Apache-2.0)",)
    assert licenses_of({"license": {"type": "BSD"}}) == ("BSD",)
    assert licenses_of({"licenses": [{"type": "MIT"}, {"type": "GPL"}, 3]}) == ("MIT", "GPL")
    assert licenses_of({"licenses": ["MIT"]}) == ("MIT",)
    assert licenses_of({"license": 7}) == ()


def test_hostile_manifests_never_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    files = files_from(
        {
            f"{APP}/deep/package.json": deep,
            f"{APP}/bad/package.json": b"\xff\xfe\x00",
            f"{APP}/bom/package.json": b"\xef\xbb\xbf" + manifest(name="bom", version="1"),
            f"{APP}/weird/package.json": manifest(name="a/b/c", version="1"),
        }
    )
    assert [p.name for p in CATALOGER.catalog(files)] == ["a/b/c", "bom"]


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("node_modules/x/package.json", True),
        ("app/node_modules/@s/x/package.json", True),
        ("app/node_modules/a/node_modules/b/package.json", True),
        ("usr/lib/node_modules/npm/package.json", True),
        ("usr/share/nodejs/semver/package.json", True),
        ("usr/lib/nodejs/x/package.json", True),
        ("usr/lib/aarch64-linux-gnu/nodejs/x/package.json", True),
        ("usr/share/nodejs/@types/node/package.json", True),
        ("app/package.json", False),
        ("app/node_modules/package.json", False),
        ("app/node_modules/@s/package.json", False),
        ("app/node_modules/.bin/package.json", False),
        ("app/node_modules/x/lib/package.json", False),
        ("opt/nodejs/x/package.json", False),
        ("usr/share/nodejs/x/sub/package.json", False),
        ("node_modules/x/package.json.bak", False),
    ],
)
def test_package_root_manifest(path: str, root: bool) -> None:
    assert is_package_root_manifest(path) is root
    assert CATALOGER.wants(path) is root
