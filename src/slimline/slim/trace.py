"""Which files a program in a container uses, seen by the host's strace.

The host's ``strace``, its dynamic loader and the libraries it links against are put under
``/.slimline-trace/`` in a created (not started) container. Because the loader is invoked
by path with its own library directory, the bundle runs in any image of the host's
architecture: glibc or musl based, distroless, even scratch. Nothing needs privileges: a
program may trace its own children under Docker's default seccomp profile and capabilities.

A container's command is traced with ``-DD``: strace runs as the program's grandchild in a
process group of its own, so the program keeps the process id it would have had (PID 1), gets
the engine's signals itself and ends the container with its own exit code, exactly as without
tracing. strace writes out what it saw before every wait, so the trace is complete even when
the container ends with its PID 1. Commands run with ``docker exec`` are traced with strace as
their parent, so they end with the exec.

:func:`parse_strace` turns strace's output into a :class:`Trace`: the paths the program looked
at, root-relative and lexically normalised (symbolic links are not followed: the image's tree
resolves them), which of them it executed, and which it never found.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from slimline.image.sources.base import ImageConfig
from slimline.slim.elf import ld_so_conf_dirs, needs, search_dirs
from slimline.slim.errors import SlimError

TRACE_DIR = "/.slimline-trace"
OUTPUT_DIR = f"{TRACE_DIR}/out"
LOADER = f"{TRACE_DIR}/ld.so"
LIBRARY_DIR = f"{TRACE_DIR}/lib"
STRACE = f"{TRACE_DIR}/strace"

# Paths never reported: the bundle itself and the kernel's virtual filesystems.
_IGNORED_TOPS = frozenset({TRACE_DIR.strip("/"), "proc", "sys", "dev"})
# %file: every call taking a path; %process: forks (to follow the working directory) and
# execs; fchdir changes the working directory through a descriptor.
_TRACE_SET = "trace=%file,%process,fchdir"
_MIN_VERSION = (4, 17)  # %file and %process classes
# --seccomp-bpf (only the traced calls stop the program) and -DD (strace in its own process
# group, out of reach of a kill(0, ...) by the program)
_MODERN_VERSION = (5, 3)
# strace's own messages on standard error, among the program's
_STRACE_SAYS = re.compile(rf"^(?:{re.escape(STRACE)}|strace): (.*)$", re.MULTILINE)
_CANNOT_STAT = re.compile(r"Can't stat '(.*)': No such file or directory")


# ---- the trace ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    """What traced programs did with the filesystem.

    ``paths``: every path looked up (opened, stat'ed, accessed, read as a link, executed,
    listed, changed into, created or removed), found or not, plus the initial working
    directory; root-relative ("usr/bin/env"), without /proc, /sys, /dev. ``executed``: the
    paths of successful execve calls (scripts included: their interpreters are the kernel's
    business and not in the trace). ``missing``: the paths every lookup of which failed with
    ENOENT or ENOTDIR.
    """

    paths: frozenset[str] = frozenset()
    executed: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()

    @property
    def found(self) -> frozenset[str]:
        return self.paths - self.missing

    @staticmethod
    def merge(*traces: Trace) -> Trace:
        """One trace for several runs: a path is missing only if no run found it."""
        paths: set[str] = set()
        executed: set[str] = set()
        missing: set[str] = set()
        for trace in traces:
            paths |= trace.paths
            executed |= trace.executed
            missing |= trace.missing
        found = {p for trace in traces for p in trace.found}
        return Trace(frozenset(paths), frozenset(executed), frozenset(missing - found))


# How each traced call names its paths. D: a directory descriptor, P: a path, X: a string that
# is not a path looked up (a symbolic link's target).
_STRING = r'"((?:[^"\\]|\\.)*)"'
_DIRFD = r"(AT_FDCWD|-?\d+)(?:<((?:[^>\\]|\\.)*)>)?"
_FD = r"-?\d+(?:<(?:[^>\\]|\\.)*>)?"
_LAYOUTS = {
    "P": re.compile(_STRING),
    "DP": re.compile(f"{_DIRFD}, {_STRING}"),
    "PP": re.compile(f"{_STRING}, {_STRING}"),
    "DPDP": re.compile(f"{_DIRFD}, {_STRING}, {_DIRFD}, {_STRING}"),
    "XP": re.compile(f"{_STRING}, {_STRING}"),
    "XDP": re.compile(f"{_STRING}, {_DIRFD}, {_STRING}"),
    "FP": re.compile(f"{_FD}, {_STRING}"),
}
_PATH_ARG0 = (
    "open creat access stat lstat stat64 lstat64 oldstat oldlstat readlink chdir mkdir rmdir "
    "unlink chmod chown chown32 lchown lchown32 truncate truncate64 statfs statfs64 utime "
    "utimes mknod getxattr lgetxattr setxattr lsetxattr listxattr llistxattr removexattr "
    "lremovexattr chroot uselib swapon swapoff acct execve umount umount2"
)
_DIRFD_PATH = (
    "openat openat2 faccessat faccessat2 newfstatat fstatat64 statx readlinkat execveat mkdirat "
    "mknodat unlinkat fchmodat fchmodat2 fchownat utimensat futimesat name_to_handle_at "
    "open_tree fspick mount_setattr"
)
_CALLS: dict[str, str] = {
    **dict.fromkeys(_PATH_ARG0.split(), "P"),
    **dict.fromkeys(_DIRFD_PATH.split(), "DP"),
    **dict.fromkeys(("rename", "link"), "PP"),
    **dict.fromkeys(("renameat", "renameat2", "linkat"), "DPDP"),
    "symlink": "XP",
    "symlinkat": "XDP",
    "inotify_add_watch": "FP",
}
_FORKS = frozenset({"clone", "clone3", "fork", "vfork"})
_LINE = re.compile(r"(?:(\d+) +|\[pid +(\d+)\] )?(?:<\.\.\. (\w+) resumed>|(\w+)\()")
_RESULT = re.compile(
    r" = (-?\d+|\?)(?:<(?:[^>\\]|\\.)*>)?(?: (E[A-Z0-9]+)(?: \([^()]*\))?)?(?: \(.*\))?\s*$"
)
_FCHDIR = re.compile(r"-?\d+<((?:[^>\\]|\\.)*)>")
_GETCWD = re.compile(_STRING)
_UNFINISHED = " <unfinished ...>"
_EXECS = frozenset({"execve", "execveat"})
_ABSENT = frozenset({"ENOENT", "ENOTDIR"})
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)")
_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "e": 27}


def _unescape(text: str) -> str:
    """A string as strace quotes it (C escapes, octal for other bytes) back to the path."""
    if "\\" not in text:
        return text
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += text[position : match.start()].encode("utf-8", "surrogateescape")
        code = match.group(1)
        if code[0] == "x" and len(code) == 3:
            out.append(int(code[1:], 16))
        elif code[0] in "01234567":
            out.append(int(code, 8) & 0xFF)
        elif code in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[code])
        else:  # \\ and \" stand for themselves
            out += code.encode("utf-8", "surrogateescape")
        position = match.end()
    out += text[position:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "surrogateescape")


def _result(rest: str) -> tuple[str, str | None]:
    """A call's return value ("?" when unknown) and its errno name, if it failed."""
    result = _RESULT.search(rest)
    return (result.group(1), result.group(2)) if result else ("?", None)


