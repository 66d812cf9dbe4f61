"""Helpers shared by the format modules (not a format: it declares no NAME)."""

from __future__ import annotations

import os

from slimline.findings import Finding
from slimline.results import CheckReport, FileResult

_UNITS = ("kB", "MB", "GB", "TB", "PB")


def ordered(report: CheckReport) -> list[tuple[FileResult, list[Finding]]]:
    """Files in the order they were checked, each with its findings sorted by position.

    The message takes part in the key so that two findings of one rule at one place still
    come out in the same order on every run.
    """
    return [
        (result, sorted(result.findings, key=lambda f: (*f.sort_key(), f.message)))
        for result in report.files
    ]


def relative_path(path: str, base_dir: str | None) -> tuple[str, bool]:
    """``path`` for display with POSIX separators, and whether it is relative.

    With a base directory, paths under it become relative to it; others keep their form.
    """
    if base_dir is not None:
        try:
            rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base_dir))
        except ValueError:  # on Windows, a path on another drive has no relative form
            rel = None
        if rel is not None and rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            return rel.replace(os.sep, "/"), True
    return path.replace(os.sep, "/"), not os.path.isabs(path)


def display_path(path: str, base_dir: str | None) -> str:
    return relative_path(path, base_dir)[0]


def human_bytes(n: int) -> str:
    """Decimal SI units (1 MB = 1,000,000 bytes), as ``docker images`` reports sizes."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in _UNITS:
        value /= 1000
        if round(value, 1) < 1000 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def total_estimated_bytes(findings: list[Finding]) -> int | None:
    """The sum of the known estimates, or None when no finding has one."""
    known = [f.estimated_bytes for f in findings if f.estimated_bytes is not None]
    return sum(known) if known else None


def saving_suffix(finding: Finding) -> str:
    if finding.estimated_bytes is None:
        return ""
    return f" (saves ~{human_bytes(finding.estimated_bytes)})"


def one_line(text: str) -> str:
    """Text safe to show on one terminal line: line breaks become spaces and other control
    characters U+FFFD, so that rule messages quoting the input cannot move the cursor or
    change colours; tabs are kept for alignment."""
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if text.isprintable():
        return text.rstrip()
    return "".join(
        c if c == "\t" or c.isprintable() or not _is_control(c) else "\ufffd" for c in text
    ).rstrip()


def _is_control(c: str) -> bool:
    code = ord(c)
    return code < 0x20 or 0x7F <= code < 0xA0
