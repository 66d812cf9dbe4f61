"""What every language splitter shares: the input as a single stage, the registry of splitters,
the text of the stages they write, and the split of OS packages between build and runtime."""

from __future__ import annotations

import importlib
import pkgutil
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from slimline.buildtools import tool_kind
from slimline.dockerfile.base_images import Classification, ImageRef, classify, parse_image_ref
from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.edits import Edit, apply_edits
from slimline.dockerfile.parse import Dockerfile, Instruction, Node
from slimline.dockerfile.pkgmgr import package_op
from slimline.dockerfile.rebase import (
    Note,
    Refusal,
    SlimBase,
    apt_install_run,
    default_release,
    instruction_commands,
    newline_of,
    pip_runtime_libraries,
    runtime_libraries,
    slim_gap,
    tool_packages,
    visible_needs,
)
from slimline.dockerfile.rules.build_tools import Expander, removals
from slimline.dockerfile.shell import Command
from slimline.dockerfile.stages import Stage, substitute

# Commands that may accompany a dependency install or a build in the same RUN without leaving
# anything the runtime stage needs.
COMPANIONS = frozenset(
    {"rm", "set", "true", ":", "echo", "printf", "mkdir", "cd", "find", "export", "ls", "test",
     "[", "chmod", "ln", "cp", "mv", "touch", "apt-mark", "which", "command"}
)  # fmt: skip
# Programs that are build tools whatever package installed them.
_BUILD_PROGRAMS = frozenset(
    {"gcc", "g++", "cc", "c++", "clang", "clang++", "make", "cmake", "ninja", "meson",
     "configure", "autoreconf", "autoconf", "automake", "libtool", "git", "svn", "hg", "bzr",
     "cargo", "rustc", "go", "javac", "mvn", "gradle", "ld", "as"}
)  # fmt: skip
_APT_CLEANUP = ("/var/lib/apt", "/var/cache/apt", "/var/cache/debconf", "/tmp")
# Packages that serve the runtime even though the programs table knows them as download tools:
# the CA bundle is what TLS clients of any language read.
_ALWAYS_RUNTIME = frozenset({"ca-certificates", "tzdata", "netbase"})


# --------------------------------------------------------------------------------------------
# The input
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Source:
    """A single-stage Dockerfile with the analysis splitters share."""

    doc: Dockerfile
    ctx: CheckContext
    context: Path | None = None

    @property
    def stage(self) -> Stage:
        return self.ctx.stages[0]

    @property
    def instructions(self) -> list[Instruction]:
        return self.stage.instructions

    @property
    def newline(self) -> str:
        return newline_of(self.doc.text)

    @property
    def escape(self) -> str:
        return self.doc.escape

    @cached_property
    def ref(self) -> ImageRef | None:
        if not self.stage.resolved:
            return None
        try:
            return parse_image_ref(self.stage.base_resolved)
        except ValueError:
            return None

    @cached_property
    def info(self) -> Classification | None:
        return None if self.ref is None else classify(self.ref)

    @property
    def family(self) -> str | None:
        return None if self.info is None else self.info.family

    def run(self, ins: Instruction) -> RunStep:
        step = self.ctx.run_of(ins)
        assert step is not None
        return step

    @cached_property
    def runs(self) -> list[RunStep]:
        return self.ctx.runs_in(self.stage)

    def index(self, ins: Instruction) -> int:
        return next(i for i, x in enumerate(self.instructions) if x is ins)

    @cached_property
    def _nodes(self) -> dict[int, int]:
        return {id(n.item): i for i, n in enumerate(self.doc.nodes) if n.kind == "instruction"}

    def node(self, ins: Instruction) -> Node:
        return self.doc.nodes[self._nodes[id(ins)]]

    def leading(self, ins: Instruction) -> tuple[list[str], bool]:
        """The comment lines directly above an instruction, and whether a blank line (or the
        start of a comment block after one) separates it from what precedes."""
        i = self._nodes[id(ins)] - 1
        comments: list[str] = []
        while i >= 0 and self.doc.nodes[i].kind == "comment":
            comments.insert(0, self.doc.nodes[i].raw.rstrip("\r\n"))
            i -= 1
        return comments, i >= 0 and self.doc.nodes[i].kind == "blank"

    def workdir(self, ins: Instruction, default: str | None = None) -> str | None:
        """The working directory ``ins`` runs in: None when a variable in WORKDIR is unknown."""
        current = default
        for other in self.instructions:
            if other is ins:
                return current
            if other.keyword == "WORKDIR" and other.values:
                value, known = substitute(other.values[0], self.ctx.env_before(other))
                if not known:
                    current = None
                elif value.startswith("/"):
                    current = posixpath.normpath(value)
                elif current is not None:
                    current = posixpath.normpath(posixpath.join(current, value))
        return current

    def copy_destination(self, ins: Instruction, default: str | None = None) -> str | None:
        """Where a COPY/ADD puts its files, as an absolute path (None when unknown)."""
        if not ins.values:
            return None
        dest, known = substitute(ins.values[-1], self.ctx.env_before(ins))
        if not known:
            return None
        if dest.startswith("/"):
            return posixpath.normpath(dest)
        base = self.workdir(ins, default)
        return None if base is None else posixpath.normpath(posixpath.join(base, dest))

    def commands(self, ins: Instruction) -> list[Command]:
        return instruction_commands(self.ctx, ins)

    def raw(self, start: int, end: int) -> str:
        return self.doc.text[start:end]

    def where(self, ins: Instruction) -> str:
        return f"the {ins.keyword} at line {ins.line}"


