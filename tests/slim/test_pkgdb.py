"""Package databases rewritten for the slim image: the catalog of the written image lists
exactly the kept packages, kept paragraphs are copied verbatim, file lists lose what was
removed, and the metadata of removed packages goes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from slimline.image.files import ImageFiles
from slimline.image.read import read_image
from slimline.image.sources import open_image
from slimline.packages.base import Package
from slimline.packages.catalog import capture_predicate as catalog_capture
from slimline.packages.catalog import catalog_image
from slimline.slim.archive import write_image_file
from slimline.slim.layer import write_layer
from slimline.slim.pkgdb import (
    APK_INSTALLED,
    DPKG_STATUS,
    DatabaseEdit,
    capture_predicate,
    metadata_paths,
    rewrite_databases,
)
from tests.image.builders import config_document, encode
from tests.slim.test_layer_archive import Layer, archive

OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'

STATUS = """\
Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy.

Package: libfoo1
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 1.2-3
Depends: base-files
Description: foo library

Package: bar
Status: install ok installed
Architecture: amd64
Version: 2.0-1
Depends: libfoo1
Description: the bar tool

Package: gone
Status: deinstall ok config-files
Architecture: amd64
Version: 0.1
Conffiles:
 /etc/gone.conf 0123456789abcdef0123456789abcdef
Description: removed earlier

