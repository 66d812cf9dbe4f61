"""Which Dockerfile instruction made each layer, from the image config's history.

Both builders record one history entry per instruction of the final stage's chain (plus the base
image's own entries below them). The classic builder writes `/bin/sh -c #(nop)  COPY ...` for
instructions other than RUN and `/bin/sh -c CMD` (or `|N A=b /bin/sh -c CMD` with build
arguments) for RUN; BuildKit writes the instruction itself (`RUN /bin/sh -c CMD # buildkit`,
`COPY x y # buildkit`, `WORKDIR /app`). The mapping aligns the entries with the instructions from
the end, by keyword, and stops at the first disagreement: an instruction is named only when the
two sequences agree up to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from slimline.dockerfile.parse import Instruction, ParseError, parse
from slimline.dockerfile.stages import build_stages
from slimline.image.sources.base import HistoryEntry

_KEYWORDS = frozenset(
    [
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ]
)
_NOP = re.compile(r"#\(nop\)\s*([A-Za-z]+)")
_SHELL_RUN = re.compile(r"^(\|\d+(\s+\S+=\S*)*\s+)?/bin/(ba)?sh -c ")


@dataclass(frozen=True, slots=True)
class HistoryMatch:
    line: int
    instruction: str


def keyword_of(created_by: str) -> str | None:
    """The instruction keyword a history entry records, or None when it cannot be told."""
    text = created_by.strip()
    nop = _NOP.search(text)
    if nop:
        word = nop.group(1).upper()
        return word if word in _KEYWORDS else None
    if _SHELL_RUN.match(text):
        return "RUN"
    first = text.split(None, 1)[0].upper() if text else ""
    return first if first in _KEYWORDS else None


def map_history(
    history: Sequence[HistoryEntry], dockerfile_text: str, *, target: str | None = None
) -> dict[int, HistoryMatch]:
    """Index into `history` -> the Dockerfile instruction that wrote that entry.

    Raises ParseError when the Dockerfile does not parse.
    """
    doc = parse(dockerfile_text)
    graph = build_stages(doc, target)
    instructions: list[Instruction] = []
    for stage in graph.image_chain():
        instructions.extend(stage.instructions)
    # ONBUILD triggers of the base image and the FROM itself leave no entry of this file
    steps = [ins for ins in instructions if ins.keyword not in ("FROM",)]
    matches: dict[int, HistoryMatch] = {}
    position = len(steps) - 1
    for index in range(len(history) - 1, -1, -1):
        if position < 0:
            break
        keyword = keyword_of(history[index].created_by)
        step = steps[position]
        # the classic builder records no entry for ARG without a value used nowhere; skip ARGs
        # that the history does not show rather than give up
        while keyword != step.keyword and step.keyword == "ARG" and position > 0:
            position -= 1
            step = steps[position]
        if keyword == "LABEL" and step.keyword != "LABEL":
            # `docker build --label` appends entries that no line of the file wrote
            continue
        if keyword != step.keyword:
            break
        first_line = step.original.split("\n", 1)[0]
        matches[index] = HistoryMatch(step.span.line, first_line[:200])
        position -= 1
    return matches


__all__ = ["HistoryMatch", "ParseError", "keyword_of", "map_history"]
