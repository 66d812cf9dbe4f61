"""strace's output turned into the paths a program used: real captures of this machine's strace
on small programs, plus hand-written lines for what is hard to provoke; and the strace bundle."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from slimline.image.sources.base import ImageConfig
from slimline.slim.errors import SlimError
from slimline.slim.trace import (
    LIBRARY_DIR,
    LOADER,
    OUTPUT_DIR,
    STRACE,
    Trace,
    Tracer,
    parse_strace,
    start_failure,
    strace_options,
)

HOST_STRACE = shutil.which("strace")
needs_strace = pytest.mark.skipif(HOST_STRACE is None, reason="strace is not installed")


def _root(path: Path) -> str:
    """A host path as a trace names it."""
    return str(path).lstrip("/")


def _trace(tmp_path: Path, argv: list[str], *, cwd: Path) -> tuple[Trace, str]:
    """Run ``argv`` under the host's strace with the options used in containers."""
    assert HOST_STRACE is not None
    output = tmp_path / "strace.out"
    subprocess.run(
        [HOST_STRACE, *strace_options(str(output)), "--", *argv],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )
    text = output.read_text(encoding="utf-8", errors="surrogateescape")
    return parse_strace(text, workdir=str(cwd)), text


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """app/ with data files, a sub-directory, a symbolic link and a script."""
    app = tmp_path / "app"
    (app / "sub").mkdir(parents=True)
    (app / "used.txt").write_text("used\n")
    (app / "unused.txt").write_text("never read\n")
    (app / "sub" / "inner.txt").write_text("inner\n")
    (app / "link.txt").symlink_to("sub/inner.txt")
    script = app / "run.sh"
    script.write_text("#!/bin/sh\ncat used.txt\n")
    script.chmod(0o755)
    return app


# ---- real traces ---------------------------------------------------------------------------


@needs_strace
def test_files_a_program_reads_are_traced_and_the_others_are_not(
    tmp_path: Path, tree: Path
) -> None:
    trace, _ = _trace(
        tmp_path,
        [
            sys.executable,
            "-c",
            "open('used.txt').read()\ntry: open('absent.txt')\nexcept OSError: pass",
        ],
        cwd=tree,
    )
    assert _root(tree / "used.txt") in trace.paths
    assert _root(tree / "used.txt") not in trace.missing
    assert _root(tree / "unused.txt") not in trace.paths
    assert _root(tree / "absent.txt") in trace.missing
    assert _root(tree) in trace.found  # the working directory
    assert not any(p.startswith(("proc/", "dev/", "sys/")) for p in trace.paths)
    assert all(not p.startswith("/") for p in trace.paths)


@needs_strace
def test_relative_paths_follow_cd_and_dot_dot_is_resolved_lexically(
    tmp_path: Path, tree: Path
) -> None:
    trace, text = _trace(
        tmp_path,
        ["sh", "-c", "cd sub && cat inner.txt ../used.txt ./../sub/../unused.txt"],
        cwd=tree,
    )
    assert "chdir(" in text
    for name in ("sub/inner.txt", "used.txt", "unused.txt", "sub"):
        assert _root(tree / name) in trace.found, name
    assert not any(".." in p.split("/") for p in trace.paths)


@needs_strace
def test_symbolic_links_are_reported_as_named_not_followed(tmp_path: Path, tree: Path) -> None:
    trace, _ = _trace(tmp_path, ["cat", "link.txt"], cwd=tree)
    assert _root(tree / "link.txt") in trace.found
    assert _root(tree / "sub" / "inner.txt") not in trace.paths


@needs_strace
def test_a_script_is_executed_and_so_are_the_programs_it_starts(tmp_path: Path, tree: Path) -> None:
    trace, _ = _trace(tmp_path, ["./run.sh"], cwd=tree)
    assert _root(tree / "run.sh") in trace.executed
    assert any(p.endswith("bin/cat") for p in trace.executed)
    assert _root(tree / "used.txt") in trace.found  # read by cat, a child of the script


@needs_strace
def test_children_inherit_the_working_directory(tmp_path: Path, tree: Path) -> None:
    # the subshell and cat are forks of a shell that changed directory
    trace, text = _trace(tmp_path, ["sh", "-c", "cd sub; (cat inner.txt); ls >/dev/null"], cwd=tree)
    assert "vfork" in text or "clone" in text or "fork" in text
    assert _root(tree / "sub" / "inner.txt") in trace.found


@needs_strace
def test_enotdir_and_enoent_are_missing(tmp_path: Path, tree: Path) -> None:
    trace, _ = _trace(tmp_path, ["sh", "-c", "cat used.txt/x nothere 2>/dev/null; true"], cwd=tree)
    assert _root(tree / "used.txt" / "x") in trace.missing
    assert _root(tree / "nothere") in trace.missing


