"""Human-readable output: findings grouped by file, each with a code frame, then a summary.

A finding reads ``path:line:col: severity RULE [practice] message (saves ~12.3 MB)``; sizes
use decimal SI units (1 MB = 1,000,000 bytes), like ``docker images``. Colours are plain ANSI
escapes: a styling library would cost more start-up time than the whole check.
"""

from __future__ import annotations

from collections import Counter

from slimline.findings import Finding, InputError, Severity
from slimline.report._common import (
    display_path,
    human_bytes,
    one_line,
    ordered,
    saving_suffix,
    total_estimated_bytes,
)
from slimline.report.options import RenderOptions
from slimline.results import CheckReport

NAME = "text"

MAX_FRAME_LINES = 3

_ANSI = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
_SEVERITY_STYLE = {
    Severity.ERROR: ("red", "bold"),
    Severity.WARNING: ("yellow", "bold"),
    Severity.INFO: ("blue", "bold"),
    Severity.STYLE: ("magenta", "bold"),
}
# Counts read "2 errors" but "2 info": only countable nouns take a plural.
_PLURAL = {Severity.ERROR: "errors", Severity.WARNING: "warnings"}


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not text or not styles:
            return text
        codes = ";".join(_ANSI[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def render(report: CheckReport, options: RenderOptions) -> str:
    paint = _Painter(options.color)
    blocks: list[list[str]] = []
    for result, findings in ordered(report):
        lines = _source_lines(result.source)
        if result.error is not None:
            blocks.append(_error_block(result.error, lines, options, paint))
        for finding in findings:
            blocks.append(_finding_block(finding, lines, options, paint))
    out: list[str] = []
    for block in blocks:
        out.extend(block)
        out.append("")
    out.append(_summary(report, paint))
    return "\n".join(out) + "\n"


def _source_lines(source: str | None) -> list[str] | None:
    if source is None:
        return None
    # Split on line feeds only, as the parser counts lines; str.splitlines would also
    # break on form feeds and Unicode separators and shift every later line number.
    lines = [line.removesuffix("\r") for line in source.split("\n")]
    if lines and not lines[-1]:
        lines.pop()  # the final newline ends the last line; it does not start another
    return lines


def _location(path: str, line: int | None, column: int | None) -> str:
    if line is None or line < 1:
        return path
    if column is None or column < 1:
        return f"{path}:{line}"
    return f"{path}:{line}:{column}"


def _finding_block(
    finding: Finding, lines: list[str] | None, options: RenderOptions, paint: _Painter
) -> list[str]:
    where = _location(display_path(finding.file, options.base_dir), finding.line, finding.column)
    parts = [
        paint(f"{where}:", "bold"),
        paint(finding.severity.value, *_SEVERITY_STYLE[finding.severity]),
        paint(finding.rule, "bold"),
        paint(f"[{finding.practice.value}]", "cyan"),
    ]
    message = one_line(finding.message)
    if message:
        parts.append(message)
    header = " ".join(parts)
    saving = saving_suffix(finding)
    if saving:
        header += paint(saving, "green")
    end_line = finding.end_line if finding.end_line is not None else finding.line
    frame = _code_frame(
        lines,
        finding.line,
        finding.column,
        end_line,
        finding.end_column,
        paint,
        _SEVERITY_STYLE[finding.severity][0],
    )
    return [header, *frame]


def _error_block(
    error: InputError, lines: list[str] | None, options: RenderOptions, paint: _Painter
) -> list[str]:
    where = _location(display_path(error.file, options.base_dir), error.line, error.column)
    label = paint("error:", "red", "bold")
    header = f"{paint(where + ':', 'bold')} {label} {one_line(error.message)}"
    if error.line is None:
        return [header.rstrip()]
    column = error.column if error.column is not None else 1
    frame = _code_frame(lines, error.line, column, error.line, None, paint, "red")
    return [header.rstrip(), *frame]


def _code_frame(
    lines: list[str] | None,
    line: int,
    column: int,
    end_line: int,
    end_column: int | None,
    paint: _Painter,
    colour: str,
) -> list[str]:
    """Up to MAX_FRAME_LINES source lines of the range, numbered, with a caret under the
    start column; a range that is longer ends in ``...``. Nothing when the range lies
    outside the source (a stale or synthetic position must not break the report)."""
    if not lines or line < 1 or line > len(lines):
        return []
    last = min(max(line, end_line), len(lines))
    shown_last = min(last, line + MAX_FRAME_LINES - 1)
    width = len(str(shown_last))
    blank_gutter = paint(f"  {' ' * width} |", "dim")
    frame: list[str] = []
    for number in range(line, shown_last + 1):
        text = one_line(lines[number - 1])
        gutter = paint(f"  {number:>{width}} |", "dim")
        frame.append(f"{gutter} {text}" if text else gutter)
        if number == line:
            marker = _marker(text, column, line, end_line, end_column, paint, colour)
            frame.append(f"{blank_gutter} {marker}")
    if last > shown_last:
        frame.append(f"{blank_gutter} {paint('...', 'dim')}")
    return frame


def _marker(
    text: str,
    column: int,
    line: int,
    end_line: int,
    end_column: int | None,
    paint: _Painter,
    colour: str,
) -> str:
    start = max(column, 1) - 1
    # Tabs are copied so that the caret lines up however wide the terminal draws them.
    pad = "".join("\t" if c == "\t" else " " for c in text[:start]) + " " * (start - len(text))
    width = 1
    if end_line == line and end_column is not None:
        width = max(1, min(end_column - 1, len(text)) - start)
    return pad + paint("^" + "~" * (width - 1), colour, "bold")


def _summary(report: CheckReport, paint: _Painter) -> str:
    findings = report.findings
    counts = Counter(f.severity for f in findings)
    noun = "finding" if len(findings) == 1 else "findings"
    text = paint(f"{len(findings)} {noun}", "bold")
    by_severity = [
        paint(f"{counts[s]} {_severity_noun(s, counts[s])}", _SEVERITY_STYLE[s][0])
        for s in Severity
        if counts[s]
    ]
    if by_severity:
        text += f" ({', '.join(by_severity)})"
    files = len(report.files)
    text += f" in {files} {'file' if files == 1 else 'files'}"
    unreadable = len(report.errors)
    if unreadable:
        text += "; " + paint(
            f"{unreadable} {'file' if unreadable == 1 else 'files'} could not be read", "red"
        )
    saving = total_estimated_bytes(findings)
    if saving is not None:
        text += "; estimated saving " + paint(f"~{human_bytes(saving)}", "green", "bold")
    return text


def _severity_noun(severity: Severity, count: int) -> str:
    return severity.value if count == 1 else _PLURAL.get(severity, severity.value)