def _decoration(text: str | None) -> str | None:
    """The path of a descriptor as ``-y`` shows it, or None when it is not a file's path."""
    if not text or not text.startswith("/"):
        return None  # socket:[...], pipe:[...], anon_inode:...
    path = _unescape(text)
    return path.removesuffix(" (deleted)")


def _absolute(base: str | None, path: str) -> str | None:
    """``path`` made absolute against ``base`` and normalised lexically; None when relative
    to an unknown directory."""
    if not path.startswith("/"):
        if base is None:
            return None
        path = f"{base}/{path}"
    return posixpath.normpath("/" + path.lstrip("/"))


class _Parser:
    def __init__(self, workdir: str) -> None:
        self.workdir = posixpath.normpath("/" + (workdir or "/").lstrip("/"))
        self.cwd: dict[int, str] = {}
        self.unfinished: dict[int, tuple[str, str]] = {}
        self.forking: list[int] = []  # processes inside a fork call, newest last
        self.found: set[str] = {self.workdir}
        self.absent: set[str] = set()
        self.executed: set[str] = set()
        # (directory, path as quoted) → the absolute path, "" when it cannot be known
        self._normalised: dict[tuple[str | None, str], str] = {}

    def line(self, line: str) -> None:
        match = _LINE.match(line)
        if match is None:
            return
        pid = int(match.group(1) or match.group(2) or 0)
        if pid not in self.cwd:
            # a new process: its parent is (most likely) the one still inside a fork call
            parent = self.forking[-1] if self.forking else None
            self.cwd[pid] = self.cwd.get(parent, self.workdir) if parent else self.workdir
        resumed = match.group(3)
        rest = line[match.end() :].rstrip("\n")
        if resumed is not None:
            head = self.unfinished.pop(pid, None)
            if head is None or head[0] != resumed:
                return
            name, rest = resumed, head[1] + rest
        else:
            name = match.group(4)
            if name not in _CALLS and name not in _FORKS and name not in ("fchdir", "getcwd"):
                return
            if rest.endswith(_UNFINISHED):
                self.unfinished[pid] = (name, rest[: -len(_UNFINISHED)])
                if name in _FORKS:
                    self.forking.append(pid)
                return
        self.call(pid, name, rest)

    def finish(self) -> None:
        """Calls still unfinished when the trace ended (the process was killed): their paths
        were looked up, with an unknown result."""
        for pid, (name, rest) in list(self.unfinished.items()):
            self.call(pid, name, rest + ") = ?")
        self.unfinished.clear()

    def call(self, pid: int, name: str, rest: str) -> None:
        if name in _FORKS:
            value, _ = _result(rest)
            if pid in self.forking:
                self.forking.remove(pid)
            if value.isdigit():
                self.cwd.setdefault(int(value), self.cwd[pid])
            return
        if name == "fchdir":
            fchdir = _FCHDIR.match(rest)
            directory = _decoration(fchdir.group(1)) if fchdir else None
            if directory is not None and _result(rest)[0] == "0":
                self.cwd[pid] = posixpath.normpath(directory)
            return
        if name == "getcwd":
            getcwd = _GETCWD.match(rest)
            if getcwd is not None and not _result(rest)[0].startswith("-"):
                self.cwd[pid] = posixpath.normpath(_unescape(getcwd.group(1)))
            return
        targets = self._targets(pid, name, rest)
        if not targets:
            return
        value, errno = _result(rest)
        failed = value.startswith("-")
        if not failed or errno not in _ABSENT:
            self.found.update(targets)
        else:
            self.absent.update(targets)
        if failed:
            return
        if name in _EXECS:
            self.executed.add(targets[0])
        elif name == "chdir":
            self.cwd[pid] = targets[0]

    def _targets(self, pid: int, name: str, rest: str) -> list[str]:
        """The absolute paths a call looks up, first the one it executes or changes into."""
        layout = _CALLS[name]
        args = _LAYOUTS[layout].match(rest)
        if args is None:
            return []  # a NULL path, or an address strace could not read
        groups = args.groups()
        cwd = self.cwd[pid]
        found: list[str | None]
        if layout == "DP":
            found = [self._at(pid, name, *groups)]
        elif layout in ("P", "FP"):
            found = [self._absolute(cwd, groups[0])]
        elif layout == "PP":
            found = [self._absolute(cwd, groups[0]), self._absolute(cwd, groups[1])]
        elif layout == "XP":
            found = [self._absolute(cwd, groups[1])]
        elif layout == "XDP":
            found = [self._at(pid, name, *groups[1:])]
        else:  # DPDP
            found = [self._at(pid, name, *groups[:3]), self._at(pid, name, *groups[3:])]
        return [path for path in found if path is not None]

    def _at(self, pid: int, name: str, dirfd: str, decorated: str | None, raw: str) -> str | None:
        """The path of a ``*at`` call: absolute, or relative to a directory descriptor."""
        if not raw:
            # AT_EMPTY_PATH: the descriptor itself, which matters only when executed
            if name == "execveat" and dirfd != "AT_FDCWD":
                return _decoration(decorated)
            return None
        directory = _decoration(decorated) if decorated else None
        if dirfd == "AT_FDCWD":
            if directory is not None:
                directory = self.cwd[pid] = posixpath.normpath(directory)  # the kernel's word
            else:
                directory = self.cwd[pid]
        return self._absolute(directory, raw)

    def _absolute(self, base: str | None, raw: str) -> str | None:
        """``raw`` (as strace quotes it) made absolute against ``base``; None when relative
        to an unknown directory."""
        key = (base, raw)
        known = self._normalised.get(key)
        if known is None:
            known = self._normalised[key] = _absolute(base, _unescape(raw)) or ""
        return known or None

    def trace(self) -> Trace:
        self.finish()

        def relative(paths: Iterable[str]) -> frozenset[str]:
            kept = set()
            for path in paths:
                clean = path.lstrip("/")
                if clean and clean.partition("/")[0] not in _IGNORED_TOPS:
                    kept.add(clean)
            return frozenset(kept)

        found = relative(self.found)
        absent = relative(self.absent)
        return Trace(found | absent, relative(self.executed), absent - found)


