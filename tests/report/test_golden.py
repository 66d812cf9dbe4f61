"""Every format against golden files.

Regenerate after an intended change with ``SLIMLINE_UPDATE_GOLDEN=1 pytest tests/report``
and review the diff of tests/report/golden/.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from slimline.report import RenderOptions, get_renderer
from slimline.results import CheckReport
from tests.report.sample import clean_report, empty_report, sample_report

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SLIMLINE_UPDATE_GOLDEN") == "1"

# A fixed version keeps the golden files stable across releases.
VERSION = "0.0.0-test"

REPORTS: dict[str, Callable[[], CheckReport]] = {
    "sample": sample_report,
    "empty": empty_report,
    "clean": clean_report,
}
VARIANTS = {
    # variant: (format, colour, file extension)
    "text": ("text", False, "txt"),
    "text-color": ("text", True, "txt"),
    "json": ("json", False, "json"),
    "sarif": ("sarif", False, "sarif"),
    "github": ("github", False, "txt"),
}


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"missing golden file {name}; run with SLIMLINE_UPDATE_GOLDEN=1"
    with path.open(encoding="utf-8", newline="") as fh:
        expected = fh.read()
    assert actual == expected, f"{name} differs; run with SLIMLINE_UPDATE_GOLDEN=1 and review"


@pytest.mark.parametrize("case", sorted(REPORTS))
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_golden(case: str, variant: str) -> None:
    fmt, color, ext = VARIANTS[variant]
    output = get_renderer(fmt).render(
        REPORTS[case](), RenderOptions(color=color, tool_version=VERSION)
    )
    check_golden(f"{case}.{variant}.{ext}", output)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_trailing_whitespace(variant: str) -> None:
    fmt, color, _ = VARIANTS[variant]
    output = get_renderer(fmt).render(sample_report(), RenderOptions(color=color))
    for line in output.split("\n"):
        assert line == line.rstrip(), repr(line)
    assert output == "" or output.endswith("\n")
    assert not output.endswith("\n\n")