def is_context_copy(ins: Instruction) -> bool:
    return ins.keyword in ("COPY", "ADD") and ins.flag("from") is None


def inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


# --------------------------------------------------------------------------------------------
# Splitters and their registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SplitOptions:
    # Base of the runtime stage for static programs: "scratch" (files copied in as needed) or
    # "distroless" (the variants data's runtime for the toolchain, which carries CA
    # certificates, time zones and a passwd file).
    static_runtime: str = "scratch"


@dataclass(slots=True)
class Output:
    text: str
    dev_text: str
    notes: list[Note] = field(default_factory=list)


_SPLITTERS: dict[str, type[Splitter]] = {}


class Splitter:
    """One language: ``detect`` says whether a Dockerfile is its kind, ``split`` writes the
    multi-stage version or raises :class:`Refusal`. Defining a subclass with a ``language``
    registers it; ``order`` decides which one asks first."""

    language: ClassVar[str] = ""
    order: ClassVar[int] = 100

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.language:
            _SPLITTERS[cls.language] = cls

    def detect(self, src: Source) -> bool:
        raise NotImplementedError

    def split(self, src: Source, options: SplitOptions) -> Output:
        raise NotImplementedError


def splitters() -> list[type[Splitter]]:
    """Every splitter, in the order they are asked (importing the package's modules)."""
    package = __name__.rsplit(".", 1)[0]
    path = [str(Path(__file__).parent)]
    for module in pkgutil.iter_modules(path):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package}.{module.name}")
    return sorted(_SPLITTERS.values(), key=lambda cls: (cls.order, cls.language))


# --------------------------------------------------------------------------------------------
# Writing stages
# --------------------------------------------------------------------------------------------


class StageText:
    """One stage of the output: a comment, a FROM line, then instructions, each either the
    original text (with the comments above it) or a generated line."""

    def __init__(self, src: Source, comment: str, from_line: str):
        self.src = src
        self.comment = comment
        self.from_line = from_line
        self.parts: list[tuple[bool, str]] = []  # (blank line before, text without newline)

    def keep(self, ins: Instruction, text: str | None = None) -> None:
        comments, blank = self.src.leading(ins)
        body = text if text is not None else self.src.node(ins).raw.rstrip("\r\n")
        self.parts.append((blank, self.src.newline.join([*comments, body])))

    def add(self, text: str, *, blank: bool = False) -> None:
        self.parts.append((blank, text))

    def render(self) -> str:
        lines = [f"# {self.comment}", self.from_line]
        for blank, text in self.parts:
            if blank:
                lines.append("")
            lines.append(text)
        return self.src.newline.join(lines)


