"""dpkg's status database and distroless status.d, read from assembled images."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slimline.packages.base import Package
from slimline.packages.dpkg import CATALOGER, STATUS, dep5_licenses
from tests.image.builders import Op

from .helpers import debian_base, files_from, image_files, stanza

LIBC6 = stanza(
    Package="libc6",
    Status="install ok installed",
    Priority="optional",
    Installed_Size="12345",
    Architecture="amd64",
    Multi_Arch="same",
    Source="glibc (2.36-9+deb12u4)",
    Version="2.36-9+deb12u4",
    Depends="libgcc-s1",
    Description="GNU C Library: Shared libraries\n Contains the standard libraries.\n .\n More.",
)
BASH = stanza(
    Package="bash",
    Essential="yes",
    Status="install ok installed",
    Architecture="amd64",
    Version="5.2.15-2+b2",
    Pre_Depends="libc6 (>= 2.36), libtinfo6 (>= 6)",
    Depends="base-files (>= 2.1.12), debianutils (>= 5.6-0.1) | busybox:any",
)
REMOVED = stanza(
    Package="oldtool", Status="deinstall ok config-files", Architecture="amd64", Version="1.0-1"
)
HALF = stanza(
    Package="halfway", Status="install ok half-configured", Architecture="all", Version="2:0.5"
)

DEP5 = b"""Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: bash

Files: *
Copyright: Free Software Foundation
License: GPL-3+

