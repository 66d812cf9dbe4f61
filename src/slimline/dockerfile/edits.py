"""Text edits on the original Dockerfile: the only way `fix` changes a file.

An edit replaces the characters between two offsets of the original text. Edits never overlap;
applying them keeps every character outside them, so comments, blank lines, indentation and
continuation style survive untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class OverlappingEditsError(ValueError):
    """Two edits touch the same characters: they cannot both be applied."""


@dataclass(frozen=True, order=True, slots=True)
class Edit:
    """Replace text[start:end] (0-based character offsets, end exclusive) with `text`.

    An insertion has start == end.
    """

    start: int
    end: int
    text: str

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad edit range {self.start}..{self.end}")


def overlaps(a: Edit, b: Edit) -> bool:
    """Whether the two edits touch the same characters (two insertions at one offset do)."""
    if a.start == a.end or b.start == b.end:
        return a.start == b.start or (a.start < b.start < a.end) or (b.start < a.start < b.end)
    return a.start < b.end and b.start < a.end


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """The text with every edit applied; OverlappingEditsError when two overlap."""
    ordered = sorted(edits)
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if overlaps(previous, current):
            raise OverlappingEditsError(f"edits overlap: {previous} and {current}")
    if ordered and ordered[-1].end > len(text):
        raise ValueError(f"edit past the end of the text: {ordered[-1]}")
    parts: list[str] = []
    position = 0
    for edit in ordered:
        parts.append(text[position : edit.start])
        parts.append(edit.text)
        position = edit.end
    parts.append(text[position:])
    return "".join(parts)
