"""The analysis and SBOM registries, and what listing them costs at start-up."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from slimline import report
from slimline.report import Renderer, RenderOptions, UnknownFormatError
from slimline.report import analysis as analysis_formats
from slimline.report import sbom as sbom_formats
from slimline.report.analysis import AnalysisOptions
from slimline.report.sbom import SbomOptions
from tests.report.analysis_sample import sample_analysis


def test_available_formats() -> None:
    assert analysis_formats.available_formats() == ["json", "text"]
    assert sbom_formats.available_formats() == ["cyclonedx", "spdx"]
    # the subpackages are not formats of `slimline check`
    assert report.available_formats() == ["github", "json", "sarif", "text"]


@pytest.mark.parametrize(
    ("registry", "name"),
    [
        (analysis_formats, "text"),
        (analysis_formats, "json"),
        (sbom_formats, "cyclonedx"),
        (sbom_formats, "spdx"),
    ],
)
def test_get_renderer(registry: object, name: str) -> None:
    renderer = registry.get_renderer(name.upper())  # type: ignore[attr-defined]
    assert isinstance(renderer, Renderer)
    assert renderer.name == name
    analysis = sample_analysis()
    fixed = SbomOptions(created=datetime(2024, 1, 1, tzinfo=UTC))
    assert renderer(analysis, fixed) == renderer.render(analysis, fixed)
    assert renderer(analysis).startswith("{" if name != "text" else "Image ")


def test_unknown_format() -> None:
    with pytest.raises(UnknownFormatError) as info:
        sbom_formats.get_renderer("swid")
    assert str(info.value) == "unknown output format 'swid' (available: cyclonedx, spdx)"
    for name in ("options", "_shared", "_common"):
        with pytest.raises(KeyError):
            analysis_formats.get_renderer(name)
        with pytest.raises(KeyError):
            sbom_formats.get_renderer(name)


def test_options_carry_over() -> None:
    plain = RenderOptions(color=True, tool_version="1.2", base_dir="/x")
    widened = AnalysisOptions.of(plain)
    assert (widened.color, widened.tool_version, widened.base_dir) == (True, "1.2", "/x")
    assert widened.width is None and widened.columns == 100
    assert AnalysisOptions.of(widened) is widened
    assert AnalysisOptions(width=10).columns == 40
    assert SbomOptions.of(plain).tool_version == "1.2"


def _modules_after(code: str) -> list[str]:
    program = (
        "import sys\n"
        f"{code}\n"
        "heavy = ('rich', 'cyclonedx', 'packageurl', 'jsonschema', 'license_expression')\n"
        "print(sorted(m for m in sys.modules if m.startswith('slimline.report')"
        " or m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    return eval(done.stdout.strip())  # type: ignore[no-any-return]


def test_listing_imports_no_format_and_no_heavy_library() -> None:
    loaded = _modules_after(
        "from slimline.report import analysis, sbom, available_formats\n"
        "available_formats(); analysis.available_formats(); sbom.available_formats()"
    )
    assert loaded == [
        "slimline.report",
        "slimline.report.analysis",
        "slimline.report.analysis.options",
        "slimline.report.options",
        "slimline.report.sbom",
        "slimline.report.sbom.options",
    ]


def test_check_formats_do_not_load_the_image_formats() -> None:
    loaded = _modules_after("from slimline.report import get_renderer\nget_renderer('text')")
    assert loaded == [
        "slimline.report",
        "slimline.report._common",
        "slimline.report.options",
        "slimline.report.text",
    ]


def test_json_and_spdx_do_without_rich() -> None:
    loaded = _modules_after(
        "from slimline.report import analysis, sbom\n"
        "analysis.get_renderer('json'); sbom.get_renderer('spdx')"
    )
    assert not any(m.split(".")[0] == "rich" for m in loaded)
    assert not any(m.split(".")[0] == "cyclonedx" for m in loaded)
