"""Every analysis format against golden files, for every sample analysis.

Regenerate after an intended change with ``SLIMLINE_UPDATE_GOLDEN=1 pytest tests/report`` and
review the diff of tests/report/golden/analysis/.
"""

from __future__ import annotations

import pytest

from slimline.report.analysis import AnalysisOptions, available_formats, get_renderer
from tests.report.analysis_sample import ANALYSES, check_golden

# A fixed version keeps the golden files stable across releases.
VERSION = "0.0.0-test"

VARIANTS = {
    # variant: (format, options, file extension, samples)
    "text": ("text", {}, "txt", sorted(ANALYSES)),
    "text-80": ("text", {"width": 80}, "txt", ["sample"]),
    "text-color": ("text", {"color": True}, "txt", ["sample"]),
    "json": ("json", {}, "json", sorted(ANALYSES)),
}
CASES = [
    (variant, sample) for variant, (*_, samples) in sorted(VARIANTS.items()) for sample in samples
]


def test_every_format_has_a_golden_variant() -> None:
    assert {fmt for fmt, *_ in VARIANTS.values()} == set(available_formats())


@pytest.mark.parametrize(("variant", "sample"), CASES)
def test_golden(variant: str, sample: str) -> None:
    fmt, options, ext, _ = VARIANTS[variant]
    output = get_renderer(fmt).render(
        ANALYSES[sample](), AnalysisOptions(tool_version=VERSION, **options)
    )
    check_golden(f"analysis/{sample}.{variant}.{ext}", output)


@pytest.mark.parametrize(("variant", "sample"), CASES)
def test_no_trailing_whitespace(variant: str, sample: str) -> None:
    fmt, options, _, _ = VARIANTS[variant]
    output = get_renderer(fmt).render(ANALYSES[sample](), AnalysisOptions(**options))
    for line in output.split("\n"):
        assert line == line.rstrip(), repr(line)
    assert output.endswith("\n")
    assert not output.endswith("\n\n")
