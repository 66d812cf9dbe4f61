"""`fix --split` and `fix --rebase` as steps of the fix pipeline (dockerfile.fix.Transform)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from slimline.dockerfile.fix import AppliedFix, FixReport, Transform


@dataclass(frozen=True, slots=True)
class StructuralOptions:
    """`split`: separate build and runtime stages; `dev`: also write a development Dockerfile;
    `rebase`: move the final image to a slimmer variant; `alpine`: allow a switch to musl."""

    split: bool = False
    dev: bool = False
    rebase: bool = False
    alpine: bool = False
    target: str | None = None
    context: Path | None = None

    @property
    def any(self) -> bool:
        return self.split or self.rebase


DEV_SUFFIX = ".dev"


def split_step(options: StructuralOptions) -> Transform:
    def step(text: str, path: str) -> FixReport:
        from slimline.dockerfile.split import split

        result = split(text, path, dev=options.dev, context=options.context)
        notes = [f"split: {note}" for note in result.notes]
        if result.refused:
            notes.append(f"split: not done: {result.refused}")
            return FixReport(path, text, text, notes=notes)
        report = FixReport(path, text, result.text, notes=notes)
        if result.text != text:
            what = f"separate build and runtime stages ({result.language})"
            report.applied.append(AppliedFix("split", 1, what, what))
        if result.dev_text is not None:
            report.companions[path + DEV_SUFFIX] = result.dev_text
        return report

    return step


def rebase_step(options: StructuralOptions) -> Transform:
    def step(text: str, path: str) -> FixReport:
        from slimline.dockerfile.rebase import rebase

        result = rebase(
            text, path, alpine=options.alpine, target=options.target, context=options.context
        )
        notes = [f"rebase: {note}" for note in result.notes]
        if result.refused:
            notes.append(f"rebase: not done: {result.refused}")
            return FixReport(path, text, text, notes=notes)
        what = f"base image {result.old_image} -> {result.new_image}"
        if result.added_packages:
            what += f" (adding {', '.join(result.added_packages)}, which it lacks)"
        return FixReport.from_edits(path, text, result.edits, "rebase", what, notes)

    return step


def structural_steps(options: StructuralOptions) -> Sequence[Transform]:
    steps: list[Transform] = []
    if options.split:
        steps.append(split_step(options))
    if options.rebase:
        steps.append(rebase_step(options))
    return steps