def render(src: Source, stages: list[StageText]) -> str:
    """The new Dockerfile: what preceded the FROM (parser directives, global ARGs, comments),
    then the stages, then any comments that ended the original file."""
    nodes = src.doc.nodes
    from_index = src._nodes[id(src.stage.from_instruction)]
    preamble = "".join(n.raw for n in nodes[:from_index])
    if preamble and not preamble.endswith("\n"):
        preamble += src.newline
    last = max(src._nodes[id(i)] for i in [src.stage.from_instruction, *src.instructions])
    trailer = "".join(n.raw for n in nodes[last + 1 :] if n.kind == "comment")
    body = (src.newline * 2).join(stage.render() for stage in stages) + src.newline
    if trailer:
        body += src.newline + trailer
        if not trailer.endswith("\n"):
            body += src.newline
    return preamble + body


def from_line(src: Source, image: str, name: str | None, *, keep_platform: bool = True) -> str:
    """``FROM [--platform=...] image [AS name]``, keeping the original's flags as written."""
    flags = []
    for flag in src.stage.from_instruction.flags:
        if flag.name == "platform" and (not keep_platform or "BUILDPLATFORM" in (flag.value or "")):
            continue
        flags.append(src.raw(flag.span.offset, flag.span.end_offset))
    return " ".join(["FROM", *flags, image, *(["AS", name] if name else [])])


def build_stage_name(src: Source) -> str:
    return "build" if src.stage.name != "build" else "builder"


def original_base(src: Source) -> str:
    """The original FROM's image as written (build arguments kept)."""
    return src.stage.base


def dev_text(
    src: Source,
    header: str,
    *,
    drop: Iterable[Instruction] = (),
    after: dict[int, list[str]] | None = None,
) -> str:
    """The development Dockerfile: the original single-stage file with a header, without the
    ``drop`` instructions and with lines added after some instructions (by id)."""
    doc = src.doc
    nl = src.newline
    edits: list[Edit] = []
    first = next(i for i, n in enumerate(doc.nodes) if n.kind != "directive")
    offset = doc.nodes[first].offset
    edits.append(Edit(offset, offset, nl.join(f"# {line}" for line in header.splitlines()) + nl))
    for ins in drop:
        node = src.node(ins)
        edits.append(Edit(node.offset, node.offset + len(node.raw), ""))
    for ins in src.instructions:
        for line in (after or {}).get(id(ins), []):
            end = ins.span.end_offset
            edits.append(Edit(end, end, nl + line))
    return apply_edits(doc.text, edits)


# --------------------------------------------------------------------------------------------
# Reading RUN steps
# --------------------------------------------------------------------------------------------


def is_apt_cleanup(command: Command) -> bool:
    if command.program not in ("rm", "apt-mark", "set", "true", ":"):
        return False
    if command.program != "rm":
        return True
    targets = [w.text for w in command.unwrapped()[1:] if not w.text.startswith("-")]
    return bool(targets) and all(t.startswith(_APT_CLEANUP) for t in targets)


def is_apt_only(run: RunStep) -> bool:
    """A RUN that only manages OS packages (update, install, purge, clean, list removal)."""
    if not run.commands:
        return False
    for command in run.commands:
        op = package_op(command)
        if op is not None and op.manager == "apt":
            continue
        if not is_apt_cleanup(command):
            return False
    return True


def build_programs_of(command: Command) -> list[str]:
    """The command's program when it is a compiler, build system or VCS client."""
    program = command.program.removeprefix("./")
    if program in _BUILD_PROGRAMS or tool_kind(program) in ("toolchain", "vcs"):
        return [program]
    return []


