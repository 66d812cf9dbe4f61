"""C and C++ built with make (or cmake, configure, a compiler called directly) on a Debian or
Ubuntu image: build in the original image, then copy the program and the shared libraries it
links onto the slim variant of the same release.

Which libraries cannot be known when the Dockerfile is written, so the build stage finds out:
a last step runs ``ldd`` on the program and copies it and every library it lists, under their
canonical paths (``/usr/lib/...``, never through the ``/lib`` symlink of merged-/usr systems,
which a copied directory would replace), into a staging directory that the runtime stage copies
to ``/``. Libraries opened with ``dlopen`` and data files the program reads are not seen; the
notes say so. Steps that only undo the build (``apt-get purge gcc make``) are dropped: the
build stage is thrown away anyway.
"""

from __future__ import annotations

import posixpath
import re

from slimline.buildtools import tool_kind
from slimline.dockerfile.context import RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.rebase import Note, Refusal, default_release, slimmer_base
from slimline.dockerfile.rules.build_tools import Expander, removals
from slimline.dockerfile.shell import SHELLS, basename
from slimline.dockerfile.split._base import (
    Output,
    Source,
    SplitOptions,
    Splitter,
    StageText,
    build_programs,
    build_stage_name,
    dev_text,
    from_line,
    inside,
    install_line,
    is_apt_only,
    is_context_copy,
    original_base,
    plan_packages,
    render,
    simple_words,
)
from slimline.dockerfile.split.python import RUNTIME_ONLY

STAGING = "/runtime-root"
_FAMILIES = frozenset({"debian", "ubuntu", "gcc", "buildpack-deps"})
_COMPILE = frozenset(
    {"make", "cmake", "gcc", "g++", "cc", "c++", "clang", "clang++", "ninja", "meson",
     "configure"}
)  # fmt: skip
_INTERPRETERS = SHELLS | frozenset(
    {"python", "python3", "node", "perl", "ruby", "php", "java", "env", "make"}
)


def ldd_staging_run(src: Source, programs: list[str]) -> str:
    """A RUN that copies each program (an absolute path, or a name looked up on PATH) and the
    shared libraries ldd lists for it into STAGING, keeping symlinks and their targets."""
    esc, nl = src.escape, src.newline
    lines = ["RUN set -eu;", f"mkdir -p {STAGING};"]
    for program in programs:
        found = program if program.startswith("/") else f'"$(command -v {program})"'
        lines += [
            f"bin={found};",
            'for f in "$bin" $(ldd "$bin" | grep -o "/[^ ]*" || true); do',
            '    dir="$(realpath "$(dirname "$f")")";',
            f'    cp -P --parents "$dir/$(basename "$f")" {STAGING}/;',
            f'    cp --parents "$(realpath "$f")" {STAGING}/;',
            "done;" if program != programs[-1] else "done",
        ]
    return f" {esc}{nl}    ".join(lines)


