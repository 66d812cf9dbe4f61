"""Fix helpers shared by the package-manager rules: which later steps depend on an index or
list a fix would delete, and the guards every package-manager edit goes through."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from slimline.dockerfile.context import RunStep
from slimline.dockerfile.edits import Edit
from slimline.dockerfile.fixes.base import FixContext, Unfixable
from slimline.dockerfile.fixes.locate import finding_offset, op_at, run_at
from slimline.dockerfile.fixes.shell_edits import (
    action_word,
    append_command,
    editable_command,
    editable_script,
    insert_after,
    invocation,
)
from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.shell import Command, basename
from slimline.findings import Finding

# Programs that, run from a later RUN, may install packages with whatever index is there.
_INSTALLER_SCRIPT_RUNNERS = frozenset({"sh", "bash", "dash", "ash", "zsh", "source", "."})


def located_op(fctx: FixContext, finding: Finding) -> tuple[RunStep, PackageOp]:
    run = run_at(fctx, finding_offset(fctx, finding))
    op = op_at(run, finding_offset(fctx, finding))
    editable_command(run, op.command)
    return run, op


def later_runs(fctx: FixContext, run: RunStep) -> list[RunStep]:
    """RUN steps after ``run`` that see its layer: later in its stage, or in a stage built
    ``FROM`` it (directly or not)."""
    graph = fctx.check.graph
    heirs = {s.index for s in graph.stages if run.stage in graph.image_chain(s)}
    return [
        r
        for r in fctx.check.runs
        if r.stage.index in heirs and r.instruction.span.offset > run.instruction.span.offset
    ]


def disables_errexit(run: RunStep) -> bool:
    """``set +e`` somewhere in the RUN: failures no longer stop it, so moving commands in or
    out of it can change what happens after one fails."""
    for command in run.commands:
        words = [w.text for w in command.words]
        if words[:1] != ["set"]:
            continue
        args = words[1:]
        if any(a.startswith("+") and a != "+o" and "e" in a[1:] for a in args):
            return True
        if "+o" in args and "errexit" in args:
            return True
    return False


def guard_branches(run: RunStep, manager: str) -> None:
    """The brief's rule for edits around installs: not in a RUN with ``set +e`` or with the
    manager's commands on ``||`` branches or other conditional paths."""
    if disables_errexit(run):
        raise Unfixable("the RUN turns off errexit (`set +e`)")
    for op in run.ops_of(manager):
        if op.command.conditional:
            raise Unfixable(
                f"`{op.tool} {op.raw_action}` runs only on some paths (after `||`, in a branch "
                "or a loop)"
            )


def runs_installer_script(run: RunStep) -> Command | None:
    """A command that runs a shell script file or a downloaded script, which may install
    packages itself."""
    for command in run.commands:
        words = command.unwrapped()
        if not words:
            continue
        prog = words[0].text
        name = basename(prog)
        if prog.startswith("./") or name.endswith(".sh"):
            return command
        if name not in _INSTALLER_SCRIPT_RUNNERS:
            continue
        args = [w.text for w in words[1:]]
        if command.pipe_from is not None:
            return command  # curl ... | sh
        if not any(a.startswith("-") and "c" in a for a in args) and any(
            not a.startswith("-") for a in args
        ):
            return command  # sh ./install.sh
    return None


def first_dependant(
    fctx: FixContext,
    run: RunStep,
    uses: Callable[[Command, PackageOp | None], bool],
    refreshes: Callable[[Command, PackageOp | None], bool],
) -> tuple[RunStep, Command] | None:
    """The first later command that reads what ``run`` leaves (an index, package lists)
    without refreshing it first in its own RUN."""
    for later in later_runs(fctx, run):
        for command in later.commands:
            op = package_op(command)
            if refreshes(command, op):
                break
            if uses(command, op):
                return later, command
    return None


def describe(run: RunStep, command: Command) -> str:
    """How a reason names a command: "`apt-get install` at line 7"."""
    op = package_op(command)
    if op is not None and op.raw_action:
        label = f"{op.tool} {op.raw_action}"
    else:
        label = " ".join(w.text for w in command.unwrapped()[:2])
    return f"`{label}` at line {run.instruction.line}"


def add_option(fctx: FixContext, op: PackageOp, option: str, *, after: str | None = None) -> Edit:
    """``option`` right after the op's subcommand word (or after the word ``after``)."""
    word = action_word(op)
    if after is not None:
        words = op.command.unwrapped()
        index = next(i for i, w in enumerate(words) if w is word)
        word = next((w for w in words[index:] if w.text == after), word)
    if word.dynamic or any(w.dynamic for w in op.command.unwrapped()[:1]):
        raise Unfixable("a variable names the package manager or its subcommand")
    return insert_after(fctx, op.command, word, option)


def append_cleanup(fctx: FixContext, run: RunStep, op: PackageOp, arguments: str) -> Edit:
    """Append ``<the op's program, as invoked> <arguments>`` to the end of the RUN."""
    editable_script(run)
    return append_command(fctx, run, f"{invocation(op)} {arguments}")


def names(ops: Iterable[PackageOp]) -> str:
    return ", ".join(sorted({f"`{op.tool} {op.raw_action}`".strip() for op in ops}))
