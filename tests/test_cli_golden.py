"""The whole pipeline, command line to output, on a fixed Dockerfile, for every format.

Regenerate after an intended change with SLIMLINE_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "cli"
INPUT = "tests/fixtures/dockerfiles/golden-input.Dockerfile"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_cli_output_matches_golden(fmt: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slimline.cli",
            "check",
            "--no-config",
            "--severity",
            "info",
            "-f",
            fmt,
            INPUT,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 1, result.stderr
    # SARIF names the checkout's absolute location; the golden file must not depend on it.
    output = result.stdout.replace(ROOT.resolve().as_uri() + "/", "file:///checkout/")
    golden = GOLDEN / f"check.{fmt}"
    if os.environ.get("SLIMLINE_UPDATE_GOLDEN"):
        golden.write_text(output, encoding="utf-8")
    assert output == golden.read_text(encoding="utf-8")
