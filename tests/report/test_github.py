from __future__ import annotations

from typing import Any

from slimline.findings import Finding, InputError, Practice, Severity
from slimline.report import RenderOptions, get_renderer
from slimline.report.github import command, escape_data, escape_property
from slimline.results import CheckReport, FileResult

render = get_renderer("github").render


def _finding(**changes: Any) -> Finding:
    values: dict[str, Any] = {
        "rule": "SL001",
        "practice": Practice.PINNING,
        "severity": Severity.WARNING,
        "message": "m",
        "file": "Dockerfile",
        "line": 1,
    }
    values.update(changes)
    return Finding(**values)


def _render(*findings: Finding, **options: Any) -> str:
    files = [FileResult(path=f.file, findings=[f]) for f in findings]
    return render(CheckReport(files=files, rules={}), RenderOptions(**options))


def test_escape_data() -> None:
    assert escape_data("100% done\r\nnext\nline") == "100%25 done%0D%0Anext%0Aline"
    # Colons and commas are data, not syntax, after the "::" separator.
    assert escape_data("a: b, c") == "a: b, c"


def test_escape_property() -> None:
    assert escape_property("dir,with:odd%chars\n") == "dir%2Cwith%3Aodd%25chars%0A"


def test_percent_is_escaped_first() -> None:
    # Escaping "%" after the others would turn "%0A" into "%250A".
    assert escape_data("\n") == "%0A"
    assert escape_property(",") == "%2C"


def test_escaping_in_a_command() -> None:
    out = _render(
        _finding(
            file="odd,dir:x/Dockerfile",
            rule="SL1",
            message="50% of the layer:\nwasted, really",
            line=2,
            column=3,
        )
    )
    assert out == (
        "::warning file=odd%2Cdir%3Ax/Dockerfile,line=2,col=3,endLine=2,"
        "title=SL1 pinning::50%25 of the layer:%0Awasted, really\n"
    )


def test_levels_and_saving() -> None:
    out = _render(
        _finding(severity=Severity.ERROR, estimated_bytes=1_500_000),
        _finding(severity=Severity.INFO, file="b"),
        _finding(severity=Severity.STYLE, file="c"),
    ).splitlines()
    assert out[0].startswith("::error ")
    assert out[0].endswith("::m (saves ~1.5 MB)")
    assert out[1].startswith("::notice file=b,")
    assert out[2].startswith("::notice file=c,")


def test_end_column_only_on_one_line() -> None:
    one_line = _render(_finding(column=2, end_line=1, end_column=9))
    assert "line=1,col=2,endLine=1,endColumn=9,title=" in one_line
    many_lines = _render(_finding(column=2, end_line=4, end_column=9))
    assert "endColumn" not in many_lines
    assert "endLine=4," in many_lines


def test_input_errors() -> None:
    report = CheckReport(
        files=[
            FileResult(path="a", error=InputError(file="a", message="cannot read: 100%")),
            FileResult(path="b", error=InputError(file="b", message="bad", line=2, column=7)),
        ],
        rules={},
    )
    assert render(report, RenderOptions()) == (
        "::error file=a::cannot read: 100%25\n::error file=b,line=2,col=7::bad\n"
    )


def test_empty_report() -> None:
    assert render(CheckReport(files=[], rules={}), RenderOptions()) == ""


def test_base_dir(tmp_path: object) -> None:
    out = _render(_finding(file=f"{tmp_path}/ci/Dockerfile"), base_dir=str(tmp_path))
    assert out.startswith("::warning file=ci/Dockerfile,")


def test_command_without_properties() -> None:
    assert command("notice", [], "hi") == "::notice::hi"
