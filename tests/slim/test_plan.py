"""What each mode keeps, on images assembled from layer ops (real ELF files from this machine
where the loader's view matters)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from slimline.image.files import ImageFiles
from slimline.image.sources import ImageConfig
from slimline.packages.catalog import catalog_image
from slimline.slim import elf
from slimline.slim.plan import (
    Mode,
    Selection,
    dependency_closure,
    link_chain,
    plan_static,
    plan_traced,
    regular_bytes,
)
from slimline.slim.static import removable
from tests.image.builders import Op
from tests.packages.helpers import debian_base, image_files, image_of, stanza

ARCH = "x86_64-linux-gnu"
LIBDIR = f"usr/lib/{ARCH}"


def _status(*stanzas: str) -> Op:
    return ("file", "var/lib/dpkg/status", "\n".join(stanzas).encode())


def _package(name: str, files: Sequence[str], depends: str = "", size: int = 10) -> list[Op]:
    ops: list[Op] = [("file", path, size) for path in files]
    listing = "\n".join(["/.", *("/" + f for f in files)]) + "\n"
    ops.append(("file", f"var/lib/dpkg/info/{name}.list", listing.encode()))
    ops.append(("file", f"var/lib/dpkg/info/{name}.md5sums", b""))
    return ops


def _pkg_stanza(name: str, depends: str = "") -> str:
    fields = {
        "Package": name,
        "Status": "install ok installed",
        "Version": "1.0",
        "Architecture": "amd64",
    }
    if depends:
        fields["Depends"] = depends
    return stanza(**fields)


def _plan(
    mode: Mode,
    files: ImageFiles,
    touched: set[str],
    executed: set[str] | None = None,
    selection: Selection | None = None,
    config: ImageConfig | None = None,
    contents: dict[str, bytes] | None = None,
):  # type: ignore[no-untyped-def]
    _, packages = catalog_image(files)
    available = contents or {}

    def read(path: str) -> bytes | None:
        captured = files.read(path)
        return captured if captured is not None else available.get(path)

    plan, unread = plan_traced(
        mode,
        files,
        config or ImageConfig(),
        packages,
        touched,
        executed or set(),
        read,
        selection or Selection(),
    )
    return plan, unread, packages


def test_link_chain_keeps_every_link_on_the_way() -> None:
    files = image_files(
        [
            *debian_base(),
            ("file", "usr/bin/dash", 100),
            ("symlink", "usr/bin/sh", "dash"),
        ]
    )
    assert link_chain(files, "bin/sh") == ["bin", "usr/bin/sh", "usr/bin/dash"]
    assert link_chain(files, "/bin/../usr/bin/sh") == ["usr/bin/sh", "usr/bin/dash"]
    assert link_chain(files, "bin/missing") == []


def test_link_chain_stops_on_a_loop() -> None:
    files = image_files([("symlink", "a", "b"), ("symlink", "b", "a")])
    assert link_chain(files, "a") == []


def _debian_packages() -> list[Op]:
    return [
        *debian_base(),
        _status(
            _pkg_stanza("app", "libfoo (>= 1), base-files"),
            _pkg_stanza("libfoo"),
            _pkg_stanza("base-files"),
            _pkg_stanza("perl-base"),
            _pkg_stanza("docs"),
        ),
        *_package("app", ["usr/bin/app", "usr/share/app/data"]),
        *_package("libfoo", ["usr/lib/libfoo.so.1"], size=50),
        *_package("base-files", ["etc/debian_version"], size=5),
        *_package("perl-base", ["usr/bin/perl"], size=1000),
        *_package("docs", ["usr/share/doc/big/manual"], size=2000),
        ("file", "app/main.py", 30),
        ("file", "app/README", 300),
    ]


def test_packages_mode_keeps_the_dependency_closure_of_touched_files() -> None:
    files = image_files(_debian_packages())
    plan, unread, packages = _plan(Mode.PACKAGES, files, {"usr/bin/app", "app/main.py"})
    assert not unread
    names = {p.name for p in packages if p.purl in plan.kept_packages}
    assert names == {"app", "libfoo", "base-files"}
    assert {"usr/bin/app", "usr/share/app/data", "usr/lib/libfoo.so.1"} <= plan.keep
    assert "app/main.py" in plan.keep  # touched, owned by no package
    assert "app/README" not in plan.keep  # untouched and unowned
    assert "usr/bin/perl" not in plan.keep
    assert "usr/share/doc/big/manual" not in plan.keep
    # the package database describes what stays
    assert "var/lib/dpkg/status" in plan.keep
    assert "var/lib/dpkg/info/libfoo.list" in plan.keep
    assert "var/lib/dpkg/info/perl-base.list" not in plan.keep
    closure = {"usr/bin/app", "usr/share/app/data", "usr/lib/libfoo.so.1", "app/main.py"}
    closure |= {"etc/debian_version"}
    assert plan.closure_bytes == regular_bytes(files, closure)
    assert plan.traced_bytes == regular_bytes(files, {"usr/bin/app", "app/main.py"})


def test_files_mode_keeps_only_touched_files_and_lists_partly_kept_packages() -> None:
    files = image_files(_debian_packages())
    plan, _, packages = _plan(Mode.FILES, files, {"usr/bin/app", "app/main.py"})
    assert "usr/bin/app" in plan.keep
    assert "usr/share/app/data" not in plan.keep
    assert "usr/lib/libfoo.so.1" not in plan.keep
    names = {p.name for p in packages if p.purl in plan.kept_packages}
    # etc/debian_version is in the safety set: base-files keeps one file
    assert names == {"app", "base-files"}
    assert plan.closure_bytes == 0


def test_exclude_and_include_patterns() -> None:
    files = image_files(_debian_packages())
    selection = Selection(include=("/usr/share/doc",), exclude=("app/*.py",))
    plan, _, _ = _plan(Mode.PACKAGES, files, {"usr/bin/app", "app/main.py"}, selection=selection)
    assert "app/main.py" not in plan.keep
    assert "usr/share/doc/big/manual" in plan.keep


def test_dependency_closure_follows_provides_and_alternatives() -> None:
    files = image_files(
        [
            _status(
                _pkg_stanza("app", "mail-transport-agent | exim4, libx"),
                stanza(
                    Package="postfix",
                    Status="install ok installed",
                    Version="3",
                    Architecture="amd64",
                    Provides="mail-transport-agent",
                ),
                _pkg_stanza("libx"),
                _pkg_stanza("unrelated"),
            ),
            *_package("app", ["usr/bin/app"]),
            *_package("postfix", ["usr/sbin/postfix"]),
            *_package("libx", ["usr/lib/libx.so"]),
            *_package("unrelated", ["usr/bin/other"]),
        ]
    )
    _, packages = catalog_image(files)
    app = [p for p in packages if p.name == "app"]
    kept = {p.name for p in dependency_closure(app, packages)}
    assert kept == {"app", "postfix", "libx"}


def test_safety_set_keeps_identity_nss_and_only_the_zones_in_use() -> None:
    nsswitch = b"passwd: files\ngroup: files\nhosts: files dns\n"
    files = image_files(
        [
            *debian_base(),
            ("file", "etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
            ("file", "etc/group", b"root:x:0:\n"),
            ("file", "etc/nsswitch.conf", nsswitch),
            ("file", "etc/ssl/certs/ca-certificates.crt", 200),
            ("file", f"{LIBDIR}/libnss_files.so.2", 10),
            ("file", f"{LIBDIR}/libnss_dns.so.2", 10),
            ("file", f"{LIBDIR}/libnss_ldap.so.2", 10),
            ("file", f"{LIBDIR}/libgcc_s.so.1", 10),
            ("file", "usr/share/zoneinfo/UTC", 100),
            ("file", "usr/share/zoneinfo/Europe/Paris", 100),
            ("file", "usr/share/zoneinfo/Asia/Tokyo", 100),
            ("symlink", "etc/localtime", "/usr/share/zoneinfo/UTC"),
            ("dir", "tmp", None),
        ]
    )
    config = ImageConfig(env=("TZ=Europe/Paris",))
    plan, _, _ = _plan(Mode.FILES, files, set(), config=config)
    for path in (
        "etc/passwd",
        "etc/group",
        "etc/nsswitch.conf",
        f"{LIBDIR}/libnss_files.so.2",
        f"{LIBDIR}/libnss_dns.so.2",
        f"{LIBDIR}/libgcc_s.so.1",
        "usr/share/zoneinfo/UTC",
        "usr/share/zoneinfo/Europe/Paris",
        "etc/localtime",
        "tmp",
    ):
        assert path in plan.keep, path
    assert f"{LIBDIR}/libnss_ldap.so.2" not in plan.keep
    assert "usr/share/zoneinfo/Asia/Tokyo" not in plan.keep
    assert plan.traced_bytes == 0


def test_gconv_is_kept_only_when_iconv_was_used() -> None:
    gconv = f"{LIBDIR}/gconv"
    layer: list[Op] = [
        *debian_base(),
        ("file", f"{gconv}/gconv-modules", 10),
        ("file", f"{gconv}/gconv-modules.cache", 10),
        ("file", f"{gconv}/UTF-16.so", 10),
        ("file", f"{gconv}/ISO8859-1.so", 10),
    ]
    files = image_files(layer)
    unused, _, _ = _plan(Mode.FILES, files, set())
    assert f"{gconv}/gconv-modules" not in unused.keep
    used, _, _ = _plan(Mode.FILES, files, {f"{gconv}/UTF-16.so"})
    assert {f"{gconv}/gconv-modules", f"{gconv}/gconv-modules.cache"} <= used.keep
    assert f"{gconv}/ISO8859-1.so" not in used.keep


def _host_library(name: str) -> Path:
    for directory in (f"/usr/lib/{ARCH}", f"/lib/{ARCH}"):
        path = Path(directory) / name
        if path.exists():
            return path.resolve()
    pytest.skip(f"{name} is not on this machine")


def test_files_mode_adds_the_interpreter_and_libraries_from_elf_headers() -> None:
    ls = Path(shutil.which("ls") or "/usr/bin/ls").resolve()
    needs = elf.needs(ls.read_bytes())
    assert needs.interpreter and "libc.so.6" in needs.libraries
    contents = {"usr/bin/ls": ls.read_bytes()}
    layer: list[Op] = [*debian_base(), ("symlink", "lib64", "usr/lib64")]
    layer.append(("file", "usr/bin/ls", contents["usr/bin/ls"]))
    for library in needs.libraries:
        data = _host_library(library).read_bytes()
        contents[f"{LIBDIR}/{library}"] = data
        layer.append(("file", f"{LIBDIR}/{library}", data))
        for inner in elf.needs(data).libraries:
            if inner not in needs.libraries:
                inner_data = _host_library(inner).read_bytes()
                contents[f"{LIBDIR}/{inner}"] = inner_data
                layer.append(("file", f"{LIBDIR}/{inner}", inner_data))
    loader = needs.interpreter.rpartition("/")[2]
    layer.append(("file", f"{LIBDIR}/{loader}", 100))
    layer.append(("symlink", f"usr/lib64/{loader}", f"../lib/{ARCH}/{loader}"))
    layer.append(("file", f"{LIBDIR}/libunused.so.1", 100))
    files = image_files(layer)
    # only ls was traced: the loader's own opens were not, to show the headers are enough
    plan, unread, _ = _plan(Mode.FILES, files, {"bin/ls"}, {"bin/ls"}, contents=contents)
    assert not unread
    for library in needs.libraries:
        assert f"{LIBDIR}/{library}" in plan.keep, library
    assert {"lib64", f"usr/lib64/{loader}", f"{LIBDIR}/{loader}"} <= plan.keep
    assert f"{LIBDIR}/libunused.so.1" not in plan.keep
    # the interpreter counts in the runnable minimum; the libraries it loads are in `library`
    assert f"{LIBDIR}/{loader}" in plan.traced
    assert f"{LIBDIR}/libc.so.6" in plan.reasons["library"]


def test_a_missing_read_is_reported_for_a_second_pass() -> None:
    ls = Path(shutil.which("ls") or "/usr/bin/ls").resolve()
    files = image_files([*debian_base(), ("file", "usr/bin/ls", ls.read_bytes())])
    _, unread, _ = _plan(Mode.FILES, files, {"usr/bin/ls"}, {"usr/bin/ls"})
    assert unread == {"usr/bin/ls"}


def test_a_script_brings_its_interpreter_and_env_lookups() -> None:
    script = b"#!/usr/bin/env python3\nprint(1)\n"
    files = image_files(
        [
            *debian_base(),
            ("file", "app/run.py", script),
            ("file", "usr/bin/env", 10),
            ("file", "usr/bin/python3.11", 10),
            ("symlink", "usr/bin/python3", "python3.11"),
        ]
    )
    config = ImageConfig(env=("PATH=/usr/local/bin:/usr/bin",))
    contents = {"app/run.py": script}
    plan, unread, _ = _plan(
        Mode.FILES, files, {"app/run.py"}, {"app/run.py"}, config=config, contents=contents
    )
    assert not unread
    assert {"usr/bin/env", "usr/bin/python3", "usr/bin/python3.11"} <= plan.keep


def test_static_mode_removes_caches_docs_and_headers_but_keeps_licences() -> None:
    layers = [
        *debian_base(),
        ("file", "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", 5000),
        ("file", "usr/share/doc/libfoo/changelog.gz", 3000),
        ("file", "usr/share/doc/libfoo/copyright", 100),
        ("file", "usr/share/man/man1/ls.1.gz", 400),
        ("file", "usr/include/foo.h", 700),
        ("file", "usr/bin/app", 900),
    ]
    image = image_of(layers)
    from slimline.image.read import read_image
    from slimline.packages.catalog import capture_predicate

    read = read_image(image, capture_predicate())
    os_release, packages = catalog_image(read.files)
    drop = removable(read.files, read.layers, packages, os_release)
    plan = plan_static(read.files, drop, Selection(exclude=("usr/bin/app",)))
    assert plan.mode is Mode.STATIC
    assert "usr/share/doc/libfoo/copyright" in plan.keep
    for gone in (
        "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
        "usr/share/doc/libfoo/changelog.gz",
        "usr/share/man/man1/ls.1.gz",
        "usr/include/foo.h",
        "usr/bin/app",
    ):
        assert gone not in plan.keep, gone


def test_a_file_the_app_creates_keeps_the_directory_it_goes_in() -> None:
    files = image_files([*debian_base(), ("dir", "var/log/app", None), ("file", "var/log/x", 5)])
    plan, _, _ = _plan(Mode.FILES, files, {"var/log/app/out.log", "nowhere/at/all"})
    assert "var/log/app" in plan.keep
    assert "var/log/x" not in plan.keep
    assert plan.traced_bytes == 0


def test_include_patterns_that_match_nothing_are_named() -> None:
    files = image_files([*debian_base(), ("file", "app/a.txt", 5)])
    selection = Selection(include=("/app", "/opt/missing", "app/*.txt", "*.none"))
    assert selection.unmatched(files) == ["/opt/missing", "*.none"]


def test_a_dependency_on_the_package_manager_is_not_followed() -> None:
    files = image_files(
        [
            _status(
                _pkg_stanza("python3-minimal", "dpkg (>= 1.13), libc"),
                _pkg_stanza("dpkg", "tar"),
                _pkg_stanza("tar"),
                _pkg_stanza("libc"),
            ),
            *_package("python3-minimal", ["usr/bin/python3"]),
            *_package("dpkg", ["usr/bin/dpkg"]),
            *_package("tar", ["usr/bin/tar"]),
            *_package("libc", ["usr/lib/libc.so.6"]),
            ("file", "var/lib/dpkg/info/python3-minimal.postinst", 10),
        ]
    )
    plan, _, packages = _plan(Mode.PACKAGES, files, {"usr/bin/python3"})
    names = {p.name for p in packages if p.purl in plan.kept_packages}
    assert names == {"python3-minimal", "libc"}
    # without dpkg, maintainer scripts go; the file lists stay for scanners
    assert "var/lib/dpkg/info/python3-minimal.list" in plan.keep
    assert "var/lib/dpkg/info/python3-minimal.postinst" not in plan.keep
    used, _, packages = _plan(Mode.PACKAGES, files, {"usr/bin/python3", "usr/bin/dpkg"})
    assert {p.name for p in packages if p.purl in used.kept_packages} == {
        "python3-minimal",
        "libc",
        "dpkg",
        "tar",
    }
    assert "var/lib/dpkg/info/python3-minimal.postinst" in used.keep


def test_the_ca_bundle_is_kept_only_when_something_can_speak_tls() -> None:
    layer: list[Op] = [
        *debian_base(),
        ("file", "etc/ssl/certs/ca-certificates.crt", 200),
        ("file", "usr/bin/tool", 10),
        ("file", f"{LIBDIR}/libcrypto.so.3", b"\x7fELF...OPENSSLDIR /usr/lib/ssl..."),
    ]
    files = image_files(layer)
    plain, _, _ = _plan(Mode.FILES, files, {"usr/bin/tool"}, contents={"usr/bin/tool": b"#!x"})
    assert "etc/ssl/certs/ca-certificates.crt" not in plain.keep
    contents = {f"{LIBDIR}/libcrypto.so.3": b"\x7fELF...OPENSSLDIR /usr/lib/ssl..."}
    tls, _, _ = _plan(
        Mode.FILES, files, {"usr/bin/tool", f"{LIBDIR}/libcrypto.so.3"}, contents=contents
    )
    assert "etc/ssl/certs/ca-certificates.crt" in tls.keep
    whole, _, _ = _plan(Mode.PACKAGES, files, {"usr/bin/tool"})
    assert "etc/ssl/certs/ca-certificates.crt" in whole.keep
