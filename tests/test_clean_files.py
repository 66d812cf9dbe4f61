"""Idiomatic, well-written Dockerfiles get no findings at all, at any severity."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimline.api import check_file
from slimline.config import Config
from slimline.findings import Severity

CLEAN = sorted((Path(__file__).parent / "fixtures" / "clean").glob("*"))


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.name)
def test_no_findings_on_well_written_files(path: Path) -> None:
    result = check_file(str(path), Config(severity=Severity.STYLE))
    assert result.error is None
    assert [f"{f.rule}:{f.line} {f.message}" for f in result.findings] == []