"""

DPKG_FILES: dict[str, bytes | str] = {
    "etc/os-release": OS_RELEASE,
    "bin": "->usr/bin",
    "usr/bin/base": b"base",
    "usr/bin/bar": b"bar tool",
    "etc/base.conf": b"conf",
    "usr/lib/x86_64-linux-gnu/libfoo.so.1": b"ELF foo",
    "usr/share/doc/libfoo1/README": b"read me",
    DPKG_STATUS: STATUS.encode(),
    "var/lib/dpkg/info/format": b"1\n",
    "var/lib/dpkg/info/base-files.list": b"/.\n/bin/base\n/etc\n/etc/base.conf\n/etc/never\n",
    "var/lib/dpkg/info/base-files.md5sums": b"aaaa  bin/base\n",
    "var/lib/dpkg/info/base-files.conffiles": b"/etc/base.conf\n",
    "var/lib/dpkg/info/libfoo1:amd64.list": (
        b"/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n"
        b"/usr/share\n/usr/share/doc\n/usr/share/doc/libfoo1\n/usr/share/doc/libfoo1/README\n"
    ),
    "var/lib/dpkg/info/libfoo1:amd64.md5sums": (
        b"1111  usr/lib/x86_64-linux-gnu/libfoo.so.1\n2222  usr/share/doc/libfoo1/README\n"
    ),
    "var/lib/dpkg/info/libfoo1:amd64.postinst": b"#!/bin/sh\nldconfig\n",
    "var/lib/dpkg/info/bar.list": b"/.\n/usr\n/usr/bin\n/usr/bin/bar\n",
    "var/lib/dpkg/info/bar.md5sums": b"3333  usr/bin/bar\n",
    "var/lib/dpkg/info/bar.prerm": b"#!/bin/sh\n",
    "var/lib/dpkg/info/gone.postrm": b"#!/bin/sh\n",
}


def image_layer(contents: Mapping[str, bytes | str]) -> bytes:
    """One layer holding `contents` (a str value "->target" is a symlink), parents included."""
    layer = Layer()
    directories: set[str] = set()
    for path in sorted(contents):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            if directory not in directories:
                directories.add(directory)
                layer.dir(directory)
        value = contents[path]
        if isinstance(value, str):
            layer.symlink(path, value.removeprefix("->"))
        else:
            layer.file(path, value)
    return layer.bytes()


def capture(path: str) -> bool:
    return catalog_capture()(path) or capture_predicate()(path)


@dataclass
class Slimmed:
    edit: DatabaseEdit
    before: list[Package]
    after: list[Package]
    files: ImageFiles


def slimmed(
    tmp_path: Path,
    contents: Mapping[str, bytes | str],
    keep_packages: Callable[[Package], bool],
    keep_paths: Callable[[ImageFiles, list[Package]], set[str]],
) -> Slimmed:
    with open_image(f"docker-archive:{archive(tmp_path, [image_layer(contents)])}") as image:
        files = read_image(image, capture).files
        _, before = catalog_image(files)
        kept = {p.purl for p in before if keep_packages(p)}
        keep = keep_paths(files, before)
        edit = rewrite_databases(files, before, kept, keep)
        layer_path = tmp_path / "layer.tar"
        with open(layer_path, "wb") as out:
            info = write_layer(image, files, keep - edit.drop, edit.replacements, out)
    target = tmp_path / "slim.tar"
    write_image_file(
        target,
        raw_config=encode(config_document([b""])),
        layer_path=layer_path,
        layer=info,
        label_from="test",
        tag=None,
    )
    with open_image(f"docker-archive:{target}") as written:
        after_files = read_image(written, capture).files
    _, after = catalog_image(after_files)
    return Slimmed(edit, before, after, after_files)


def names(packages: list[Package], ecosystem: str) -> list[str]:
    return sorted(p.name for p in packages if p.ecosystem == ecosystem)


def text(files: ImageFiles, path: str) -> str:
    data = files.read(path)
    assert data is not None, path
    return data.decode()


# ---- dpkg --------------------------------------------------------------------------------


def everything_but(*dropped: str) -> Callable[[ImageFiles, list[Package]], set[str]]:
    def keep(files: ImageFiles, packages: list[Package]) -> set[str]:
        return {p for p in files if not any(p == d or p.startswith(d + "/") for d in dropped)}

    return keep


def test_packages_mode_lists_exactly_the_kept_packages(tmp_path: Path) -> None:
    result = slimmed(
        tmp_path,
        DPKG_FILES,
        lambda p: p.name != "bar",
        everything_but("usr/bin/bar"),
    )
    assert names(result.before, "deb") == ["bar", "base-files", "libfoo1"]
    assert names(result.after, "deb") == ["base-files", "libfoo1"]
    status = text(result.files, DPKG_STATUS)
    paragraphs = STATUS.split("\n\n")
    assert status == paragraphs[0] + "\n\n" + paragraphs[1] + "\n\n"
    info = {p.rpartition("/")[2] for p in result.files.children("var/lib/dpkg/info")}
    assert info == {
        "format",
        "base-files.list",
        "base-files.md5sums",
        "base-files.conffiles",
        "libfoo1:amd64.list",
        "libfoo1:amd64.md5sums",
        "libfoo1:amd64.postinst",
    }
    # untouched lists are not rewritten
    assert "var/lib/dpkg/info/base-files.list" not in result.edit.replacements


def test_files_mode_filters_the_lists_of_partly_kept_packages(tmp_path: Path) -> None:
    result = slimmed(
        tmp_path,
        DPKG_FILES,
        lambda p: p.name != "bar",
        everything_but("usr/bin/bar", "usr/share/doc", "etc/base.conf"),
    )
    assert names(result.after, "deb") == ["base-files", "libfoo1"]
    assert text(result.files, "var/lib/dpkg/info/libfoo1:amd64.list") == (
        "/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n"
        "/usr/share\n"
    )
    assert text(result.files, "var/lib/dpkg/info/libfoo1:amd64.md5sums") == (
        "1111  usr/lib/x86_64-linux-gnu/libfoo.so.1\n"
    )
    # a listed path the original lacked stays listed; the merged-/usr path is found through bin
    assert text(result.files, "var/lib/dpkg/info/base-files.list") == (
        "/.\n/bin/base\n/etc\n/etc/never\n"
    )
    libfoo = next(p for p in result.after if p.name == "libfoo1")
    assert libfoo.files == ("usr/lib/x86_64-linux-gnu/libfoo.so.1",)


def test_rewritten_files_keep_their_metadata_and_unkept_databases_stay_out(
    tmp_path: Path,
) -> None:
    result = slimmed(
        tmp_path, DPKG_FILES, lambda p: p.name == "base-files", everything_but(DPKG_STATUS)
    )
    assert DPKG_STATUS not in result.edit.replacements
    assert DPKG_STATUS not in result.files
    assert names(result.after, "deb") == []


def test_distroless_status_d(tmp_path: Path) -> None:
    contents: dict[str, bytes | str] = {
        "etc/os-release": OS_RELEASE,
        "etc/ssl/certs/ca-certificates.crt": b"certs",
        "usr/share/zoneinfo/UTC": b"TZif",
        "var/lib/dpkg/status.d/base": (
            b"Package: base-files\nVersion: 12.4\nArchitecture: amd64\n\n"
        ),
        "var/lib/dpkg/status.d/base.md5sums": b"aaaa  etc/os-release\n",
        "var/lib/dpkg/status.d/tzdata": b"Package: tzdata\nVersion: 2024a\nArchitecture: all\n",
        "var/lib/dpkg/status.d/tzdata.md5sums": b"bbbb  usr/share/zoneinfo/UTC\n",
        "var/lib/dpkg/status.d/netbase": (b"Package: netbase\nVersion: 6.4\nArchitecture: all\n\n"),
        "var/lib/dpkg/status.d/netbase.md5sums": b"cccc  etc/ssl/certs/ca-certificates.crt\n",
    }
    result = slimmed(
        tmp_path, contents, lambda p: p.name != "tzdata", everything_but("usr/share/zoneinfo")
    )
    assert names(result.before, "deb") == ["base-files", "netbase", "tzdata"]
    assert names(result.after, "deb") == ["base-files", "netbase"]
    assert {"var/lib/dpkg/status.d/tzdata", "var/lib/dpkg/status.d/tzdata.md5sums"} <= (
        result.edit.drop
    )
    assert text(result.files, "var/lib/dpkg/status.d/base") == (
        "Package: base-files\nVersion: 12.4\nArchitecture: amd64\n\n"
    )


# ---- apk ---------------------------------------------------------------------------------

INSTALLED = """\
C:Q1aaaa=
P:musl
V:1.2.4-r2
A:x86_64
o:musl
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1bbbb=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q1cccc=

