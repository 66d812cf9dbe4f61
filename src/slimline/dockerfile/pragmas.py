"""Inline ignores: ``# slimline ignore=SL201,SL202`` and ``# hadolint ignore=DL3008`` apply to
the next instruction; ``# slimline global ignore=...`` (and hadolint's ``global ignore``) to the
whole file. hadolint ids are mapped through each rule's ``refs``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from slimline.dockerfile.parse import Dockerfile

_PRAGMA = re.compile(r"^(slimline|hadolint)\s+(global\s+)?ignore\s*=\s*(.+)$", re.IGNORECASE)


@dataclass(slots=True)
class Ignores:
    global_ids: set[str] = field(default_factory=set)
    by_line: dict[int, set[str]] = field(
        default_factory=dict
    )  # instruction line range start -> ids
    ranges: list[tuple[int, int, set[str]]] = field(default_factory=list)

    def ignored(self, rule_id: str, line: int) -> bool:
        if rule_id in self.global_ids or "all" in self.global_ids:
            return True
        for start, end, ids in self.ranges:
            if start <= line <= end and (rule_id in ids or "all" in ids):
                return True
        return False


def _ids(text: str, tool: str, peer_map: Mapping[str, set[str]]) -> set[str]:
    out: set[str] = set()
    for raw in re.split(r"[,\s]+", text.strip()):
        rid = raw.strip().upper()
        if not rid:
            continue
        if rid == "ALL":
            out.add("all")
        elif tool == "slimline":
            out.add(rid)
        else:
            out |= peer_map.get(rid, set())
    return out


def collect(doc: Dockerfile, peer_map: Mapping[str, set[str]]) -> Ignores:
    """``peer_map`` maps a peer id (``DL3008``) to the slimline rule ids that name it in refs."""
    ignores = Ignores()
    for instruction, comments in doc.comments_before():
        ids: set[str] = set()
        for comment in comments:
            m = _PRAGMA.match(comment.text)
            if not m:
                continue
            found = _ids(m.group(3), m.group(1).lower(), peer_map)
            if m.group(2):
                ignores.global_ids |= found
            else:
                ids |= found
        if ids:
            ignores.ranges.append((instruction.line, instruction.end_line, ids))
    # A global pragma may also sit anywhere, e.g. after the directives.
    for node in doc.nodes:
        if node.kind == "comment" and node.item is not None and hasattr(node.item, "text"):
            m = _PRAGMA.match(node.item.text)
            if m and m.group(2):
                ignores.global_ids |= _ids(m.group(3), m.group(1).lower(), peer_map)
    return ignores
