"""From a finding back to what it points at: the instruction, the RUN step, the command."""

from __future__ import annotations

import bisect

from slimline.dockerfile.context import RunStep
from slimline.dockerfile.fixes.base import FixContext, Unfixable
from slimline.dockerfile.parse import Instruction, Node
from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.shell import Command
from slimline.findings import Finding


def line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index >= 0:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def offset_of(text: str, line: int, column: int, starts: list[int] | None = None) -> int:
    """The character offset of a 1-based line and column."""
    starts = starts if starts is not None else line_starts(text)
    if not 1 <= line <= len(starts):
        return len(text)
    return min(starts[line - 1] + max(column, 1) - 1, len(text))


def line_of(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset)


def finding_offset(fctx: FixContext, finding: Finding) -> int:
    key = "line-starts"
    starts = fctx.cache.get(key)
    if not isinstance(starts, list):
        starts = fctx.cache[key] = line_starts(fctx.text)
    return offset_of(fctx.text, finding.line, finding.column, starts)


def instruction_at(fctx: FixContext, offset: int) -> Instruction:
    for ins in fctx.check.doc.instructions:
        if ins.span.offset <= offset <= ins.span.end_offset:
            return ins
    raise Unfixable("the finding does not point at an instruction")


def node_of(fctx: FixContext, instruction: Instruction) -> Node:
    for node in fctx.check.doc.nodes:
        if node.item is instruction:
            return node
    raise Unfixable("the instruction is not in the file")


def run_at(fctx: FixContext, offset: int) -> RunStep:
    ins = instruction_at(fctx, offset)
    run = fctx.check.run_of(ins)
    if run is None:
        raise Unfixable(f"{ins.keyword} at line {ins.line} is not a RUN")
    return run


def command_at(run: RunStep, offset: int) -> Command:
    """The command a finding at ``offset`` names: the innermost one whose span holds it."""
    best: Command | None = None
    best_size = 0
    for command in run.commands:
        if not command.words:
            continue
        start, end = command.source_span()
        if start <= offset < max(end, start + 1):
            size = end - start
            if best is None or size <= best_size:
                best, best_size = command, size
    if best is None:
        raise Unfixable("cannot find the command the finding points at")
    return best


def op_at(run: RunStep, offset: int) -> PackageOp:
    op = package_op(command_at(run, offset))
    if op is None:
        raise Unfixable("the command is not a package-manager command slimline knows")
    return op
