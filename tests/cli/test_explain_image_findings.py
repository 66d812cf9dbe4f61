"""`slimline explain` documents the image findings of `analyze` (SLI ids) too."""

from __future__ import annotations

import subprocess
import sys

from slimline.image.bloat import detector_infos


def test_every_image_finding_is_explained() -> None:
    ids = sorted(detector_infos())
    assert ids and all(rid.startswith("SLI") for rid in ids)
    result = subprocess.run(
        [sys.executable, "-m", "slimline.cli", "explain", *ids],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for rid in ids:
        assert f"\n{rid} " in "\n" + result.stdout
    assert "practice: package-cache" in result.stdout


def test_unknown_image_finding_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "slimline.cli", "explain", "SLI999"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "slimline: error: unknown rule 'SLI999' (see 'slimline rules')\n"