@needs_strace
def test_fchdir_moves_the_working_directory(tmp_path: Path, tree: Path) -> None:
    program = "import os\nfd = os.open('sub', os.O_RDONLY)\nos.fchdir(fd)\nos.stat('inner.txt')"
    trace, text = _trace(tmp_path, [sys.executable, "-c", program], cwd=tree)
    assert "fchdir(" in text
    assert _root(tree / "sub" / "inner.txt") in trace.found


@needs_strace
def test_odd_names_survive_strace_quoting(tmp_path: Path, tree: Path) -> None:
    odd = tree / 'we<i>rd "é"\tname'
    odd.mkdir()
    (odd / "f").write_text("x")
    program = f"import os\nos.chdir({str(odd)!r})\nopen('f').read()"
    trace, _ = _trace(tmp_path, [sys.executable, "-c", program], cwd=tree)
    assert _root(odd / "f") in trace.found


@needs_strace
def test_a_python_start_is_traced_in_full(tmp_path: Path) -> None:
    trace, _ = _trace(tmp_path, [sys.executable, "-c", "import json"], cwd=tmp_path)
    assert any(p.endswith("json/__init__.py") for p in trace.found)
    assert _root(Path(sys.executable)) in trace.executed


# ---- hand-written lines --------------------------------------------------------------------


def test_relative_paths_without_descriptor_paths_use_the_tracked_directory() -> None:
    text = (
        '10 chdir("/srv/app") = 0\n'
        '10 openat(AT_FDCWD, "conf/a.ini", O_RDONLY) = 3\n'
        '10 stat("../b", 0x7ffd) = 0\n'
        '10 chdir("relative") = 0\n'
        '10 access("c", R_OK) = -1 ENOENT (No such file or directory)\n'
    )
    trace = parse_strace(text, workdir="/")
    assert {"srv/app", "srv/app/conf/a.ini", "srv/b", "srv/app/relative"} <= trace.found
    assert trace.missing == {"srv/app/relative/c"}


def test_descriptor_paths_win_over_the_tracked_directory() -> None:
    text = (
        '7 openat(AT_FDCWD</real/dir>, "x", O_RDONLY) = 3</real/dir/x>\n'
        '7 newfstatat(4</usr/lib>, "y.so", 0x1, 0) = 0\n'
        '7 openat(5<socket:[123]>, "z", O_RDONLY) = -1 ENOTDIR (Not a directory)\n'
        '7 access("w", F_OK) = 0\n'
    )
    trace = parse_strace(text, workdir="/app")
    assert {"real/dir/x", "usr/lib/y.so", "real/dir/w"} <= trace.found
    assert not any(p.endswith("z") for p in trace.paths)  # relative to a socket: unknown


def test_unfinished_calls_are_joined_with_their_resumption() -> None:
    text = (
        '1 openat(AT_FDCWD</w>, "a", O_RDONLY <unfinished ...>\n'
        '2 openat(AT_FDCWD</w>, "b", O_RDONLY) = 3</w/b>\n'
        "1 <... openat resumed>) = -1 ENOENT (No such file or directory)\n"
        '1 execve("/bin/x", ["x"], 0x1 /* 3 vars */ <unfinished ...>\n'
        "1 <... execve resumed>) = 0\n"
    )
    trace = parse_strace(text, workdir="/w")
    assert "w/a" in trace.missing
    assert "w/b" in trace.found
    assert trace.executed == {"bin/x"}


def test_a_child_seen_before_its_fork_returns_inherits_the_parent_directory() -> None:
    text = (
        '1 chdir("/data") = 0\n'
        "1 vfork( <unfinished ...>\n"
        '2 execve("./tool", ["./tool"], 0x1 /* 1 var */) = 0\n'
        "1 <... vfork resumed>) = 2\n"
        "1 clone(child_stack=NULL, flags=SIGCHLD) = 3\n"
        '3 open("rel", O_RDONLY) = 3\n'
    )
    trace = parse_strace(text, workdir="/")
    assert trace.executed == {"data/tool"}
    assert "data/rel" in trace.found


def test_failed_execs_are_not_executed_but_every_lookup_counts() -> None:
    text = (
        '5 execve("/usr/local/bin/app", ["app"], 0x1 /* 2 vars */) = -1 ENOENT (No such file or directory)\n'
        '5 execve("/usr/bin/app", ["app"], 0x1 /* 2 vars */) = -1 EACCES (Permission denied)\n'
        '5 execve("/bin/app", ["app"], 0x1 /* 2 vars */) = 0\n'
    )
    trace = parse_strace(text)
    assert trace.executed == {"bin/app"}
    assert trace.missing == {"usr/local/bin/app"}
    assert "usr/bin/app" in trace.found  # there, just not executable


