"""`analyze --fail-on` conditions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from slimline.findings import Practice, Severity
from slimline.image.gates import failed_gates, parse_gates
from slimline.image.model import ImageAnalysis, ImageFinding
from slimline.image.sources.base import ImageConfig
from slimline.image.waste import WasteReport

WASTE = WasteReport(
    score=0.9,
    wasted_bytes=30_000_000,
    user_wasted_percent=0.25,
    reclaimable_bytes=12_000_000,
    size_bytes=400_000_000,
    user_size_bytes=120_000_000,
    inefficient=(),
)
ANALYSIS = ImageAnalysis(
    name="img",
    platform="linux/amd64",
    config=ImageConfig(),
    layers=(),
    waste=WASTE,
    size_bytes=400_000_000,
    final_bytes=380_000_000,
    file_count=10,
    findings=(
        ImageFinding("SLI301", Practice.PACKAGE_CACHE, Severity.WARNING, "apt lists", "m", 19_000),
    ),
)


@pytest.mark.parametrize(
    ("condition", "fails"),
    [
        ("efficiency<0.95", True),
        ("efficiency<95%", True),
        ("efficiency<0.9", False),
        ("efficiency<=0.9", True),
        ("wasted>20MB", True),
        ("wasted>30MB", False),
        ("wasted>=28.6MiB", True),
        ("user-wasted>10%", True),
        ("user-wasted>0.3", False),
        ("reclaimable>10MB", True),
        ("size>1GB", False),
        ("final-size>300MB", True),
        ("bloat>10kB", True),
        ("packages>0", False),
        ("layers>=0", True),
        ("warning", True),
        ("error", False),
        ("findings>=warning", True),
    ],
)
def test_conditions(condition: str, fails: bool) -> None:
    assert bool(failed_gates(ANALYSIS, parse_gates([condition]))) is fails


def test_reasons_name_the_value() -> None:
    reasons = failed_gates(ANALYSIS, parse_gates(["efficiency<0.95,wasted>1MB"]))
    assert reasons == ["efficiency is 90.00% (efficiency<0.95)", "wasted is 30.0 MB (wasted>1MB)"]
    clean = replace(ANALYSIS, findings=())
    assert failed_gates(clean, parse_gates(["info"])) == []


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("speed>1", "unknown metric 'speed'"),
        ("wasted>lots", "not a size"),
        ("efficiency<high", "not a ratio"),
        ("packages>1.5", "not a count"),
        ("whatever", "expected METRIC<VALUE"),
    ],
)
def test_bad_conditions(condition: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_gates([condition])