def parse_strace(text: str | Iterable[str], *, workdir: str = "/") -> Trace:
    """The :class:`Trace` of strace output (``-f -y`` recommended; lines with or without pid
    prefixes). ``text`` is the whole output or an iterable of lines (a file read line by
    line); ``workdir`` is where the first process started."""
    parser = _Parser(workdir)
    lines = text.splitlines() if isinstance(text, str) else text
    for line in lines:
        parser.line(line)
    return parser.trace()


def strace_options(
    output: str, *, daemonize: bool = False, version: tuple[int, ...] = _MODERN_VERSION
) -> list[str]:
    """strace's options for a trace :func:`parse_strace` reads: forks followed, descriptors
    shown with their paths, no signals and no structures (smaller, faster output). With
    ``daemonize`` the traced program keeps its own process and strace runs as its grandchild."""
    modern = version >= _MODERN_VERSION
    options = ["-f", "-qq", "-y", "-e", _TRACE_SET, "-e", "signal=none", "-e", "verbose=none"]
    options += ["-o", output]
    if daemonize:
        options.append("-DD" if modern else "-D")
    if modern:
        options.append("--seccomp-bpf")
    return options


# ---- the host's strace, bundled -------------------------------------------------------------

# ELF e_machine → the engine's architecture name, and the Debian multiarch directory.
_MACHINES = {
    62: ("amd64", "x86_64-linux-gnu"),
    183: ("arm64", "aarch64-linux-gnu"),
    3: ("386", "i386-linux-gnu"),
    40: ("arm", "arm-linux-gnueabihf"),
    21: ("ppc64le", "powerpc64le-linux-gnu"),
    22: ("s390x", "s390x-linux-gnu"),
    243: ("riscv64", "riscv64-linux-gnu"),
}


