"""Text edits on the original Dockerfile: the only way `fix` changes a file.

An edit replaces the characters between two offsets of the original text. Edits never overlap;
applying them keeps every character outside them, so comments, blank lines, indentation and
continuation style survive untouched.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
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

    @classmethod
    def insert(cls, offset: int, text: str) -> Edit:
        return cls(offset, offset, text)

    @classmethod
    def delete(cls, start: int, end: int) -> Edit:
        return cls(start, end, "")


def overlaps(a: Edit, b: Edit) -> bool:
    """Whether the two edits touch the same characters (two insertions at one offset do)."""
    if a.start == a.end or b.start == b.end:
        return a.start == b.start or (a.start < b.start < a.end) or (b.start < a.start < b.end)
    return a.start < b.end and b.start < a.end


def any_overlap(first: Iterable[Edit], second: Iterable[Edit]) -> bool:
    """Whether some edit of ``first`` overlaps some edit of ``second``."""
    others = list(second)
    return any(overlaps(a, b) for a in first for b in others)


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """The text with every edit applied; OverlappingEditsError when two overlap."""
    ordered = sorted(edits)
    for previous, current in itertools.pairwise(ordered):
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


class OffsetMap:
    """Offsets through a set of applied (non-overlapping) edits, both ways.

    ``to_new`` follows a position of the old text into the new one (a position inside a
    replaced range goes to the start of its replacement; a position where text was inserted
    moves past the insertion); ``to_old`` goes back (a position inside inserted text goes to
    the start of the range it replaced).
    """

    def __init__(self, edits: Sequence[Edit]):
        self._edits = sorted(edits)
        self._old_starts = [e.start for e in self._edits]
        new_starts: list[int] = []
        delta = 0
        for e in self._edits:
            new_starts.append(e.start + delta)
            delta += len(e.text) - (e.end - e.start)
        self._new_starts = new_starts

    def _delta_before(self, index: int) -> int:
        return sum(len(e.text) - (e.end - e.start) for e in self._edits[:index])

    def to_new(self, offset: int) -> int:
        i = bisect.bisect_right(self._old_starts, offset)
        # Edits starting at or before ``offset``; the last of them may contain it.
        if i and self._edits[i - 1].start < offset < self._edits[i - 1].end:
            return self._new_starts[i - 1]
        if i and self._edits[i - 1].start == offset and self._edits[i - 1].end > offset:
            return self._new_starts[i - 1]
        return offset + self._delta_before(i)

    def to_old(self, offset: int) -> int:
        i = bisect.bisect_right(self._new_starts, offset)
        if i:
            edit = self._edits[i - 1]
            start = self._new_starts[i - 1]
            if start <= offset < start + len(edit.text):
                return edit.start
            if offset >= start + len(edit.text):
                return edit.end + (offset - start - len(edit.text))
        return offset


class OffsetChain:
    """Offsets through several rounds of edits (each round applied to the previous result)."""

    def __init__(self) -> None:
        self._rounds: list[OffsetMap] = []

    def add(self, edits: Sequence[Edit]) -> None:
        self._rounds.append(OffsetMap(edits))

    def to_original(self, offset: int) -> int:
        for round_ in reversed(self._rounds):
            offset = round_.to_old(offset)
        return offset
