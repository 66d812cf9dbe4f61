"""`slimline slim` on bad input: one line on stderr, exit 2, nothing touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import engine


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slimline.cli", "slim", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["img"], "--tag NAME or --output FILE"),
        (["img", "--tag", "x", "--expect-exit", "0"], "--expect-exit must follow a --probe-cmd"),
        (
            ["img", "--tag", "x", "--probe-cmd", "true", "--expect-status", "200"],
            "--expect-status must follow a --probe-http",
        ),
        (
            [
                "img",
                "--tag",
                "x",
                "--probe-http",
                ":80/",
                "--expect-body",
                "a",
                "--expect-body",
                "b",
            ],
            "given twice",
        ),
        (["img", "--tag", "x", "--probe-http", "http://192.0.2.1:80/"], "127.0.0.1"),
        (["img", "--tag", "x", "--runs", "0"], "at least 1"),
        (["img", "--tag", "x", "--format", "xml"], "unknown format"),
        (["img", "--tag", "x", "--mode", "tiny"], "invalid choice"),
        (["img", "--tag", "x", "--timeout", "0"], "--timeout must be positive"),
        (["img", "--tag", "x", "--stdin", "/nonexistent/input"], "--stdin /nonexistent/input"),
        (["img", "--tag", "x", "--probe-script", "/nonexistent/script"], "/nonexistent/script"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_output_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    result = run("img", "--output", str(tmp_path))
    assert result.returncode == 2
    assert "is a directory" in result.stderr


def test_an_archive_that_is_not_an_image_is_one_error(tmp_path: Path) -> None:
    archive = tmp_path / "broken.tar"
    archive.write_bytes(b"not a tar at all" * 100)
    result = run(f"docker-archive:{archive}", "--tag", "slimline-test/never:written", "-q")
    assert result.returncode == 2
    assert result.stderr.startswith("slimline: error: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.engine
def test_a_missing_image_is_one_error() -> None:
    engine.client()
    result = run("slimline-test/does-not-exist:nowhere", "--tag", "slimline-test/x:y", "-q")
    assert result.returncode == 2
    assert result.stderr.startswith("slimline: error: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.engine
def test_the_original_tag_is_never_reused() -> None:
    tag = engine.build("slim-cli-tiny", {"Dockerfile": 'FROM debian:bookworm-slim\nCMD ["true"]\n'})
    client = engine.client()
    before = client.images.get(tag).id
    result = run(tag, "--tag", tag, "--mode", "static", "-q")
    assert result.returncode == 2
    assert "original" in result.stderr
    assert client.images.get(tag).id == before