@dataclass(frozen=True)
class _ElfHeader:
    elf_class: int
    machine: int


def _elf_header(path: str) -> _ElfHeader | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = head[18:20]
    return _ElfHeader(head[4], int.from_bytes(machine, "little" if head[5] == 1 else "big"))


def _host_read(path: str) -> bytes | None:
    try:
        with open("/" + path.lstrip("/"), "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _host_listdir(path: str) -> list[str]:
    try:
        return os.listdir("/" + path.lstrip("/"))
    except OSError:
        return []


def _closure(program: str) -> tuple[str | None, dict[str, str]]:
    """The interpreter of ``program`` (None for a static one) and its shared libraries on this
    machine, by the name the loader asks for → the real file."""
    header = _elf_header(program)
    if header is None:
        raise SlimError(f"{program} is not an ELF program")
    multiarch = [_MACHINES[header.machine][1]] if header.machine in _MACHINES else []
    configured = ld_so_conf_dirs(_host_read, _host_listdir)
    data = _host_read(program) or b""
    top = needs(data)
    libraries: dict[str, str] = {}
    pending: list[tuple[str, str]] = [(program, name) for name in top.libraries]
    requesters = {program: top}
    while pending:
        requester, name = pending.pop()
        if name in libraries:
            continue
        found = _find_library(
            name,
            search_dirs(requester.lstrip("/"), requesters[requester], configured, multiarch),
            header,
        )
        if found is None:
            raise SlimError(f"cannot find {name}, which {os.path.basename(program)} needs")
        libraries[name] = found
        below = needs(_host_read(found) or b"")
        requesters[found] = below
        pending += [(found, child) for child in below.libraries if child not in libraries]
    interpreter = None
    if top.interpreter is not None:
        interpreter = os.path.realpath(top.interpreter)
        if not os.path.isfile(interpreter):
            raise SlimError(f"the loader {top.interpreter} of {program} is missing")
    return interpreter, libraries


def _find_library(name: str, directories: Sequence[str], want: _ElfHeader) -> str | None:
    if "/" in name:
        return os.path.realpath(name) if os.path.isfile(name) else None
    for directory in directories:
        candidate = f"/{directory}/{name}"
        if _elf_header(candidate) == want:
            return os.path.realpath(candidate)
    return None


def _strace_version(strace: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [strace, "-V"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise SlimError(f"cannot run {strace}: {exc}") from exc
    found = re.search(r"version (\d+)\.(\d+)", out)
    if found is None:
        raise SlimError(f"cannot tell the version of {strace}")
    return (int(found.group(1)), int(found.group(2)))


def _bundle(strace: str, interpreter: str | None, libraries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def directory(name: str, mode: int) -> None:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            tar.addfile(info)

        def regular(name: str, source: str) -> None:
            with open(source, "rb") as handle:
                data = handle.read()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))

        top = TRACE_DIR.strip("/")
        directory(top, 0o755)
        directory(f"{top}/lib", 0o755)
        # world-writable and sticky, like /tmp: the traced program may run as any user
        directory(f"{top}/out", 0o1777)
        regular(STRACE.strip("/"), strace)
        if interpreter is not None:
            regular(LOADER.strip("/"), interpreter)
        for name, source in sorted(libraries.items()):
            regular(f"{top}/lib/{name}", source)
    return buffer.getvalue()


def _ptrace_hint() -> str:
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as handle:
            scope = int(handle.read().strip())
    except (OSError, ValueError):
        return ""
    if scope >= 2:
        return f" (kernel.yama.ptrace_scope is {scope}; tracing needs 0 or 1)"
    return ""


class _ChunkReader(io.RawIOBase):
    """A file over the chunks the engine streams, so big traces are never held whole."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@dataclass(frozen=True)
class Tracer:
    """The host's strace, ready to be put into containers. ``launcher``: how a container
    starts it (the bundled loader with its library directory, or strace alone when static)."""

    archive: bytes = field(repr=False)
    architecture: str
    launcher: tuple[str, ...] = (STRACE,)
    version: tuple[int, ...] = _MODERN_VERSION

    @classmethod
    def from_host(cls, strace: str | None = None) -> Tracer:
        """The strace on PATH (or ``strace``) with its loader and libraries."""
        found = strace or shutil.which("strace")
        if not found or not os.path.isfile(found):
            raise SlimError("slim needs strace on this machine (apt-get install strace)")
        program = os.path.realpath(found)
        header = _elf_header(program)
        if header is None or header.machine not in _MACHINES:
            raise SlimError(f"{program} is not a program for an architecture slim knows")
        version = _strace_version(program)
        if version < _MIN_VERSION:
            raise SlimError(
                f"strace {'.'.join(map(str, version))} is too old; slim needs 4.17 or newer"
            )
        interpreter, libraries = _closure(program)
        launcher: tuple[str, ...] = (STRACE,)
        if interpreter is not None:
            libraries = {n: p for n, p in libraries.items() if p != interpreter}
            # glibc's loader would read the image's ld.so.cache; musl's has no such option
            isolated = () if "musl" in os.path.basename(interpreter) else ("--inhibit-cache",)
            launcher = (LOADER, *isolated, "--library-path", LIBRARY_DIR, STRACE)
        return cls(
            archive=_bundle(program, interpreter, libraries),
            architecture=_MACHINES[header.machine][0],
            launcher=launcher,
            version=version,
        )

    def check_platform(self, config: ImageConfig) -> None:
        """SlimError unless containers of an image with ``config`` can run this strace."""
        if config.os and config.os != "linux":
            raise SlimError(f"cannot trace a {config.os} image; slim traces Linux images")
        if config.architecture and config.architecture != self.architecture:
            raise SlimError(
                f"cannot trace a {config.platform} image with this machine's "
                f"{self.architecture} strace"
            )

    def wrap(self, argv: Sequence[str], output_name: str, *, daemonize: bool = True) -> list[str]:
        """The command line that runs ``argv`` under strace, writing to ``output_name`` in
        the output directory. With ``daemonize`` the program keeps its own process (PID 1 for
        a container's command) and strace runs beside it; without, strace is its parent (for
        ``docker exec``, where the program must not outlive the exec'd process)."""
        if not argv:
            raise SlimError("nothing to trace: the command is empty")
        if "/" in output_name or not output_name:
            raise SlimError(f"bad trace output name {output_name!r}")
        output = f"{OUTPUT_DIR}/{output_name}"
        options = strace_options(output, daemonize=daemonize, version=self.version)
        return [*self.launcher, *options, "--", *argv]

    def inject(self, container: Any) -> None:
        """Put the bundle into a created container (before it starts)."""
        import docker.errors

        try:
            ok = container.put_archive("/", self.archive)
        except docker.errors.APIError as exc:
            raise SlimError(f"cannot put strace into the container: {exc.explanation}") from exc
        if ok is False:
            raise SlimError("cannot put strace into the container")

    def collect(
        self, container: Any, *, workdir: str = "/", messages: Iterable[bytes] = ()
    ) -> Trace:
        """The trace of every traced command of a stopped (or running) container.

        ``messages``: the standard error of the traced commands, where strace says why it
        could not trace (a SlimError) or could not find the program to run (then the program
        is a missing path).
        """
        import docker.errors

        failure, unfound = _strace_messages(messages)
        if failure is not None:
            raise SlimError(f"strace cannot trace inside the container: {failure}{_ptrace_hint()}")
        try:
            chunks, _ = container.get_archive(OUTPUT_DIR)
        except docker.errors.APIError as exc:
            raise SlimError(f"cannot read the trace from the container: {exc.explanation}") from exc
        traces = []
        with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(chunks)), mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                traces.append(parse_strace(_lines(handle), workdir=workdir))
        if unfound:
            # strace looked for these itself, untraced; a name without a slash went through
            # PATH, which the trace cannot tell
            missing = frozenset(
                path.lstrip("/")
                for name in unfound
                if "/" in name and (path := _absolute(workdir, name)) is not None
            )
            traces.append(Trace(missing, frozenset(), missing))
        return Trace.merge(*traces)


def _lines(handle: Any, chunk_size: int = 1 << 20) -> Iterator[str]:
    """The lines of a binary stream that cannot seek (a member of a streamed tar)."""
    pending = b""
    while True:
        chunk = handle.read(chunk_size)
        if not chunk:
            break
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line.decode("utf-8", "surrogateescape")
    if pending:
        yield pending.decode("utf-8", "surrogateescape")


def start_failure(stderr: bytes) -> str | None:
    """Why strace could not start the traced program (it is not there, or not executable),
    worded like the engine's own error for an untraced container; None when it started."""
    for said in _STRACE_SAYS.finditer(stderr.decode("utf-8", "replace")):
        message = said.group(1).strip()
        cannot_stat = _CANNOT_STAT.search(message)
        if cannot_stat is not None:
            return f"cannot start: exec: {cannot_stat.group(1)}: executable file not found"
        if message.startswith("exec: "):
            return f"cannot start: {message}"
    return None


def _strace_messages(messages: Iterable[bytes]) -> tuple[str | None, list[str]]:
    """strace's own complaints in standard error: why it could not trace (or None), and the
    programs it could not find to start."""
    refusals: list[str] = []
    unfound: list[str] = []
    for blob in messages:
        for said in _STRACE_SAYS.finditer(blob.decode("utf-8", "replace")):
            message = said.group(1).strip()
            if "ptrace" in message.lower():
                refusals.append(message)
            cannot_stat = _CANNOT_STAT.search(message)
            if cannot_stat is not None:
                unfound.append(cannot_stat.group(1))
    if not refusals:
        return None, unfound
    # "attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted" says it best
    clearest = [m for m in refusals if m.startswith(("attach:", "ptrace("))]
    return (clearest or refusals)[0], unfound