def test_two_path_calls_and_link_targets() -> None:
    text = (
        '1 renameat2(AT_FDCWD</t>, "a.tmp", AT_FDCWD</t>, "a", RENAME_NOREPLACE) = 0\n'
        '1 symlinkat("/nowhere/target", AT_FDCWD</t>, "ln") = 0\n'
        '1 symlink("also/not/looked/up", "/t/ln2") = 0\n'
        '1 linkat(3</t>, "x", AT_FDCWD</u>, "y", 0) = 0\n'
        '1 rename("/t/old", "/t/new") = 0\n'
        '1 execveat(3</opt/bin/tool>, "", ["tool"], 0x1 /* 0 vars */, AT_EMPTY_PATH) = 0\n'
        '1 newfstatat(3</etc/passwd>, "", 0x7ffd, AT_EMPTY_PATH) = 0\n'
    )
    trace = parse_strace(text)
    assert {"t/a.tmp", "t/a", "t/ln", "t/ln2", "t/x", "u/y", "t/old", "t/new"} <= trace.found
    assert not any("nowhere" in p or "looked" in p for p in trace.paths)
    assert trace.executed == {"opt/bin/tool"}
    assert "etc/passwd" not in trace.paths  # a stat of an open descriptor looks nothing up


def test_bundle_virtual_filesystems_and_root_are_left_out() -> None:
    text = (
        '1 openat(AT_FDCWD</>, "/proc/self/maps", O_RDONLY) = 3\n'
        '1 openat(AT_FDCWD</>, "/dev/null", O_RDWR) = 3\n'
        '1 stat("/sys/fs/cgroup", 0x1) = 0\n'
        '1 openat(AT_FDCWD</>, "/.slimline-trace/out/main", O_RDONLY) = 3\n'
        '1 stat("/", 0x1) = 0\n'
        '1 stat("/development", 0x1) = 0\n'
    )
    assert parse_strace(text).paths == {"development"}


def test_escapes_deleted_files_getcwd_and_noise() -> None:
    text = (
        '1 openat(AT_FDCWD</>, "/caf\\303\\251/a\\nb\\"c\\\\d", O_RDONLY) = 3\n'
        '1 openat(AT_FDCWD</tmp/gone (deleted)>, "x", O_RDONLY) = -1 ENOENT (No such file)\n'
        '1 getcwd("/srv/w\\74x\\76", 4096) = 11\n'
        '1 stat("y", 0x1) = 0\n'
        "1 --- SIGCHLD {si_signo=SIGCHLD} ---\n"
        "1 +++ exited with 0 +++\n"
        "not a strace line\n"
        "1 wait4(-1, NULL, 0, NULL) = 2\n"
    )
    trace = parse_strace(text)
    assert 'café/a\nb"c\\d' in trace.found
    assert "tmp/gone/x" in trace.missing
    assert "srv/w<x>/y" in trace.found


def test_lines_without_pids_and_calls_cut_off_by_a_kill() -> None:
    text = 'openat(AT_FDCWD</a>, "b", O_RDONLY) = 3\n2 openat(AT_FDCWD</a>, "c", O_RDONLY <unfinished ...>\n'
    trace = parse_strace(text, workdir="/a")
    assert {"a/b", "a/c"} <= trace.found


def test_text_and_lines_parse_alike() -> None:
    text = '1 openat(AT_FDCWD</a>, "b", O_RDONLY) = 3\n1 stat("/nope", 0x1) = -1 ENOENT (x)\n'
    assert parse_strace(text) == parse_strace(io.StringIO(text))


def test_merging_traces_keeps_a_path_missing_only_if_no_run_found_it() -> None:
    one = Trace(frozenset({"a", "b"}), frozenset({"a"}), frozenset({"b"}))
    two = Trace(frozenset({"c"}), frozenset(), frozenset({"c"}))
    merged = Trace.merge(one, two)
    assert merged.paths == {"a", "b", "c"}
    assert merged.executed == {"a"}
    assert merged.missing == {"b", "c"}
    three = Trace(frozenset({"b"}), frozenset(), frozenset())
    assert Trace.merge(one, two, three).missing == {"c"}
    assert Trace.merge() == Trace()


# ---- strace's own messages -----------------------------------------------------------------


def test_strace_failing_to_start_the_program_reads_like_the_engine() -> None:
    said = b"/.slimline-trace/strace: Can't stat 'app': No such file or directory\n"
    assert start_failure(said) == "cannot start: exec: app: executable file not found"
    assert start_failure(b"strace: exec: Permission denied\n") == (
        "cannot start: exec: Permission denied"
    )
    assert start_failure(b"app: strace: Can't stat 'x': No such file or directory\n") is None