def build_programs(run: RunStep) -> list[str]:
    """Compilers, build systems and VCS clients a RUN calls."""
    return [p for command in run.commands for p in build_programs_of(command)]


def strange_commands(run: RunStep, allowed: Callable[[Command], bool]) -> list[Command]:
    """Commands of a RUN that are neither package-manager calls, ``allowed`` ones nor harmless
    companions (rm, mkdir, echo...)."""
    out = []
    for command in run.commands:
        if not command.words:
            continue
        if package_op(command) is not None or allowed(command):
            continue
        if command.program in COMPANIONS:
            continue
        out.append(command)
    return out


def command_text(command: Command) -> str:
    return " ".join(w.text for w in command.words)


# --------------------------------------------------------------------------------------------
# OS packages: what stays in the build stage, what the runtime stage installs
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PackagePlan:
    runtime: list[str] = field(default_factory=list)  # as written, version pins kept
    build_only: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    explained: set[str] = field(default_factory=set)  # build-only packages a note is about

    def summary(self) -> Note | None:
        """One note naming the build-only packages no other note is about."""
        rest = [
            n
            for n in dict.fromkeys(self.build_only)
            if n not in self.runtime and n not in self.explained
        ]
        return Note(f"{', '.join(rest)} stay in the build stage") if rest else None


def runtime_programs(src: Source, instructions: Iterable[Instruction]) -> set[str]:
    out: set[str] = set()
    for ins in instructions:
        if ins.keyword in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            out |= {c.program for c in src.commands(ins) if c.program}
    return out


def plan_packages(
    src: Source,
    package_runs: Iterable[RunStep],
    runtime_instructions: Iterable[Instruction],
    *,
    release: str | None,
    map_dev: bool = True,
    build_only_names: Iterable[str] = (),
) -> PackagePlan:
    """Split the packages that ``package_runs`` install between the stages.

    Compilers, headers and VCS clients stay in the build stage; a header package brings its
    runtime library into the runtime stage (``map_dev``). Download and unpacking tools (curl,
    wget, unzip...) go to the runtime stage only if a runtime step runs them. Everything else
    (libraries, servers, ca-certificates...) is installed in both.
    """
    plan = PackagePlan()
    used = runtime_programs(src, runtime_instructions)
    tools = tool_packages()
    extra_build = set(build_only_names)
    purged: set[str] = set()
    for run in package_runs:
        purged |= removals(run, Expander(src.ctx, run)).names
    for run in package_runs:
        expander = Expander(src.ctx, run)
        removed = removals(run, expander)
        for op in run.ops_of("apt"):
            if op.action != "install":
                continue
            for package in expander.packages(op):
                name = package.name
                written = package.word.text if not package.word.dynamic else name
                kind = tool_kind(name)
                if kind is not None or name in extra_build:
                    plan.build_only.append(name)
                    if kind == "headers" and map_dev:
                        _add_runtime_libraries(plan, name, release, run.instruction.line)
                    continue
                if removed.removes("apt", package) or name in purged:
                    plan.build_only.append(name)
                    continue
                programs = tools.get(name)
                if programs is not None and name not in _ALWAYS_RUNTIME and not programs & used:
                    plan.build_only.append(name)
                    plan.explained.add(name)
                    plan.notes.append(
                        Note(
                            f"{name} stays in the build stage: no step of the runtime stage runs"
                            f" {', '.join(sorted(programs))}; add it back if the application"
                            " does",
                            run.instruction.line,
                        )
                    )
                    continue
                if written not in plan.runtime:
                    plan.runtime.append(written)
    return plan


def _add_runtime_libraries(plan: PackagePlan, dev: str, release: str | None, line: int) -> None:
    libraries = runtime_libraries(dev, release)
    if libraries is None:
        plan.notes.append(
            Note(
                f"no runtime library is known for {dev} on {release or default_release()}: if"
                " something was compiled against it, install its library in the runtime stage",
                line,
                warning=True,
            )
        )
        return
    for library in libraries:
        if library not in plan.runtime:
            plan.runtime.append(library)