Files: lib/readline/*
Copyright: FSF
License:   GPL-3+ with Bison exception

License: GPL-3+
 This program is free software.
 License: not a field, a continuation line
"""

LIBC6_LIST = "\n".join(
    [
        "/.",
        "/lib",
        "/lib/x86_64-linux-gnu",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr",
        "/usr/share/doc/libc6/copyright",
        "/usr/lib/gone.so",
    ]
).encode()


def standard_image() -> list[list[Op]]:
    status = "\n".join([LIBC6, BASH, REMOVED, HALF]).encode()
    return [
        [
            *debian_base(),
            ("file", "usr/lib/x86_64-linux-gnu/libc.so.6", 2000),
            (
                "hardlink",
                "usr/lib/x86_64-linux-gnu/libm.so.6",
                "usr/lib/x86_64-linux-gnu/libc.so.6",
            ),
            ("file", "usr/share/doc/libc6/copyright", b"glibc: free-form.\nLicense: prose\n"),
            ("file", "var/lib/dpkg/info/libc6:amd64.list", LIBC6_LIST),
            ("file", STATUS, status),
        ],
        [
            ("file", "usr/bin/bash", 1000),
            ("file", "usr/share/doc/bash/copyright", DEP5),
            ("symlink", "usr/share/doc/bash-doc", "bash"),
            ("file", "var/lib/dpkg/info/bash.list", b"/.\n/bin\n/bin/bash\n/usr/share/doc/bash\n"),
            ("file", STATUS, status),
        ],
    ]


@pytest.fixture(scope="module")
def packages() -> dict[str, Package]:
    found = CATALOGER.catalog(image_files(*standard_image()))
    return {p.name: p for p in found}


def test_installed_and_half_configured_packages_are_listed(packages: dict[str, Package]) -> None:
    assert sorted(packages) == ["bash", "halfway", "libc6"]
    assert packages["halfway"].metadata["status"] == "half-configured"
    assert "status" not in packages["libc6"].metadata


def test_purl_namespace_and_distro_come_from_os_release(packages: dict[str, Package]) -> None:
    assert packages["libc6"].purl == (
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
    )
    assert packages["halfway"].purl == "pkg:deb/debian/halfway@2:0.5?arch=all&distro=debian-12"


def test_fields(packages: dict[str, Package]) -> None:
    libc6 = packages["libc6"]
    assert (libc6.version, libc6.arch, libc6.ecosystem, libc6.cataloger) == (
        "2.36-9+deb12u4",
        "amd64",
        "deb",
        "dpkg",
    )
    assert (libc6.source_name, libc6.source_version) == ("glibc", "2.36-9+deb12u4")
    assert libc6.depends == ("libgcc-s1",)
    assert libc6.location == STATUS
    assert libc6.metadata["installed_size"] == str(12345 * 1024)
    bash = packages["bash"]
    # no Source field: the binary is its own source, as dpkg-query's ${source:Package} says
    assert (bash.source_name, bash.source_version) == ("bash", "5.2.15-2+b2")
    assert bash.depends == ("libc6", "libtinfo6", "base-files", "debianutils", "busybox")


def test_files_exist_are_not_directories_and_follow_merged_usr(
    packages: dict[str, Package],
) -> None:
    libc6 = packages["libc6"]
    # /lib is a directory to dpkg but a link in the image; /usr/lib/gone.so is not there
    assert libc6.files == (
        "usr/lib/x86_64-linux-gnu/libc.so.6",
        "usr/lib/x86_64-linux-gnu/libm.so.6",
        "usr/share/doc/libc6/copyright",
    )
    # libm is a hard link to libc: its bytes count once
    assert libc6.size_bytes == 2000 + len(b"glibc: free-form.\nLicense: prose\n")
    assert packages["bash"].files == ("usr/bin/bash",)
    assert packages["bash"].size_bytes == 1000


def test_layer_is_where_the_file_list_was_written(packages: dict[str, Package]) -> None:
    assert packages["libc6"].layer == 0
    assert packages["bash"].layer == 1
    # without a list, the layer that last wrote the status file
    assert packages["halfway"].layer == 1
    assert packages["halfway"].files == () and packages["halfway"].size_bytes == 0


def test_licenses_only_from_machine_readable_copyright(packages: dict[str, Package]) -> None:
    assert packages["bash"].licenses == ("GPL-3+", "GPL-3+ with Bison exception")
    assert packages["libc6"].licenses == ()
    assert packages["halfway"].licenses == ()


def test_dep5_licenses_needs_the_format_header() -> None:
    assert dep5_licenses(DEP5.decode()) == ("GPL-3+", "GPL-3+ with Bison exception")
    assert dep5_licenses("Upstream: x\nLicense: MIT\n") == ()
    assert dep5_licenses("format: x\n\nfiles: *\nlicense: MIT\nLICENSE: MIT\n") == ("MIT",)


def test_copyright_through_a_linked_doc_directory() -> None:
    status = stanza(
        Package="bash-doc", Status="install ok installed", Version="1", Architecture="all"
    )
    layers = standard_image()
    layers.append([("file", STATUS, status.encode())])
    (package,) = CATALOGER.catalog(image_files(*layers))
    assert package.licenses == ("GPL-3+", "GPL-3+ with Bison exception")


def test_multi_arch_same_package_of_two_architectures() -> None:
    i386 = LIBC6.replace("amd64", "i386")
    status = f"{LIBC6}\n{i386}".encode()
    files = image_files(
        [
            *debian_base(),
            ("file", "usr/lib/x86_64-linux-gnu/libc.so.6", 10),
            ("file", "usr/lib/i386-linux-gnu/libc.so.6", 20),
            ("file", "var/lib/dpkg/info/libc6:amd64.list", b"/lib/x86_64-linux-gnu/libc.so.6\n"),
            ("file", "var/lib/dpkg/info/libc6:i386.list", b"/lib/i386-linux-gnu/libc.so.6\n"),
            ("file", STATUS, status),
        ]
    )
    found = {p.arch: p for p in CATALOGER.catalog(files)}
    assert sorted(found) == ["amd64", "i386"]
    assert found["i386"].files == ("usr/lib/i386-linux-gnu/libc.so.6",)
    assert found["i386"].size_bytes == 20
    assert found["amd64"].purl.endswith("?arch=amd64&distro=debian-12")
    assert found["i386"].purl.endswith("?arch=i386&distro=debian-12")


def test_corrupt_stanzas_are_skipped_not_fatal() -> None:
    status = b"".join(
        [
            b"\xff\xfe garbage without a colon\n",
            b"Package: broken\nStatus: install ok installed\n\n",
            b"Version: 1.0\nArchitecture: amd64\n\n",
            b"Package: \nVersion: 1\n\n",
            b"Package: caf\xe9\nVersion: 1.0\nArchitecture: amd64\nStatus: x\n\n",
            BASH.encode(),
        ]
    )
    found = CATALOGER.catalog(files_from({STATUS: status}))
    assert [p.name for p in found] == ["bash", "caf\ufffd"]


def test_without_os_release_the_namespace_is_debian() -> None:
    (package,) = CATALOGER.catalog(files_from({STATUS: BASH.encode()}))
    assert package.purl == "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64"


def test_ubuntu_namespace() -> None:
    os_release = b'ID=ubuntu\nVERSION_ID="22.04"\nID_LIKE=debian\n'
    files = files_from({"etc/os-release": os_release, STATUS: BASH.encode()})
    (package,) = CATALOGER.catalog(files)
    assert package.purl == "pkg:deb/ubuntu/bash@5.2.15-2%2Bb2?arch=amd64&distro=ubuntu-22.04"


def test_distroless_status_d() -> None:
    base_files = stanza(Package="base-files", Version="12.4+deb12u5", Architecture="amd64")
    libc6 = stanza(Package="libc6", Version="2.36-9", Architecture="amd64", Source="glibc")
    md5sums = (
        b"0123456789abcdef0123456789abcdef  lib/x86_64-linux-gnu/libc.so.6\n"
        b"0123456789abcdef0123456789abcdef  usr/share/doc/libc6/changelog.gz\n"
        b"garbage\n"
    )
    files = image_files(
        [
            ("file", "etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
            ("file", "lib/x86_64-linux-gnu/libc.so.6", 300),
            ("file", "usr/share/doc/libc6/changelog.gz", 40),
            ("file", "var/lib/dpkg/status.d/base", base_files.encode()),
            ("file", "var/lib/dpkg/status.d/libc6", libc6.encode()),
            ("file", "var/lib/dpkg/status.d/libc6.md5sums", md5sums),
        ]
    )
    found = {p.name: p for p in CATALOGER.catalog(files)}
    assert sorted(found) == ["base-files", "libc6"]
    libc = found["libc6"]
    assert libc.location == "var/lib/dpkg/status.d/libc6"
    assert libc.files == ("lib/x86_64-linux-gnu/libc.so.6", "usr/share/doc/libc6/changelog.gz")
    assert libc.size_bytes == 340
    assert (libc.source_name, libc.source_version) == ("glibc", "2.36-9")
    assert found["base-files"].files == ()
    assert found["base-files"].purl == (
        "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12"
    )


def test_status_wins_over_status_d_for_the_same_package() -> None:
    files = files_from(
        {
            STATUS: BASH.encode(),
            "var/lib/dpkg/status.d/bash": BASH.replace("5.2.15-2+b2", "0.1").encode(),
        }
    )
    (package,) = CATALOGER.catalog(files)
    assert package.version == "5.2.15-2+b2"


def test_deleted_status_file_lists_nothing() -> None:
    layers = standard_image()
    layers.append([("whiteout", "var/lib/dpkg", None)])
    assert CATALOGER.catalog(image_files(*layers)) == []


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/lib/dpkg/status", True),
        ("var/lib/dpkg/status-old", False),
        ("var/lib/dpkg/status.d/libc6", True),
        ("var/lib/dpkg/status.d/libc6.md5sums", True),
        ("var/lib/dpkg/info/libc6:amd64.list", True),
        ("var/lib/dpkg/info/libc6:amd64.md5sums", False),
        ("usr/share/doc/bash/copyright", True),
        ("usr/share/doc/bash/examples/copyright", False),
        ("usr/lib/python3/copyright", False),
        ("etc/passwd", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert CATALOGER.wants(path) is wanted


# ---- the status parser against generated databases --------------------------------------------

# from_regex would be closer to Debian policy's grammar but is slow to draw from
NAMES = st.builds(
    "".join,
    st.tuples(
        st.sampled_from("abcz019"), st.text(alphabet="abcxyz0189+.-", min_size=1, max_size=15)
    ),
)
VERSIONS = st.builds(
    lambda epoch, upstream, revision: f"{epoch}{upstream}{revision}",
    st.sampled_from(["", "1:", "2:"]),
    st.builds("".join, st.tuples(st.sampled_from("0129"), st.text("ab09.+~", max_size=8))),
    st.sampled_from(["", "-1", "-2+b1", "-9+deb12u4", "~rc1-0.1"]),
)
ARCHES = st.sampled_from(["amd64", "arm64", "all", "i386", "s390x"])
STATES = st.sampled_from(
    [
        "installed",
        "half-configured",
        "unpacked",
        "triggers-pending",
        "config-files",
        "not-installed",
    ]
)


@st.composite
def dpkg_packages(draw: st.DrawFn) -> dict[str, object]:
    return {
        "name": draw(NAMES),
        "version": draw(VERSIONS),
        "arch": draw(ARCHES),
        "state": draw(STATES),
        "source": draw(st.none() | st.tuples(NAMES, st.none() | VERSIONS)),
        "depends": draw(st.lists(st.lists(NAMES, min_size=1, max_size=2), max_size=3)),
        "description": draw(
            st.lists(st.text(alphabet="abc .:", min_size=1, max_size=6), max_size=2)
        ),
    }


def render(package: dict[str, object]) -> str:
    lines = [f"Package: {package['name']}", f"Status: install ok {package['state']}"]
    source = package["source"]
    if isinstance(source, tuple):
        lines.append(f"Source: {source[0]}" + (f" ({source[1]})" if source[1] else ""))
    lines += [f"Version: {package['version']}", f"Architecture: {package['arch']}"]
    depends = package["depends"]
    assert isinstance(depends, list)
    if depends:
        groups = [" | ".join(f"{name} (>= 1.0)" for name in group) for group in depends]
        lines.append("Depends: " + ", ".join(groups))
    description = package["description"]
    assert isinstance(description, list)
    lines.append("Description: summary")
    lines += [" " + (line.strip() or ".") for line in description]
    return "\n".join(lines) + "\n"


@given(st.lists(dpkg_packages(), max_size=5, unique_by=lambda p: (p["name"], p["arch"])))
def test_generated_databases_round_trip(generated: list[dict[str, object]]) -> None:
    status = "\n".join(render(p) for p in generated).encode()
    found = {(p.name, p.arch): p for p in CATALOGER.catalog(files_from({STATUS: status}))}
    expected = [p for p in generated if p["state"] not in ("config-files", "not-installed")]
    assert set(found) == {(p["name"], p["arch"]) for p in expected}
    for generated_package in expected:
        package = found[(str(generated_package["name"]), str(generated_package["arch"]))]
        assert package.version == generated_package["version"]
        source = generated_package["source"]
        if isinstance(source, tuple):
            assert package.source_name == source[0]
            assert package.source_version == (source[1] or generated_package["version"])
        else:
            assert package.source_name == generated_package["name"]
        depends = generated_package["depends"]
        assert isinstance(depends, list)
        assert package.depends == tuple(dict.fromkeys(n for group in depends for n in group))


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    CATALOGER.catalog(files_from({STATUS: data, "var/lib/dpkg/status.d/x": data}))


@given(st.text(alphabet="Pakgevrsion:: \n\t\x00é()|,", max_size=400))
def test_fieldlike_text_never_crashes(text: str) -> None:
    CATALOGER.catalog(files_from({STATUS: text.encode()}))
