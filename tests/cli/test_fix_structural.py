"""`slimline fix --split/--dev/--rebase/--build` on the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import engine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slimline.cli", "fix", "--no-config", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture
def c_tool(tmp_path: Path) -> Path:
    target = tmp_path / "c-tool"
    shutil.copytree(EXAMPLES / "c-tool", target)
    return target


def test_split_with_dev_shows_both_files(c_tool: Path) -> None:
    dockerfile = c_tool / "Dockerfile"
    original = dockerfile.read_text()
    result = run("--split", "--dev", str(dockerfile))
    assert result.returncode == 1, result.stderr
    assert f"--- /dev/null\n+++ {dockerfile}.dev\n" in result.stdout
    assert "+FROM debian:bookworm-slim\n" in result.stdout
    assert "split line 1: fix: separate build and runtime stages (c)" in result.stderr
    assert dockerfile.read_text() == original
    assert not (c_tool / "Dockerfile.dev").exists()


def test_split_write_writes_the_dev_file_but_never_overwrites_one(c_tool: Path) -> None:
    dockerfile = c_tool / "Dockerfile"
    original = dockerfile.read_text()
    result = run("--split", "--dev", "--write", str(dockerfile))
    assert result.returncode == 0, result.stderr
    assert dockerfile.read_text().count("FROM ") == 2
    dev = (c_tool / "Dockerfile.dev").read_text()
    assert "gcc" in dev
    dockerfile.write_text(original)
    (c_tool / "Dockerfile.dev").write_text("mine\n")
    result = run("--split", "--dev", "--write", str(dockerfile))
    assert result.returncode == 0, result.stderr
    assert "Dockerfile.dev exists; left as it is" in result.stderr
    assert (c_tool / "Dockerfile.dev").read_text() == "mine\n"


def test_a_split_that_cannot_be_derived_changes_nothing(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM debian:bookworm-slim\nUSER 1000\nCMD ["sleep", "1"]\n')
    result = run("--split", str(dockerfile))
    assert result.returncode == 0, result.stderr
    assert "split: not done:" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dev"], "--dev needs --split"),
        (["--alpine"], "--alpine needs --rebase"),
        (["--probe", "true"], "need --build"),
        (["--build", "--probe", "x", "--probe-http", "8000"], "not both"),
    ],
)
def test_flag_errors_are_one_line(c_tool: Path, flags: list[str], message: str) -> None:
    result = run(*flags, str(c_tool / "Dockerfile"))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.engine
def test_build_proves_the_fix_before_writing_it(c_tool: Path) -> None:
    engine.client()
    dockerfile = c_tool / "Dockerfile"
    result = run("--split", "--build", "--write", str(dockerfile))
    assert result.returncode == 0, result.stderr
    assert "same behaviour" in result.stderr
    assert "smaller" in result.stderr or "saves" in result.stderr
    assert dockerfile.read_text().count("FROM ") == 2


@pytest.mark.engine
def test_a_fix_that_changes_behaviour_is_not_written(tmp_path: Path) -> None:
    from tests.support.base_images import ensure_base_images

    engine.client()
    ensure_base_images(["python:3.12", "python:3.12-slim"])
    # the program looks for a compiler, which the split runtime no longer has
    dockerfile = tmp_path / "Dockerfile"
    original = (
        "FROM python:3.12\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN pip install -r requirements.txt\n"
        'CMD ["python3", "-c", "import shutil; print(shutil.which(\'gcc\'))"]\n'
    )
    dockerfile.write_text(original)
    (tmp_path / "requirements.txt").write_text("# nothing yet\n")
    result = run("--split", "--build", "--write", str(dockerfile))
    assert result.returncode == 2, result.stderr
    assert "the fix changes behaviour; not written" in result.stderr
    assert "--build: " in result.stderr  # which output differed
    assert dockerfile.read_text() == original
