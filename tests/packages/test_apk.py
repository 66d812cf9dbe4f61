"""apk's installed database, in Alpine-like images assembled from files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slimline.packages.apk import CATALOGER, INSTALLED, parse_installed
from slimline.packages.base import Package

from .helpers import ALPINE_OS_RELEASE, files_from, image_files

DATABASE = """C:Q1p78yvTLG094tHE1+dToJGbmYzQE=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407681
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Ter\u00e4s <timo.teras@iki.fi>
t:1700000000
c:b0f0e2e6c9b2
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Ckif6Lfl3hj8+2hL0SZ5jBm7iD0=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=
F:usr
F:usr/lib

P:busybox
V:1.36.1-r15
A:x86_64
S:509547
I:955392
L:GPL-2.0-only
o:busybox
D:so:libc.musl-x86_64.so.1 !busybox-static musl>=1.2 /bin/sh
F:bin
R:busybox
F:etc
R:securetty
R:missing.conf

P:busybox-binsh
V:1.36.1-r15
A:x86_64
L:GPL-2.0-only
o:busybox
D:busybox=1.36.1-r15
F:bin
R:sh
"""


def alpine_layers() -> list[list[tuple[str, str, object]]]:
    return [
        [
            ("file", "usr/lib/os-release", ALPINE_OS_RELEASE),
            ("symlink", "etc/os-release", "../usr/lib/os-release"),
            ("file", "lib/ld-musl-x86_64.so.1", 600_000),
            ("symlink", "lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1"),
            ("dir", "usr/lib", None),
            ("file", "bin/busybox", 900_000),
            ("hardlink", "bin/sh", "bin/busybox"),
            ("file", "etc/securetty", 100),
            ("file", INSTALLED, DATABASE.encode()),
        ]
    ]


@pytest.fixture(scope="module")
def packages() -> dict[str, Package]:
    return {p.name: p for p in CATALOGER.catalog(image_files(*alpine_layers()))}


def test_packages_and_purls(packages: dict[str, Package]) -> None:
    assert sorted(packages) == ["busybox", "busybox-binsh", "musl"]
    assert packages["musl"].purl == (
        "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1"
    )


def test_fields(packages: dict[str, Package]) -> None:
    busybox = packages["busybox"]
    assert (busybox.version, busybox.arch, busybox.ecosystem, busybox.cataloger) == (
        "1.36.1-r15",
        "x86_64",
        "apk",
        "apk",
    )
    assert busybox.licenses == ("GPL-2.0-only",)
    # the conflict (!busybox-static) is not a dependency; constraints are dropped
    assert busybox.depends == ("so:libc.musl-x86_64.so.1", "musl", "/bin/sh")
    assert (busybox.source_name, busybox.source_version) == ("busybox", "1.36.1-r15")
    assert packages["busybox-binsh"].source_name == "busybox"
    assert packages["musl"].metadata == {"installed_size": "663552", "package_size": "407681"}
    assert busybox.location == INSTALLED and busybox.layer == 0


def test_files_and_sizes(packages: dict[str, Package]) -> None:
    musl = packages["musl"]
    assert musl.files == ("lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1")
    # the link to the loader has no bytes of its own
    assert musl.size_bytes == 600_000
    assert packages["busybox"].files == ("bin/busybox", "etc/securetty")
    assert packages["busybox"].size_bytes == 900_100
    # bin/sh is a hard link to busybox: it owns the path, the bytes are busybox's
    assert packages["busybox-binsh"].files == ("bin/sh",)
    assert packages["busybox-binsh"].size_bytes == 900_000


def test_without_os_release() -> None:
    found = CATALOGER.catalog(files_from({INSTALLED: DATABASE.encode()}))
    assert found[0].purl == "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64"


def test_missing_fields_and_garbage_are_skipped() -> None:
    database = (
        "P:noversion\nA:x86_64\n\n"
        "garbage line\nV:1.0\n\n"
        ":\nP\nZZZ\nP:ok\nV:2.0-r0\nR:orphan-file\n\n\n\n"
    )
    found = CATALOGER.catalog(files_from({INSTALLED: database.encode(), "orphan-file": 5}))
    assert [(p.name, p.version, p.files) for p in found] == [("ok", "2.0-r0", ("orphan-file",))]


def test_wants() -> None:
    assert CATALOGER.wants("lib/apk/db/installed")
    assert not CATALOGER.wants("lib/apk/db/installed.old")
    assert not CATALOGER.wants("usr/lib/apk/db/installed")


# ---- the database parser against generated databases ------------------------------------------

TOKENS = st.text(alphabet="abcxyz0189._+-", min_size=1, max_size=12)


@st.composite
def apk_packages(draw: st.DrawFn) -> dict[str, object]:
    directories = draw(
        st.dictionaries(
            st.builds("/".join, st.lists(TOKENS, min_size=1, max_size=3)),
            st.lists(TOKENS, max_size=3, unique=True),
            max_size=3,
        )
    )
    return {
        "name": draw(TOKENS),
        "version": draw(st.builds("{}-r{}".format, TOKENS, st.integers(0, 20))),
        "arch": draw(st.sampled_from(["x86_64", "aarch64", "noarch"])),
        "origin": draw(TOKENS),
        "license": draw(st.sampled_from(["MIT", "GPL-2.0-only AND MIT", "BSD-2-Clause"])),
        "depends": draw(st.lists(TOKENS, max_size=3, unique=True)),
        "directories": directories,
    }


def render(package: dict[str, object]) -> str:
    lines = [
        "C:Q1abc=",
        f"P:{package['name']}",
        f"V:{package['version']}",
        f"A:{package['arch']}",
        f"L:{package['license']}",
        f"o:{package['origin']}",
        "D:" + " ".join(f"{name}>=1" for name in package["depends"]),  # type: ignore[attr-defined]
    ]
    directories = package["directories"]
    assert isinstance(directories, dict)
    for directory, names in directories.items():
        lines.append(f"F:{directory}")
        for name in names:
            lines += [f"R:{name}", "a:0:0:644", "Z:Q1xyz="]
    return "\n".join(lines) + "\n"


@given(st.lists(apk_packages(), max_size=5))
def test_generated_databases_round_trip(generated: list[dict[str, object]]) -> None:
    text = "\n".join(render(p) for p in generated)
    parsed = list(parse_installed(text))
    assert len(parsed) == len(generated)
    for record, package in zip(parsed, generated, strict=True):
        assert record.name == package["name"]
        assert record.version == package["version"]
        assert record.arch == package["arch"]
        assert record.origin == package["origin"]
        assert record.license == package["license"]
        assert record.depends == tuple(package["depends"])  # type: ignore[arg-type]
        directories = package["directories"]
        assert isinstance(directories, dict)
        assert record.files == [f"{d}/{name}" for d, names in directories.items() for name in names]


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    CATALOGER.catalog(files_from({INSTALLED: data}))


@given(st.text(alphabet="PVAFRDLo:\n \x00é", max_size=400))
def test_fieldlike_text_never_crashes(text: str) -> None:
    CATALOGER.catalog(files_from({INSTALLED: text.encode()}))
