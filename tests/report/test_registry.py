from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slimline.report import (
    Renderer,
    RenderOptions,
    UnknownFormatError,
    available_formats,
    get_renderer,
    scan_formats,
)
from tests.report.sample import sample_report


def test_available_formats() -> None:
    assert available_formats() == ["github", "json", "sarif", "text"]


@pytest.mark.parametrize("name", ["text", "json", "sarif", "github"])
def test_get_renderer(name: str) -> None:
    renderer = get_renderer(name)
    assert isinstance(renderer, Renderer)
    assert renderer.name == name
    report = sample_report()
    assert renderer(report) == renderer.render(report, RenderOptions())


def test_name_is_case_insensitive() -> None:
    assert get_renderer("SARIF").name == "sarif"


def test_unknown_format() -> None:
    with pytest.raises(KeyError) as info:
        get_renderer("xml")
    assert isinstance(info.value, UnknownFormatError)
    assert str(info.value) == "unknown output format 'xml' (available: github, json, sarif, text)"


@pytest.mark.parametrize("name", ["options", "_common", ""])
def test_helper_modules_are_not_formats(name: str) -> None:
    with pytest.raises(KeyError):
        get_renderer(name)


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_listing_imports_no_format_module() -> None:
    code = (
        "import sys\n"
        "from slimline.report import available_formats\n"
        "available_formats()\n"
        "print(sorted(m for m in sys.modules if m.startswith('slimline.report.')))\n"
    )
    assert _run(code) == "['slimline.report.options']"


def test_get_renderer_imports_only_its_module() -> None:
    code = (
        "import sys\n"
        "from slimline.report import get_renderer\n"
        "get_renderer('github')\n"
        "print(sorted(m for m in sys.modules if m.startswith('slimline.report.')))\n"
    )
    assert _run(code) == (
        "['slimline.report._common', 'slimline.report.github', 'slimline.report.options']"
    )


def test_scan_skips_modules_without_name(tmp_path: Path) -> None:
    (tmp_path / "options.py").write_text('NAME = "options"\n')
    (tmp_path / "_helpers.py").write_text('NAME = "helpers"\n')
    (tmp_path / "noname.py").write_text('"""NAME = "no"."""\nTITLE = "x"\n')
    (tmp_path / "indented.py").write_text('if True:\n    NAME = "indented"\n')
    (tmp_path / "plain.py").write_text('NAME = "plain"\n')
    (tmp_path / "annotated.py").write_text("NAME: str = 'annotated'  # the format\n")
    (tmp_path / "renamed.py").write_text('from x import y\n\nNAME = "other-name"\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "__init__.py").write_text('NAME = "sub"\n')
    assert scan_formats([str(tmp_path)], "fakepkg") == {
        "annotated": "annotated",
        "other-name": "renamed",
        "plain": "plain",
    }