class NativeSplitter(Splitter):
    language = "c"
    order = 90

    def detect(self, src: Source) -> bool:
        return src.family in _FAMILIES and any(self._compiles(r) for r in src.runs)

    @staticmethod
    def _compiles(run: RunStep) -> bool:
        return any(p.rsplit("/", 1)[-1] in _COMPILE for p in build_programs(run)) or any(
            c.program.removeprefix("./") == "configure" for c in run.commands
        )

    def split(self, src: Source, options: SplitOptions) -> Output:
        compile_runs = [r for r in src.runs if self._compiles(r)]
        program, entry = self._program(src)
        source_dirs = {
            d for r in compile_runs if (d := src.workdir(r.instruction, "/")) is not None
        }
        # Directories the build steps name (`cmake -S /src`, `make -C /src`) hold sources too.
        build_text = " ".join(r.instruction.original for r in compile_runs)
        for ins in src.instructions:
            dest = src.copy_destination(ins, "/") if is_context_copy(ins) else None
            if (
                dest is not None
                and dest != "/"
                and re.search(rf"{re.escape(dest)}(?:/|\s|$)", build_text)
            ):
                source_dirs.add(dest)
        last = max(src.index(r.instruction) for r in compile_runs)
        # Later steps that handle the build's results (cp to a bin directory) belong with it.
        for run in src.runs:
            i = src.index(run.instruction)
            if i > last and self._touches_build(src, run, program, source_dirs):
                last = i
        undo = [
            r for r in src.runs if src.index(r.instruction) > last and self._undoes_build(src, r)
        ]
        undo_ids = {id(r.instruction) for r in undo}
        later = [
            r for r in src.runs
            if src.index(r.instruction) > last and id(r.instruction) not in undo_ids
        ]  # fmt: skip
        for run in later:
            if build_programs(run):
                raise Refusal(
                    f"{src.where(run.instruction)} runs {build_programs(run)[0]} after the build:"
                    " the runtime stage would need build tools"
                )
        image = self._runtime_image(src)
        notes: list[Note] = []
        if src.family == "ubuntu":
            notes.append(Note(f"{image} has no slim variant: the runtime stage uses it as it is"))
        build = StageText(
            src,
            "Build stage: compilers and headers build the program; it does not ship.",
            from_line(src, original_base(src), build_stage_name(src)),
        )
        for ins in src.instructions[: last + 1]:
            if ins.keyword not in RUNTIME_ONLY:
                build.keep(ins)
        build.add(ldd_staging_run(src, [program]))
        runtime_instructions = [
            ins
            for ins in src.instructions
            if (src.index(ins) > last and id(ins) not in undo_ids)
            or (ins.keyword not in ("RUN", "COPY", "ADD") and src.index(ins) <= last)
            or (self._runtime_copy(src, ins, source_dirs) and src.index(ins) <= last)
        ]
        runtime_ids = {id(i) for i in runtime_instructions}
        package_runs = [r for r in src.runs if is_apt_only(r) and id(r.instruction) not in undo_ids]
        plan = plan_packages(
            src,
            package_runs,
            runtime_instructions,
            release=None,
            map_dev=False,  # ldd finds the libraries the program links
        )
        runtime_packages = [p for p in plan.runtime if p.split("=")[0] not in plan.build_only]
        runtime = StageText(
            src,
            "Runtime stage: the program and the shared libraries it links, nothing else.",
            from_line(src, image, src.stage.name),
        )
        if runtime_packages:
            runtime.add(install_line(src, runtime_packages))
        for ins in src.instructions:
            if ins is src.instructions[last]:
                _, blank = src.leading(ins)
                runtime.add(f"COPY --from={build_stage_name(src)} {STAGING}/ /", blank=blank)
                continue
            if id(ins) in runtime_ids and not (ins.keyword == "RUN" and is_apt_only(src.run(ins))):
                runtime.keep(ins)
        notes += plan.notes
        for run in undo:
            notes.append(
                Note(
                    "dropped: it only removes build tools, which never reach the runtime stage",
                    run.instruction.line,
                )
            )
        notes.append(
            Note(
                f"{program} and the shared libraries ldd lists are copied; libraries loaded with"
                " dlopen and data files it reads at run time are not",
                entry.line,
            )
        )
        header = (
            "Development image: the single-stage build, with compilers and headers kept.\n"
            "The production image is built by the multi-stage Dockerfile."
        )
        return Output(
            render(src, [build, runtime]),
            dev_text(src, header, drop=[r.instruction for r in undo]),
            notes,
        )

    # -- what the image runs -------------------------------------------------------------

    @staticmethod
    def _program(src: Source) -> tuple[str, Instruction]:
        """The program ENTRYPOINT (or CMD) starts: an absolute path, or a name on PATH."""
        entry = next((i for i in reversed(src.instructions) if i.keyword == "ENTRYPOINT"), None)
        entry = entry or next((i for i in reversed(src.instructions) if i.keyword == "CMD"), None)
        if entry is None:
            raise Refusal("no CMD or ENTRYPOINT: which program the image runs is unknown")
        words = list(entry.values) if entry.json else simple_words(entry.args)
        if not words:
            raise Refusal(f"{src.where(entry)} is a shell command: the program it runs is unknown")
        first = words[0]
        if basename(first) in _INTERPRETERS:
            raise Refusal(
                f"{src.where(entry)} runs {basename(first)}, not a compiled program: slimline"
                " cannot tell which files it needs"
            )
        if "/" in first and not first.startswith("/"):
            workdir = src.workdir(entry, "/")
            if workdir is None:
                raise Refusal(f"{src.where(entry)} runs a relative path in an unknown WORKDIR")
            first = posixpath.normpath(posixpath.join(workdir, first))
        return first, entry

    @staticmethod
    def _touches_build(src: Source, run: RunStep, program: str, source_dirs: set[str]) -> bool:
        text = run.instruction.original
        return basename(program) in text or any(d != "/" and d in text for d in source_dirs)

    @staticmethod
    def _undoes_build(src: Source, run: RunStep) -> bool:
        """An apt step that only removes build tools (``apt-get purge -y gcc make``)."""
        if not is_apt_only(run) or any(op.action == "install" for op in run.ops_of("apt")):
            return False
        removed = removals(run, Expander(src.ctx, run))
        return bool(removed.names) and all(tool_kind(n) is not None for n in removed.names)

    @staticmethod
    def _runtime_copy(src: Source, ins: Instruction, source_dirs: set[str]) -> bool:
        """A COPY whose files the runtime needs: any COPY outside the directories the build
        runs in (configuration under /etc, for instance)."""
        if not is_context_copy(ins):
            return False
        dest = src.copy_destination(ins, "/")
        return dest is not None and not any(inside(dest, d) for d in source_dirs if d != "/")

    @staticmethod
    def _runtime_image(src: Source) -> str:
        if src.family == "debian":
            return slimmer_base(src.stage, src.ctx.graph).image
        if src.family == "ubuntu":
            return src.stage.base  # no slim variant: the image itself is already minimal
        codename = src.info.codename if src.info and src.info.codename else default_release()
        return f"debian:{codename}-slim"
