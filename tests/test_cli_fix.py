"""`slimline fix` as a real process: diff and exit codes, --write (atomic, mode kept, links
followed), --backup, standard input, and one-line errors for bad input."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

BAD = "FROM alpine:3.20\nRUN apk add curl\n"
FIXED = "FROM alpine:3.20\nRUN apk add --no-cache curl\n"
CLEAN = 'FROM alpine:3.20\nRUN apk add --no-cache curl\nUSER 1000\nCMD ["sh"]\n'
BROKEN = "FROM alpine:3.20\nRUN apk add curl\nNOT_AN_INSTRUCTION x\n"


def run(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slimline.cli", "fix", "--no-config", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_diff_by_default_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text(BAD)
    result = run(str(target))
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"--- {target}\n+++ {target}\n@@ ")
    assert "-RUN apk add curl\n+RUN apk add --no-cache curl\n" in result.stdout
    assert f"{target}: SL301 line 2: fix: added --no-cache" in result.stderr
    assert result.stderr.rstrip().endswith("would apply 1 fix to 1 file")
    assert target.read_text() == BAD


def test_the_diff_applies_with_patch(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    diff = run("Dockerfile", cwd=tmp_path).stdout
    subprocess.run(["patch", "-p0", "-s"], cwd=tmp_path, input=diff, text=True, check=True)
    assert (tmp_path / "Dockerfile").read_text() == FIXED


def test_nothing_to_fix_exits_0(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN)
    result = run(str(tmp_path / "Dockerfile"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "nothing to fix" in result.stderr


def test_write_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text(BAD)
    target.chmod(0o640)
    inode = target.stat().st_ino
    result = run("--write", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != inode  # replaced by a rename, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]
    again = run("--write", str(target))
    assert again.returncode == 0 and "nothing to fix" in again.stderr
    assert target.read_text() == FIXED


def test_write_follows_a_symbolic_link(tmp_path: Path) -> None:
    real = tmp_path / "real.Dockerfile"
    real.write_text(BAD)
    link = tmp_path / "Dockerfile"
    link.symlink_to(real.name)
    assert run("--write", str(link)).returncode == 0
    assert link.is_symlink()
    assert real.read_text() == FIXED


def test_backup_keeps_the_original(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text(BAD)
    result = run("--write", "--backup", str(target))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "Dockerfile.orig").read_text() == BAD
    assert target.read_text() == FIXED


def test_stdin_diff_and_filter(tmp_path: Path) -> None:
    result = run("-", stdin=BAD, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("--- <stdin>\n+++ <stdin>\n")
    named = run("--stdin-filename", "api.Dockerfile", "-", stdin=BAD, cwd=tmp_path)
    assert named.stdout.startswith("--- api.Dockerfile\n")
    filtered = run("--write", "-", stdin=BAD, cwd=tmp_path)
    assert filtered.returncode == 0, filtered.stderr
    assert filtered.stdout == FIXED


def test_directories_select_and_quiet(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text(
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
    )
    result = run("--write", "-q", "--select", "SL302", str(tmp_path))
    assert result.returncode == 0
    assert result.stderr == ""
    assert (tmp_path / "svc" / "Dockerfile").read_text() == (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    )


def test_notes_for_findings_left(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM alpine:3.20\nRUN sh -c "apk add curl"\n')
    result = run(str(tmp_path / "Dockerfile"))
    assert result.returncode == 0
    assert "SL301 line 2: not fixed: an apk command runs inside an `sh -c` string" in result.stderr


def test_a_file_that_does_not_parse_is_left_untouched(tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "Dockerfile"
    broken.parent.mkdir()
    broken.write_text(BROKEN)
    good = tmp_path / "good" / "Dockerfile"
    good.parent.mkdir()
    good.write_text(BAD)
    result = run("--write", str(broken), str(good))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"slimline: error: {broken}:3:1: unknown instruction")
    assert broken.read_text() == BROKEN
    assert good.read_text() == FIXED
    assert "Traceback" not in result.stderr


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [
        (["--write", str(tmp_path / "missing")], "no such file or directory"),
        (["--backup", "."], "--backup needs --write"),
        (["--select", "SL999", "."], "unknown rule"),
        (["--frobnicate"], "unrecognized arguments"),
        (["--context", str(tmp_path / "nowhere"), "."], "not a directory"),
    ]
    (tmp_path / "Dockerfile").write_text(BAD)
    for args, message in cases:
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
    binary = tmp_path / "bin.Dockerfile"
    binary.write_bytes(b"\x00\x01\x02")
    result = run(str(binary))
    assert result.returncode == 2
    assert "binary file" in result.stderr


def test_no_dockerfiles_found(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.returncode == 2
    assert "no Dockerfiles found" in result.stderr


def test_unwritable_file_is_an_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        import pytest

        pytest.skip("root can write anywhere")
    target = tmp_path / "ro" / "Dockerfile"
    target.parent.mkdir()
    target.write_text(BAD)
    target.parent.chmod(0o500)
    try:
        result = run("--write", str(target))
    finally:
        target.parent.chmod(0o700)
    assert result.returncode == 2
    assert "cannot write" in result.stderr
