"""The command line, run as a real process: exit codes, formats, stdin, config, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """\
# syntax=docker/dockerfile:1
FROM python:3.12-slim
ENV PIP_NO_CACHE_DIR=1
RUN pip install --no-cache-dir flask==3.0.3
USER 1000
CMD ["python", "-m", "flask", "run"]
"""
BAD = """\
FROM alpine:3.20
RUN apk add curl
"""


def run(
    *args: str, cwd: Path | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slimline.cli", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_text(GOOD)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "Dockerfile.prod").write_text(BAD)
    (tmp_path / "bad" / "api.Dockerfile").write_text(BAD)
    (tmp_path / "README.md").write_text("FROM nothing\n")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "Dockerfile").write_text("this is not a dockerfile\n")
    return tmp_path


def test_clean_file_exits_0(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(GOOD)
    result = run("check", "--no-config", str(tmp_path / "Dockerfile"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 findings" in result.stdout


def test_directory_discovery_and_exit_1(tree: Path) -> None:
    result = run("check", "--no-config", "--format", "json", str(tree))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    paths = sorted(Path(f["path"]).name for f in data["files"])
    assert paths == ["Dockerfile", "Dockerfile.prod", "api.Dockerfile"]
    assert {f["rule"] for f in data["findings"]} >= {"SL301"}


def test_gitignore_and_exclude(tree: Path) -> None:
    (tree / ".gitignore").write_text("bad/api.Dockerfile\n")
    data = json.loads(run("check", "--no-config", "-f", "json", str(tree)).stdout)
    assert sorted(Path(f["path"]).name for f in data["files"]) == ["Dockerfile", "Dockerfile.prod"]
    data = json.loads(
        run("check", "--no-config", "-f", "json", "--exclude", "bad/", str(tree)).stdout
    )
    assert [Path(f["path"]).name for f in data["files"]] == ["Dockerfile"]


def test_stdin() -> None:
    result = run(
        "check", "--no-config", "--stdin-filename", "Dockerfile.x", "-", stdin=BAD.encode()
    )
    assert result.returncode == 1
    assert "Dockerfile.x:2:" in result.stdout


def test_fail_on_and_severity(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    assert run("check", "--no-config", "--fail-on", "error", str(tmp_path)).returncode == 0
    assert run("check", "--no-config", "--fail-on", "never", str(tmp_path)).returncode == 0
    quiet = run("check", "--no-config", "--severity", "error", "-f", "json", str(tmp_path))
    assert json.loads(quiet.stdout)["findings"] == []


def test_select_ignore_and_inline_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(BAD)
    data = json.loads(
        run("check", "--no-config", "-f", "json", "--ignore", "SL301", str(path)).stdout
    )
    assert all(f["rule"] != "SL301" for f in data["findings"])
    data = json.loads(
        run("check", "--no-config", "-f", "json", "--select", "package-cache", str(path)).stdout
    )
    assert {f["rule"] for f in data["findings"]} == {"SL301"}
    path.write_text("FROM alpine:3.20\n# hadolint ignore=DL3019\nRUN apk add curl\n")
    data = json.loads(
        run("check", "--no-config", "-f", "json", "--select", "SL301", str(path)).stdout
    )
    assert data["findings"] == []
    path.write_text("# slimline global ignore=SL301\nFROM alpine:3.20\nRUN apk add curl\n")
    data = json.loads(
        run("check", "--no-config", "-f", "json", "--select", "SL301", str(path)).stdout
    )
    assert data["findings"] == []


def test_config_file(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.slimline]\nignore = ["SL3"]\nfail-on = "error"\n'
    )
    result = run("check", "-f", "json", "Dockerfile", cwd=tmp_path)
    assert all(not f["rule"].startswith("SL3") for f in json.loads(result.stdout)["findings"])
    (tmp_path / ".slimline.toml").write_text("bogus = 1\n")
    result = run("check", "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2 and "unknown key" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file with no instructions"),
        (b"\x7fELF\x00\x00\x01binary", "binary file"),
        (b"FROM a\nRUN echo \xff\n", "invalid UTF-8"),
        (b"FROM a\nFROBNICATE x\n", "unknown instruction: FROBNICATE"),
        (b"FROM a\nRUN <<EOF\nnever ends\n", "unterminated heredoc"),
        (b'FROM a\nCMD ["a", "b"\n', "malformed JSON array"),
        (b"FROM a\n" + b"RUN echo " + b"x" * (21 * 1024 * 1024) + b"\n", "larger than"),
    ],
    ids=["empty", "binary", "utf8", "unknown", "heredoc", "json", "huge"],
)
def test_bad_input_one_line_exit_2_others_still_checked(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "Dockerfile.broken").write_bytes(content)
    (tmp_path / "Dockerfile").write_text(BAD)
    result = run("check", "--no-config", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert message in result.stdout
    assert "SL301" in result.stdout  # the good file was still checked


@pytest.mark.parametrize(
    "args",
    [
        ["check", "/nonexistent/Dockerfile"],
        ["check", "--format", "xml", "."],
        ["check", "--select", "SL999", "."],
        ["check", "--severity", "loud", "."],
        ["explain", "SL999"],
        ["nosuchcommand"],
        ["check"],  # an empty directory: no Dockerfiles found
    ],
)
def test_usage_errors_exit_2_without_traceback(args: list[str], tmp_path: Path) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_output_file_is_written_atomically(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    out = tmp_path / "report.sarif"
    result = run(
        "check", "--no-config", "-f", "sarif", "-o", str(out), str(tmp_path / "Dockerfile")
    )
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_input_is_never_modified(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(BAD.encode())
    before = path.stat().st_mtime_ns
    run("check", "--no-config", str(path))
    assert path.read_bytes() == BAD.encode() and path.stat().st_mtime_ns == before


def test_rules_and_explain() -> None:
    rules = json.loads(run("rules", "-f", "json").stdout)
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)) >= 20
    practices = {r["practice"] for r in rules}
    assert practices == {
        "base-image", "pinning", "package-cache", "install-scope", "build-tools",
        "layer-waste", "data-storage", "modular-design", "attack-surface", "security",
    }  # fmt: skip
    text = run("explain", "SL301").stdout
    assert "apk" in text and "estimated_bytes" in text
    assert "SL301" in run("explain", "DL3019").stdout


def test_github_format(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(BAD)
    out = run("check", "--no-config", "-f", "github", str(tmp_path / "Dockerfile")).stdout
    warnings = [line for line in out.splitlines() if line.startswith("::warning file=")]
    assert any(",line=2," in line and "SL301" in line for line in warnings)