C:Q1dddd=
P:busybox
V:1.36.1-r5
A:x86_64
D:so:libc.musl-x86_64.so.1
F:bin
R:busybox
a:0:0:755
Z:Q1eeee=
R:sh
a:0:0:777
Z:Q1ffff=
F:etc
F:etc/busybox-paths.d
R:busybox
Z:Q1gggg=

C:Q1hhhh=
P:curl
V:8.5.0-r0
A:x86_64
F:usr
F:usr/bin
R:curl
Z:Q1iiii=

"""

APK_FILES: dict[str, bytes | str] = {
    "etc/os-release": b"ID=alpine\nVERSION_ID=3.19.0\n",
    APK_INSTALLED: INSTALLED.encode(),
    "lib/ld-musl-x86_64.so.1": b"ELF musl",
    "lib/libc.musl-x86_64.so.1": "->ld-musl-x86_64.so.1",
    "bin/busybox": b"ELF busybox",
    "bin/sh": "->/bin/busybox",
    "etc/busybox-paths.d/busybox": b"paths",
    "usr/bin/curl": b"ELF curl",
}


def test_apk_lists_exactly_the_kept_packages(tmp_path: Path) -> None:
    result = slimmed(
        tmp_path,
        APK_FILES,
        lambda p: p.name != "curl",
        everything_but("usr", "bin/sh", "etc/busybox-paths.d"),
    )
    assert names(result.before, "apk") == ["busybox", "curl", "musl"]
    assert names(result.after, "apk") == ["busybox", "musl"]
    paragraphs = INSTALLED.split("\n\n")
    assert text(result.files, APK_INSTALLED) == (
        paragraphs[0]
        + "\n\n"
        + "C:Q1dddd=\nP:busybox\nV:1.36.1-r5\nA:x86_64\nD:so:libc.musl-x86_64.so.1\n"
        "F:bin\nR:busybox\na:0:0:755\nZ:Q1eeee=\nF:etc\n\n"
    )
    busybox = next(p for p in result.after if p.name == "busybox")
    assert busybox.files == ("bin/busybox",)


# ---- language packages -------------------------------------------------------------------

LANGUAGE_FILES: dict[str, bytes | str] = {
    "app/site/keepme-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: keepme\nVersion: 1.0\n",
    "app/site/keepme-1.0.dist-info/RECORD": b"keepme/__init__.py,,\n",
    "app/site/keepme/__init__.py": b"",
    "app/site/dropme-2.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: dropme\nVersion: 2.0\n",
    "app/site/dropme-2.0.dist-info/RECORD": b"dropme/__init__.py,,\n",
    "app/site/dropme/__init__.py": b"",
    "app/node_modules/left/package.json": b'{"name": "left", "version": "1.0.0"}',
    "app/node_modules/left/index.js": b"",
}


def test_removed_language_packages_lose_their_metadata(tmp_path: Path) -> None:
    result = slimmed(
        tmp_path,
        LANGUAGE_FILES,
        lambda p: p.name == "keepme",
        everything_but("app/site/dropme"),
    )
    assert names(result.before, "pypi") == ["dropme", "keepme"]
    assert names(result.before, "npm") == ["left"]
    assert names(result.after, "pypi") == ["keepme"]
    assert names(result.after, "npm") == []
    assert result.edit.drop == {
        "app/site/dropme-2.0.dist-info",
        "app/site/dropme-2.0.dist-info/METADATA",
        "app/site/dropme-2.0.dist-info/RECORD",
        "app/node_modules/left/package.json",
    }
    assert result.edit.replacements == {}


def test_metadata_paths_of_a_debian_package(tmp_path: Path) -> None:
    with open_image(f"docker-archive:{archive(tmp_path, [image_layer(DPKG_FILES)])}") as image:
        files = read_image(image, capture).files
    _, packages = catalog_image(files)
    libfoo = next(p for p in packages if p.name == "libfoo1")
    assert metadata_paths(files, libfoo) == {
        "var/lib/dpkg/info/libfoo1:amd64.list",
        "var/lib/dpkg/info/libfoo1:amd64.md5sums",
        "var/lib/dpkg/info/libfoo1:amd64.postinst",
    }


def test_capture_predicate() -> None:
    wants = capture_predicate()
    assert wants(DPKG_STATUS) and wants(APK_INSTALLED)
    assert wants("var/lib/dpkg/info/bash.md5sums") and wants("var/lib/dpkg/info/bash.list")
    assert wants("var/lib/dpkg/status.d/base") and wants("var/lib/dpkg/status.d/base.md5sums")
    assert not wants("var/lib/dpkg/info/bash.postinst") and not wants("usr/bin/bash")


def test_metadata_a_kept_distribution_package_installed_stays(tmp_path: Path) -> None:
    with open_image(f"docker-archive:{archive(tmp_path, [image_layer(LANGUAGE_FILES)])}") as image:
        files = read_image(image, capture).files
    _, packages = catalog_image(files)
    owner = "pkg:deb/debian/python3-dropme@2.0"
    packages = [
        dataclasses.replace(p, installed_by=owner) if p.name == "dropme" else p for p in packages
    ]
    edit = rewrite_databases(files, packages, {owner}, set(files))
    assert not any("dropme" in path for path in edit.drop)
    assert "app/node_modules/left/package.json" in edit.drop
