"""Interpreters and libraries from `#!` lines and ELF headers (real ELF files of this machine),
and the loader's search path."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from slimline.slim import elf


def test_an_elf_program_names_its_loader_and_libraries() -> None:
    data = Path(shutil.which("ls") or "/usr/bin/ls").resolve().read_bytes()
    found = elf.needs(data)
    assert found.interpreter is not None and "ld-linux" in found.interpreter
    assert "libc.so.6" in found.libraries


def test_a_shared_library_has_no_interpreter_but_its_own_needs() -> None:
    libc = next(Path("/").glob("usr/lib/*-linux-gnu/libc.so.6")).resolve()
    found = elf.needs(libc.read_bytes())
    assert any("ld-linux" in name for name in found.libraries)


def test_scripts_name_their_interpreter() -> None:
    assert elf.needs(b"#!/bin/sh -e\necho\n").interpreter == "/bin/sh"
    assert elf.needs(b"#! /usr/bin/python3\n").interpreter == "/usr/bin/python3"
    assert elf.needs(b"#!relative\n").interpreter is None
    assert elf.env_program(b"#!/usr/bin/env -S node --flag\n") == "node"
    assert elf.env_program(b"#!/usr/bin/env python3\n") == "python3"
    assert elf.env_program(b"#!/bin/sh\n") is None


def test_damaged_elf_and_other_files_need_nothing() -> None:
    data = Path(shutil.which("ls") or "/usr/bin/ls").resolve().read_bytes()
    assert elf.needs(data[:200]) == elf.Needs()
    assert elf.needs(b"plain text") == elf.Needs()


@given(st.binary(max_size=300))
def test_any_bytes_are_read_without_raising(data: bytes) -> None:
    elf.needs(elf.ELF_MAGIC + data)
    elf.needs(b"#!" + data)


def test_ld_so_conf_with_includes() -> None:
    tree = {
        "etc/ld.so.conf": b"include /etc/ld.so.conf.d/*.conf\n/opt/lib # comment\n",
        "etc/ld.so.conf.d/a.conf": b"/usr/local/lib\n",
        "etc/ld.so.conf.d/b.conf": b"include ld.so.conf.d/a.conf\n/usr/lib/x86_64-linux-gnu\n",
        "etc/ld.so.conf.d/readme": b"/ignored\n",
    }

    def listdir(directory: str) -> list[str]:
        prefix = directory + "/"
        return [p[len(prefix) :] for p in tree if p.startswith(prefix)]

    dirs = elf.ld_so_conf_dirs(tree.get, listdir)
    assert dirs == ["usr/local/lib", "usr/lib/x86_64-linux-gnu", "opt/lib"]


def test_search_order_rpath_runpath_origin() -> None:
    with_rpath = elf.Needs(rpath=("/opt/a",), libraries=("x.so",))
    assert elf.search_dirs("app/bin/tool", with_rpath, [])[0] == "opt/a"
    both = elf.Needs(rpath=("/opt/a",), runpath=("$ORIGIN/../lib",), libraries=("x.so",))
    dirs = elf.search_dirs("app/bin/tool", both, ["etc/conf"], ["x86_64-linux-gnu"])
    assert dirs[:3] == ["app/lib", "etc/conf", "lib/x86_64-linux-gnu"]
    assert "opt/a" not in dirs  # DT_RPATH is ignored when DT_RUNPATH is present
