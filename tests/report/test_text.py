from __future__ import annotations

import re
from typing import Any

from slimline.findings import Finding, InputError, Practice, Severity
from slimline.report import RenderOptions, get_renderer
from slimline.report._common import human_bytes
from slimline.results import CheckReport, FileResult
from tests.report.sample import RULES, sample_report

render = get_renderer("text").render


def _one(finding: Finding, source: str | None, **options: Any) -> str:
    report = CheckReport(
        files=[FileResult(path=finding.file, source=source, findings=[finding])], rules=RULES
    )
    return render(report, RenderOptions(**options))


def _finding(**changes: Any) -> Finding:
    values: dict[str, Any] = {
        "rule": "SL001",
        "practice": Practice.PINNING,
        "severity": Severity.WARNING,
        "message": "base image uses the latest tag",
        "file": "Dockerfile",
        "line": 1,
        "column": 6,
    }
    values.update(changes)
    return Finding(**values)


def test_plain_has_no_escapes_and_colour_has() -> None:
    plain = render(sample_report(), RenderOptions(color=False))
    coloured = render(sample_report(), RenderOptions(color=True))
    assert "\x1b[" not in plain
    assert "\x1b[31;1merror\x1b[0m" in coloured
    # Colour only decorates: without the escapes the text is the same.
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_finding_line_and_frame() -> None:
    out = _one(_finding(end_line=1, end_column=19), "FROM python:latest\n")
    assert out.splitlines()[:3] == [
        "Dockerfile:1:6: warning SL001 [pinning] base image uses the latest tag",
        "  1 | FROM python:latest",
        "    |      ^~~~~~~~~~~~~",
    ]


def test_saving_is_shown() -> None:
    out = _one(_finding(estimated_bytes=12_345_678), None)
    assert out.splitlines()[0].endswith("(saves ~12.3 MB)")
    assert out.splitlines()[-1].endswith("; estimated saving ~12.3 MB")


def test_finding_beyond_the_source_has_no_frame() -> None:
    out = _one(_finding(line=40, end_line=42), "FROM scratch\n")
    assert out.splitlines() == [
        "Dockerfile:40:6: warning SL001 [pinning] base image uses the latest tag",
        "",
        "1 finding (1 warning) in 1 file",
    ]


def test_range_running_past_the_end_is_clipped() -> None:
    out = _one(_finding(line=2, column=1, end_line=9), "FROM a\nRUN b\n")
    assert out.splitlines()[1:4] == ["  2 | RUN b", "    | ^", ""]


def test_column_beyond_the_line_and_zero_positions() -> None:
    out = _one(_finding(line=1, column=30), "FROM a\n")
    assert out.splitlines()[2] == "    | " + " " * 29 + "^"
    out = _one(_finding(line=0, column=0), "FROM a\n")
    assert out.splitlines()[0].startswith("Dockerfile: warning SL001")


def test_long_range_is_truncated() -> None:
    source = "".join(f"RUN step{i} \\\n" for i in range(1, 10))
    out = _one(_finding(line=1, column=1, end_line=9), source)
    lines = out.splitlines()
    assert lines[1:6] == [
        "  1 | RUN step1 \\",
        "    | ^",
        "  2 | RUN step2 \\",
        "  3 | RUN step3 \\",
        "    | ...",
    ]


def test_tabs_keep_the_caret_aligned() -> None:
    out = _one(_finding(line=1, column=3), "\t\tcurl\n")
    assert out.splitlines()[1:3] == ["  1 | \t\tcurl", "    | \t\t^"]


def test_control_characters_are_neutralised() -> None:
    out = _one(_finding(message="bad\x1b[31m\nname"), "FROM \x1b[2Jx\n")
    assert "\x1b" not in out
    assert "bad\ufffd[31m name" in out


def test_input_errors() -> None:
    report = CheckReport(
        files=[
            FileResult(path="a", error=InputError(file="a", message="permission denied")),
            FileResult(path="b", error=InputError(file="b", message="bad", line=3)),
        ],
        rules={},
    )
    assert render(report, RenderOptions()).splitlines() == [
        "a: error: permission denied",
        "",
        "b:3: error: bad",
        "",
        "0 findings in 2 files; 2 files could not be read",
    ]


def test_empty_report() -> None:
    report = CheckReport(files=[], rules={})
    assert render(report, RenderOptions()) == "0 findings in 0 files\n"
    assert "\x1b[1m0 findings\x1b[0m" in render(report, RenderOptions(color=True))


def test_base_dir_makes_paths_relative(tmp_path: object) -> None:
    base = str(tmp_path)
    out = _one(_finding(file=f"{base}/sub/Dockerfile"), None, base_dir=base)
    assert out.startswith("sub/Dockerfile:1:6: ")
    out = _one(_finding(file="/elsewhere/Dockerfile"), None, base_dir=base)
    assert out.startswith("/elsewhere/Dockerfile:1:6: ")


def test_human_bytes() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(999) == "999 B"
    assert human_bytes(1000) == "1.0 kB"
    assert human_bytes(12_345_678) == "12.3 MB"
    assert human_bytes(999_960_000) == "1.0 GB"
    assert human_bytes(3 * 10**18) == "3000.0 PB"
