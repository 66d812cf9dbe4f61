"""What an executable needs before its first instruction runs: the interpreter named by a
script's `#!` line or an ELF file's PT_INTERP, and the shared libraries in DT_NEEDED, found the
way the dynamic loader finds them (DT_RPATH, DT_RUNPATH with $ORIGIN, ld.so.conf, the default
directories).

Only the first bytes of a script and the headers of an ELF file are read, from bytes the image
reader captured; nothing is executed.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

ELF_MAGIC = b"\x7fELF"
SHEBANG = b"#!"
# Enough for any ELF program and section header table we care about is not guaranteed, so the
# whole file is parsed when it was captured; a script's interpreter line fits in this.
SHEBANG_BYTES = 256

# glibc's built-in search path after ld.so.conf; musl's default path is the same set.
DEFAULT_LIBRARY_DIRS = ("lib", "usr/lib", "lib64", "usr/lib64", "usr/local/lib")


@dataclass(frozen=True)
class Needs:
    """What one executable file asks for: an interpreter (absolute, as written) and the
    shared-library names it links against, with the directories it adds to the search."""

    interpreter: str | None = None
    libraries: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


def needs(data: bytes) -> Needs:
    """The interpreter and libraries of a script or ELF file; nothing for other files or for an
    ELF file whose headers cannot be read."""
    if data.startswith(SHEBANG):
        return Needs(interpreter=script_interpreter(data))
    if not is_elf(data):
        return Needs()
    try:
        return _elf_needs(ELFFile(io.BytesIO(data)))
    except (ELFError, ValueError, KeyError, IndexError, AssertionError, OSError):
        return Needs()  # a damaged or exotic file: the trace still saw what it loaded


def script_interpreter(data: bytes) -> str | None:
    """The program of a `#!` line (`#!/usr/bin/env python3` gives /usr/bin/env)."""
    line = data[2:SHEBANG_BYTES].split(b"\n", 1)[0].strip()
    if not line:
        return None
    program = line.split()[0].decode("utf-8", "replace")
    return program if program.startswith("/") else None


def env_program(data: bytes) -> str | None:
    """For `#!/usr/bin/env NAME`, the NAME that env looks up on PATH."""
    if not data.startswith(SHEBANG):
        return None
    words = data[2:SHEBANG_BYTES].split(b"\n", 1)[0].split()
    if len(words) < 2 or not words[0].endswith(b"/env"):
        return None
    names = [w for w in words[1:] if not w.startswith(b"-")]
    return names[0].decode("utf-8", "replace") if names else None


def _elf_needs(elf: ELFFile) -> Needs:
    interpreter: str | None = None
    segment: Any  # pyelftools' segment and tag classes grow their attributes at run time
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_INTERP":
            interpreter = segment.get_interp_name()
    libraries: list[str] = []
    rpath: list[str] = []
    runpath: list[str] = []
    for section in elf.iter_sections():
        if not isinstance(section, DynamicSection):
            continue
        tag: Any
        for tag in section.iter_tags():
            if tag.entry.d_tag == "DT_NEEDED":
                libraries.append(tag.needed)
            elif tag.entry.d_tag == "DT_RPATH":
                rpath.extend(p for p in tag.rpath.split(":") if p)
            elif tag.entry.d_tag == "DT_RUNPATH":
                runpath.extend(p for p in tag.runpath.split(":") if p)
    return Needs(interpreter, tuple(libraries), tuple(rpath), tuple(runpath))


def ld_so_conf_dirs(
    read: Callable[[str], bytes | None], listdir: Callable[[str], Iterable[str]]
) -> list[str]:
    """The directories of etc/ld.so.conf and the files it includes, root-relative, in order."""
    found: list[str] = []
    seen: set[str] = set()

    def load(path: str, depth: int) -> None:
        if depth > 8 or path in seen:
            return
        seen.add(path)
        data = read(path)
        if data is None:
            return
        for raw in data.decode("utf-8", "replace").splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include"):
                for pattern in line.split()[1:]:
                    for included in _glob(pattern, path, listdir):
                        load(included, depth + 1)
                continue
            directory = line.strip("/")
            if directory and directory not in found:
                found.append(directory)

    load("etc/ld.so.conf", 0)
    return found


def _glob(pattern: str, including: str, listdir: Callable[[str], Iterable[str]]) -> list[str]:
    import fnmatch

    if not pattern.startswith("/"):
        pattern = posixpath.join("/" + posixpath.dirname(including), pattern)
    directory, _, name = pattern.strip("/").rpartition("/")
    return sorted(
        f"{directory}/{entry}" for entry in listdir(directory) if fnmatch.fnmatchcase(entry, name)
    )


def search_dirs(
    requester: str, found: Needs, configured: Iterable[str], multiarch: Iterable[str] = ()
) -> list[str]:
    """Where the loader looks for `found`'s libraries, root-relative: DT_RPATH (only without
    DT_RUNPATH), LD_LIBRARY_PATH is not known here, DT_RUNPATH, ld.so.conf, then the defaults."""
    origin = posixpath.dirname(requester)
    dirs: list[str] = []

    def add(entries: Iterable[str]) -> None:
        for entry in entries:
            expanded = entry.replace("${ORIGIN}", "/" + origin).replace("$ORIGIN", "/" + origin)
            clean = posixpath.normpath(expanded).strip("/")
            if clean not in dirs:
                dirs.append(clean)

    if not found.runpath:
        add(found.rpath)
    add(found.runpath)
    add(configured)
    add(f"{base}/{arch}" for arch in multiarch for base in ("lib", "usr/lib"))
    add(DEFAULT_LIBRARY_DIRS)
    return dirs
