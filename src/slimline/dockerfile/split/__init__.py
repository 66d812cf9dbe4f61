"""``slimline fix --split``: separate build and runtime (the practice "separate dev and prod
images").

From a single-stage Dockerfile, write a multi-stage one: a build stage on the original image,
with its compilers, headers, VCS clients and dev dependencies, and a runtime stage on a slim
image that receives only what the application needs (a virtualenv, pruned ``node_modules``, a
static binary, a program and its shared libraries). Optionally also a ``Dockerfile.dev`` text:
the original single-stage file, which keeps every tool for development.

Each language is a :class:`~slimline.dockerfile.split._base.Splitter` in its own module of this
package (``python``, ``node``, ``go``, ``native`` for C/C++ built with make); the first whose
``detect`` accepts the file writes the result. A new language is one new module. When no
splitter applies, or one cannot split the file safely (several services in one image, ONBUILD
triggers, an unknown output path, build tools needed at run time...), the text is returned
unchanged with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.parse import ParseError, parse
from slimline.dockerfile.rebase import Note, Refusal
from slimline.dockerfile.rules import load_rules
from slimline.dockerfile.shell import SHELLS, basename
from slimline.dockerfile.split._base import Source, SplitOptions, Splitter, splitters
from slimline.findings import Practice

__all__ = ["SplitOptions", "SplitResult", "Splitter", "split", "splitters"]


@dataclass(frozen=True, slots=True)
class SplitResult:
    text: str  # the multi-stage Dockerfile; the input itself when refused
    dev_text: str | None  # the development Dockerfile, when asked for and split
    notes: tuple[Note, ...]
    language: str | None = None  # the splitter that wrote it
    refused: str | None = None  # why nothing was changed

    @property
    def changed(self) -> bool:
        return self.refused is None


def split(
    text: str,
    path: str = "Dockerfile",
    *,
    dev: bool = False,
    context: str | Path | None = None,
    static_runtime: str = "scratch",
) -> SplitResult:
    """Split a single-stage Dockerfile into build and runtime stages.

    ``context`` is the build context directory: when given, requirement files, package.json,
    go.mod and Go sources are read to decide what the runtime needs (which libraries, whether a
    Go program needs CA certificates); without it those decisions take the safe side and say
    so. ``static_runtime`` is the base for static programs: ``"scratch"`` or ``"distroless"``.
    Raises :class:`~slimline.dockerfile.parse.ParseError` for input BuildKit would refuse.
    """
    doc = parse(text, path)
    ctx = CheckContext(doc)
    src = Source(doc, ctx, Path(context) if context is not None else None)
    if static_runtime not in ("scratch", "distroless"):
        raise ValueError(
            f"static_runtime must be 'scratch' or 'distroless', not {static_runtime!r}"
        )
    try:
        _preconditions(src)
        chosen = next((cls() for cls in splitters() if cls().detect(src)), None)
        if chosen is None:
            raise Refusal(
                "no splitter recognises this Dockerfile (known: "
                + ", ".join(cls.language for cls in splitters())
                + ")"
            )
        output = chosen.split(src, SplitOptions(static_runtime))
    except Refusal as refusal:
        return SplitResult(text, None, (), None, str(refusal))
    try:
        parse(output.text, path)
    except ParseError as exc:  # a bug of ours: never hand out a file BuildKit would refuse
        return SplitResult(text, None, (), chosen.language, f"internal error: {exc}")
    return SplitResult(
        output.text, output.dev_text if dev else None, tuple(output.notes), chosen.language
    )


def _preconditions(src: Source) -> None:
    stages = src.ctx.stages
    if len(stages) > 1:
        raise Refusal(
            f"already multi-stage ({len(stages)} stages): slimline splits single-stage files only"
        )
    if src.stage.is_scratch:
        raise Refusal("the image is built FROM scratch: there is nothing to split")
    for ins in src.instructions:
        if ins.keyword == "ONBUILD":
            raise Refusal(
                f"ONBUILD at line {ins.line}: the image is a base for other builds, whose steps"
                " slimline cannot see"
            )
        if ins.keyword == "SHELL" and ins.values and basename(ins.values[0]) not in SHELLS:
            raise Refusal(f"SHELL at line {ins.line} is not a POSIX shell")
    for rule_class in load_rules().values():
        if rule_class.practice is not Practice.MODULAR_DESIGN:
            continue
        for finding in rule_class().check(src.ctx):
            raise Refusal(
                f"line {finding.line}: {finding.message} (one image runs several services:"
                " split it into images first)"
            )
