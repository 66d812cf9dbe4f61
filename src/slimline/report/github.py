"""GitHub Actions workflow commands: one annotation per finding and per input error.

``::error file=app/Dockerfile,line=3,col=5,endLine=4,title=SL102 package-cache::message``.
Errors annotate as ``error``, warnings as ``warning``, info and style as ``notice``. Paths
should be relative to the repository root for GitHub to attach them to the diff: the CLI
passes the working directory as base_dir.
"""

from __future__ import annotations

from slimline.findings import Finding, InputError, Severity
from slimline.report._common import display_path, ordered, saving_suffix
from slimline.report.options import RenderOptions
from slimline.results import CheckReport

NAME = "github"

COMMANDS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
    Severity.STYLE: "notice",
}


def render(report: CheckReport, options: RenderOptions) -> str:
    lines: list[str] = []
    for result, findings in ordered(report):
        if result.error is not None:
            lines.append(_error(result.error, options))
        lines.extend(_finding(f, options) for f in findings)
    return "".join(line + "\n" for line in lines)


def _finding(finding: Finding, options: RenderOptions) -> str:
    props: list[tuple[str, object]] = [("file", display_path(finding.file, options.base_dir))]
    if finding.line >= 1:
        end_line = max(finding.line, finding.end_line or finding.line)
        props.append(("line", finding.line))
        if finding.column >= 1:
            props.append(("col", finding.column))
        props.append(("endLine", end_line))
        # GitHub honours a column range only on a single line.
        if end_line == finding.line and finding.end_column is not None:
            props.append(("endColumn", finding.end_column))
    props.append(("title", f"{finding.rule} {finding.practice.value}"))
    message = finding.message + saving_suffix(finding)
    return command(COMMANDS[finding.severity], props, message)


def _error(error: InputError, options: RenderOptions) -> str:
    props: list[tuple[str, object]] = [("file", display_path(error.file, options.base_dir))]
    if error.line is not None and error.line >= 1:
        props.append(("line", error.line))
        if error.column is not None and error.column >= 1:
            props.append(("col", error.column))
    return command("error", props, error.message)


def command(name: str, properties: list[tuple[str, object]], message: str) -> str:
    """One workflow command, escaped as the Actions runner unescapes it."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties)
    head = f"::{name} {props}" if props else f"::{name}"
    return f"{head}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