def add_pip_runtime_libraries(plan: PackagePlan, names: Iterable[str], release: str | None) -> None:
    for name in names:
        libraries = pip_runtime_libraries(name, release)
        for library in libraries or ():
            if library not in plan.runtime:
                plan.runtime.append(library)
                plan.notes.append(
                    Note(f"installs {library} in the runtime stage: {name} is built against it")
                )


def runtime_release(base: SlimBase | None, src: Source) -> str:
    """The Debian release of the runtime image, for package names."""
    for ref_text in ([base.image] if base else []) + [src.stage.base_resolved]:
        try:
            found = classify(parse_image_ref(ref_text))
        except ValueError:
            continue
        if found is not None and found.codename:
            return found.codename
    return default_release()


def missing_runtime_tools(
    src: Source,
    base: SlimBase,
    runtime_instructions: list[Instruction],
    installed: Iterable[str],
) -> list[str]:
    """Packages the runtime steps visibly need that the slim base lacks; Refusal when one of
    them is a build tool."""
    gap = slim_gap(base.info.family) if base.option is not None else None
    if gap is None:
        return []
    needs = visible_needs(
        src.ctx, runtime_instructions, gap.lacks, context=src.context, installed=installed
    )
    for need in needs:
        if tool_kind(need.package) in ("toolchain", "vcs", "headers"):
            raise Refusal(
                f"{need.why} runs {need.package} in the runtime stage: it needs build tools at"
                " run time, so they cannot stay in a build stage"
            )
    return [n.package for n in needs]


def install_line(src: Source, packages: list[str]) -> str:
    return apt_install_run(packages, src.escape, src.newline)


def runtime_stage(
    src: Source,
    base: SlimBase,
    plan: PackagePlan,
    runtime_instructions: list[Instruction],
    notes: list[Note],
    comment: str,
) -> StageText:
    """The runtime stage on the slim base, installing what the plan keeps plus the tools its
    steps visibly need; the plan's notes and summary go to `notes`."""
    plan.runtime += missing_runtime_tools(
        src, base, runtime_instructions, [p.split("=")[0] for p in plan.runtime]
    )
    notes += plan.notes
    summary = plan.summary()
    if summary is not None:
        notes.append(summary)
    runtime = StageText(src, comment, from_line(src, base.image, src.stage.name))
    if plan.runtime:
        runtime.add(install_line(src, plan.runtime))
    return runtime


def refuse_build_work_outside(src: Source, steps: Iterable[RunStep], why: str) -> None:
    """Refuse a split when a RUN other than `steps` (apt-only ones aside) runs a build tool, or
    installs one beside other commands: what it makes cannot be told apart from what the runtime
    stage needs."""
    chosen = list(steps)
    others = [r for r in src.runs if r not in chosen and not is_apt_only(r)]
    for run in others:
        programs = build_programs(run)
        if programs:
            raise Refusal(
                f"{src.where(run.instruction)} runs {programs[0]} {why}; slimline cannot tell"
                " which of its results the runtime stage needs"
            )
    for run in others:
        tools = installs_build_tools(run, src)
        if tools:
            raise Refusal(
                f"{src.where(run.instruction)} installs {tools[0]} and runs other commands:"
                " split it into a package step and the rest first"
            )


def installs_build_tools(run: RunStep, src: Source) -> list[str]:
    expander = Expander(src.ctx, run)
    out = []
    for op in run.ops_of("apt"):
        if op.action == "install":
            out += [p.name for p in expander.packages(op) if tool_kind(p.name) is not None]
    return out


def simple_words(text: str) -> list[str] | None:
    """A shell-form command as exec-form words, when it has no shell syntax to lose."""
    if re.search(r"[$`|&;<>(){}*?~\\\n]|\[", text):
        return None
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return None
