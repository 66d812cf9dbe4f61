"""Every SBOM format against golden files, for every sample analysis.

The creation time and the tool version are fixed, which makes the documents reproducible.
Regenerate after an intended change with ``SLIMLINE_UPDATE_GOLDEN=1 pytest tests/report`` and
review the diff of tests/report/golden/sbom/.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slimline.report.sbom import SbomOptions, available_formats, get_renderer
from tests.report.analysis_sample import ANALYSES, check_golden

OPTIONS = SbomOptions(tool_version="0.0.0-test", created=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
EXTENSIONS = {"cyclonedx": "cdx.json", "spdx": "spdx.json"}


def test_every_format_has_golden_files() -> None:
    assert set(EXTENSIONS) == set(available_formats())


@pytest.mark.parametrize("sample", sorted(ANALYSES))
@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
def test_golden(fmt: str, sample: str) -> None:
    output = get_renderer(fmt).render(ANALYSES[sample](), OPTIONS)
    check_golden(f"sbom/{sample}.{EXTENSIONS[fmt]}", output)