class _FakeContainer:
    def __init__(self, files: dict[str, bytes]) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo("out")
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
            for name, data in files.items():
                info = tarfile.TarInfo(f"out/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        self.data = buffer.getvalue()
        self.asked: list[str] = []

    def get_archive(self, path: str) -> tuple[Any, dict[str, Any]]:
        self.asked.append(path)
        # in small, uneven chunks, as a stream would come
        return (self.data[i : i + 700] for i in range(0, len(self.data), 700)), {}


def _tracer() -> Tracer:
    return Tracer(archive=b"", architecture="amd64")


def test_collect_reads_every_trace_file_of_the_container() -> None:
    many = "".join(f'9 openat(AT_FDCWD</w>, "f{n}", O_RDONLY) = 3\n' for n in range(2000))
    container = _FakeContainer({"main": many.encode(), "exec-1": b'3 stat("/x", 0x1) = 0\n'})
    trace = _tracer().collect(container, workdir="/w")
    assert container.asked == [OUTPUT_DIR]
    assert {"w/f0", "w/f1999", "x", "w"} <= trace.found


def test_collect_refuses_when_ptrace_is_forbidden() -> None:
    said = (
        b"/.slimline-trace/strace: test_ptrace_get_syscall_info: PTRACE_TRACEME: Operation not permitted\n"
        b"/.slimline-trace/strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted\n"
    )
    with pytest.raises(SlimError, match=r"^strace cannot trace inside the container: attach:"):
        _tracer().collect(_FakeContainer({}), messages=[b"app output\n", said])


def test_collect_counts_a_program_strace_could_not_find_as_missing() -> None:
    said = b"/.slimline-trace/strace: Can't stat './bin/app': No such file or directory\n"
    trace = _tracer().collect(_FakeContainer({}), workdir="/srv", messages=[said])
    assert trace.missing == {"srv/bin/app"}


# ---- the bundle ----------------------------------------------------------------------------


@needs_strace
def test_the_bundle_holds_strace_its_loader_and_libraries(tmp_path: Path) -> None:
    tracer = Tracer.from_host()
    assert tracer.architecture in ("amd64", "arm64", "386", "arm", "ppc64le", "s390x", "riscv64")
    with tarfile.open(fileobj=io.BytesIO(tracer.archive)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        tar.extractall(tmp_path, filter="fully_trusted")
    out = members[OUTPUT_DIR.lstrip("/")]
    assert out.isdir() and out.mode == 0o1777
    assert members[STRACE.lstrip("/")].mode == 0o755
    libraries = [n for n in members if n.startswith(LIBRARY_DIR.lstrip("/") + "/")]
    assert any(n.endswith("/libc.so.6") for n in libraries)
    # runs from the bundle alone, whatever this machine's library cache says
    launcher = [str(tmp_path / p.lstrip("/")) if p.startswith("/") else p for p in tracer.launcher]
    done = subprocess.run([*launcher, "-V"], capture_output=True, text=True, check=True)
    assert "strace" in done.stdout


@needs_strace
def test_wrapping_puts_strace_before_the_unchanged_command() -> None:
    tracer = Tracer.from_host()
    argv = tracer.wrap(["python3", "-c", "print(1)"], "main")
    assert argv[0] == (LOADER if len(tracer.launcher) > 1 else STRACE)
    assert argv[-4:] == ["--", "python3", "-c", "print(1)"]
    assert f"{OUTPUT_DIR}/main" in argv and "-DD" in argv and "-f" in argv
    assert "-DD" not in tracer.wrap(["ls"], "exec-1", daemonize=False)
    with pytest.raises(SlimError):
        tracer.wrap([], "main")
    with pytest.raises(SlimError):
        tracer.wrap(["ls"], "../escape")


def test_a_missing_strace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SlimError, match=r"slim needs strace on this machine \(apt-get install"):
        Tracer.from_host(str(tmp_path / "strace"))


def test_an_image_of_another_architecture_cannot_be_traced() -> None:
    tracer = _tracer()
    tracer.check_platform(ImageConfig(architecture="amd64", os="linux"))
    tracer.check_platform(ImageConfig())  # unknown: let the engine decide
    with pytest.raises(SlimError, match="linux/arm64"):
        tracer.check_platform(ImageConfig(architecture="arm64", os="linux"))
    with pytest.raises(SlimError, match="windows"):
        tracer.check_platform(ImageConfig(architecture="amd64", os="windows"))


def test_strace_options_are_those_the_parser_expects() -> None:
    options = strace_options("/x/out", daemonize=True)
    assert options[options.index("-o") + 1] == "/x/out"
    assert {"-y", "-f", "-qq", "-DD", "--seccomp-bpf"} <= set(options)
    old = strace_options("/x/out", daemonize=True, version=(4, 26))
    assert "-D" in old and "--seccomp-bpf" not in old and "-DD" not in old
    assert "-DD" not in strace_options("/x/out")
