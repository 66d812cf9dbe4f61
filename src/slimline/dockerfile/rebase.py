"""``slimline fix --rebase``: move the final image onto a slimmer variant of its official base.

``python:3.12`` becomes ``python:3.12-slim``, ``node:20`` becomes ``node:20-slim`` and
``debian:bookworm`` becomes ``debian:bookworm-slim``: the same release of the same image on the
same C library, chosen from the variants data (``data/base_images.toml``). The full variants of
the language images carry buildpack-deps (compilers, headers, curl, git...); where the
Dockerfile visibly runs one of those tools, the package that provides it is installed on the
slim variant, right after ``FROM`` or in the first ``apt-get install`` that runs before it
(``data/slim_missing_tools.toml`` says which programs each slim variant lacks).

Moving to another C library (the alpine variants, musl instead of glibc) changes which binaries
run, so it is done only when asked (``alpine=True``), always with a warning, and with every
``apt-get`` step rewritten for ``apk`` through ``data/apk_names.toml``; Debian names without a
known Alpine counterpart are listed, never guessed.

The result is a set of edits on the original text (comments, layout and every other line stay
as they were) plus notes. When the rebase cannot be done safely, no edit is returned and
``refused`` says why. Toolchain images (``golang``, ``gcc``...) are not rebased: their output
belongs in another image, which is ``fix --split``'s job.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from slimline.dockerfile.base_images import (
    Classification,
    ImageRef,
    SlimmerOption,
    classify,
    parse_image_ref,
)
from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.edits import Edit, apply_edits
from slimline.dockerfile.parse import Dockerfile, Instruction, parse
from slimline.dockerfile.pkgmgr import PackageOp, package_name, package_op
from slimline.dockerfile.shell import SHELLS, Command, Word, basename, parse_script
from slimline.dockerfile.stages import Stage, StageGraph, substitute

__all__ = [
    "Need",
    "Note",
    "RebaseResult",
    "Refusal",
    "SlimBase",
    "apt_install_run",
    "instruction_commands",
    "need_notes",
    "rebase",
    "runtime_libraries",
    "slim_gap",
    "slimmer_base",
    "tool_packages",
    "visible_needs",
]

_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_VAR_REF = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_LINE_LIMIT = 100
# Commands of an apt RUN that mean nothing on Alpine and are dropped when it is rewritten.
_APT_CLEANUP_DIRS = ("/var/lib/apt", "/var/cache/apt")
# Debian-only tools: a RUN that calls them cannot be rewritten for apk mechanically.
_DEBIAN_ONLY = frozenset(
    {"apt-mark", "apt-key", "dpkg", "dpkg-reconfigure", "debconf-set-selections",
     "update-alternatives", "locale-gen", "add-apt-repository", "apt-cache"}
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """Something the person applying a transformation should know."""

    message: str
    line: int | None = None  # in the input text
    warning: bool = False  # a change of behaviour to check, not just information

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return ("warning: " if self.warning else "") + where + self.message


@dataclass(frozen=True, slots=True)
class RebaseResult:
    edits: tuple[Edit, ...]
    notes: tuple[Note, ...]
    old_image: str | None = None  # the base of the final image, as resolved
    new_image: str | None = None
    added_packages: tuple[str, ...] = ()  # installed because the Dockerfile visibly uses them
    refused: str | None = None  # why nothing was changed

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    def apply(self, text: str) -> str:
        """The rebased Dockerfile (``text`` is the input the edits were computed on)."""
        return apply_edits(text, self.edits)


class Refusal(Exception):
    """The transformation cannot be done safely; the message says why."""


# --------------------------------------------------------------------------------------------
# Data tables
# --------------------------------------------------------------------------------------------


@cache
def _table(name: str) -> dict[str, Any]:
    return tomllib.loads((_DATA_DIR / f"{name}.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class SlimGap:
    """What a family's slim variant lacks compared with its full variant."""

    layers: frozenset[str]  # buildpack-deps layers: curl, scm, full
    keeps: frozenset[str]  # packages of those layers the slim variant has anyway
    note: str = ""

    def lacks(self, program: str) -> tuple[str, ...]:
        """The packages to install for ``program`` on the slim variant (empty: it is there)."""
        tool = _table("slim_missing_tools")["programs"].get(program)
        if tool is None or tool["layer"] not in self.layers or tool["package"] in self.keeps:
            return ()
        extra = [p for p in tool.get("with", []) if p not in self.keeps]
        return (tool["package"], *extra)

    def lacks_package(self, package: str) -> bool:
        """Whether a package of the full variant (``libpq-dev``) is missing on the slim one."""
        return bool(self.layers) and package not in self.keeps


def slim_gap(family: str) -> SlimGap | None:
    """What ``family``'s slim variant lacks, or None if the data file does not say."""
    raw = _table("slim_missing_tools")["families"].get(family)
    if raw is None:
        return None
    return SlimGap(frozenset(raw["layers"]), frozenset(raw["keeps"]), raw.get("note", ""))


def tool_packages() -> dict[str, set[str]]:
    """Debian package -> the programs it provides, for the tools the slim variants lack."""
    out: dict[str, set[str]] = {}
    for program, tool in _table("slim_missing_tools")["programs"].items():
        out.setdefault(tool["package"], set()).add(program)
    return out


def _pip_build_packages(name: str) -> tuple[str, ...]:
    return tuple(_table("slim_missing_tools")["pip"].get(name, ()))


def runtime_libraries(dev_package: str, release: str | None) -> tuple[str, ...] | None:
    """The runtime library packages of a Debian -dev package (``libpq-dev`` -> ``libpq5``)
    for a release, or None when the data file does not know them for that release."""
    data = _table("runtime_packages")
    entry = data["dev"].get(dev_package)
    release = release or data["default_release"]
    if entry is None:
        return None
    if isinstance(entry, list):
        return tuple(entry) if release in data["releases"] else None
    found = entry.get(release)
    return None if found is None else tuple(found)


def pip_runtime_libraries(name: str, release: str | None) -> tuple[str, ...] | None:
    data = _table("runtime_packages")
    entry = data["pip"].get(name)
    if entry is None:
        return None
    return tuple(entry) if (release or data["default_release"]) in data["releases"] else None


def default_release() -> str:
    return str(_table("runtime_packages")["default_release"])


def _apk_names(debian: str) -> tuple[str, ...] | None:
    found = _table("apk_names")["packages"].get(debian)
    return None if found is None else tuple(found)


# --------------------------------------------------------------------------------------------
# What a Dockerfile visibly runs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Need:
    """A package the Dockerfile needs on the new base, and the first place that shows it."""

    package: str
    why: str  # "`curl` at line 7"
    line: int
    offset: int  # where in the text the need first shows


def instruction_commands(ctx: CheckContext, ins: Instruction) -> list[Command]:
    """The commands a RUN, CMD, ENTRYPOINT or HEALTHCHECK runs (shell form parsed, exec form
    taken word by word, ``sh -c "..."`` looked into)."""
    if ins.keyword == "RUN":
        run = ctx.run_of(ins)
        return [] if run is None else run.commands
    values = list(ins.values)
    if ins.keyword == "HEALTHCHECK":
        if not values or values[0].upper() != "CMD":
            return []
        values = values[1:]
    elif ins.keyword not in ("CMD", "ENTRYPOINT"):
        return []
    if not values:
        return []
    if not ins.json:
        return parse_script(values[0]).commands
    if (
        len(values) >= 3
        and basename(values[0]) in SHELLS
        and values[1].startswith("-")
        and "c" in values[1]
    ):
        return parse_script(values[2]).commands
    script = parse_script("")
    command = Command([Word(v, v, 0, 0) for v in values], [], [], 0, 0, script)
    return [command]


def _apt_installed(op: PackageOp) -> set[str]:
    if op.manager != "apt" or op.action != "install":
        return set()
    return {package_name("apt", w.text) for w in op.packages if not w.dynamic}


def requirement_names(op: PackageOp, context: Path | None) -> list[str]:
    """Distribution names a pip install names, with those of ``-r`` files read from the build
    context when it is given (looked up by the path as written, then by its base name)."""
    names = [
        package_name("pip", w.text)
        for w in op.packages
        if not w.dynamic and not w.text.startswith(("-", ".", "/")) and "://" not in w.text
    ]
    if context is None:
        return names
    for requirement_file in op.values("-r") + op.values("--requirement"):
        for candidate in (requirement_file, basename(requirement_file)):
            path = (context / candidate.lstrip("/")).resolve()
            if not path.is_relative_to(context.resolve()) or not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.split("#", 1)[0].strip()
                if line and not line.startswith("-"):
                    names.append(package_name("pip", line))
            break
    return names


def visible_needs(
    ctx: CheckContext,
    instructions: Iterable[Instruction],
    lacks: Callable[[str], tuple[str, ...]],
    *,
    full_packages: Callable[[str], bool] = lambda _p: False,
    context: Path | None = None,
    installed: Iterable[str] = (),
) -> list[Need]:
    """Packages the ``instructions`` visibly need that the new base lacks.

    ``lacks(program)`` names the packages to install for a program (empty when the base has
    it); ``full_packages(package)`` says whether a package of the old base is missing on the
    new one (for pip distributions built from source). Packages the Dockerfile installs itself
    before the first use, and ``installed``, are not needed again.
    """
    have: set[str] = set(installed)
    found: dict[str, Need] = {}

    def need(packages: Iterable[str], why: str, offset: int) -> None:
        for package in packages:
            if package not in have and package not in found:
                line = ctx.doc.position(offset)[0]
                found[package] = Need(package, f"{why} at line {line}", line, offset)

    for ins in instructions:
        if ins.keyword not in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue
        offset = ins.span.offset
        for command in instruction_commands(ctx, ins):
            op = package_op(command)
            if op is not None and op.manager == "apt":
                have |= _apt_installed(op)
                continue
            if op is not None and op.manager == "pip" and op.action == "install":
                _pip_needs(op, need, offset, full_packages, context)
            program = command.program
            if program:
                need(lacks(program), f"`{program}`", offset)
    return sorted(found.values(), key=lambda n: n.offset)


def _pip_needs(
    op: PackageOp,
    need: Callable[[Iterable[str], str, int], None],
    offset: int,
    full_packages: Callable[[str], bool],
    context: Path | None,
) -> None:
    if any(re.match(r"(?:[\w.-]+\s*@\s*)?git\+", w.text) for w in op.packages):
        need(["git", "ca-certificates"], "`pip install git+...`", offset)
    for name in requirement_names(op, context):
        packages = [p for p in _pip_build_packages(name) if full_packages(p)]
        if packages:
            need(packages, f"`pip install {name}` (built from source)", offset)


def need_notes(needs: Iterable[Need]) -> list[Note]:
    """One note per reason: "installs gcc, libpq-dev: `pip install psycopg2` ... needs them"."""
    grouped: dict[str, list[Need]] = {}
    for need in needs:
        grouped.setdefault(need.why, []).append(need)
    notes = []
    for why, group in grouped.items():
        them = "them" if len(group) > 1 else "it"
        names = ", ".join(n.package for n in group)
        notes.append(Note(f"installs {names}: {why} needs {them}", group[0].line))
    return notes


# --------------------------------------------------------------------------------------------
# Writing package installs
# --------------------------------------------------------------------------------------------


def apt_install_run(packages: Iterable[str], escape: str = "\\", newline: str = "\n") -> str:
    """``RUN apt-get update && apt-get install ... && rm -rf /var/lib/apt/lists/*``, wrapped
    over several lines when it would be longer than 100 characters."""
    names = list(dict.fromkeys(packages))
    install = "apt-get install -y --no-install-recommends"
    parts = ["apt-get update", f"{install} {' '.join(names)}", "rm -rf /var/lib/apt/lists/*"]
    text = _run_line(parts, "&&", escape, newline)
    if max(len(line) for line in text.split(newline)) <= _LINE_LIMIT:
        return text
    # One package list per line, the way long installs are usually written.
    lines = [f"RUN apt-get update {escape}", f"    && {install} {escape}"]
    row = ""
    for name in names:
        if row and len(row) + len(name) + 11 > _LINE_LIMIT:
            lines.append(f"        {row} {escape}")
            row = ""
        row = f"{row} {name}" if row else name
    lines += [f"        {row} {escape}", "    && rm -rf /var/lib/apt/lists/*"]
    return newline.join(lines)


def apk_add_run(packages: Iterable[str], escape: str = "\\", newline: str = "\n") -> str:
    return _run_line(
        [f"apk add --no-cache {' '.join(dict.fromkeys(packages))}"], "&&", escape, newline
    )


def _run_line(parts: list[str], separator: str, escape: str, newline: str) -> str:
    one = "RUN " + f" {separator} ".join(parts)
    if len(one) <= _LINE_LIMIT or len(parts) == 1:
        return one
    joined = f" {escape}{newline}    {separator} ".join(parts)
    return "RUN " + joined


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


# --------------------------------------------------------------------------------------------
# The rebase
# --------------------------------------------------------------------------------------------


def rebase(
    text: str,
    path: str = "Dockerfile",
    *,
    alpine: bool = False,
    target: str | None = None,
    context: str | Path | None = None,
) -> RebaseResult:
    """Edits that move the final image of ``text`` onto the slimmest variant of its official
    base with the same C library (the alpine variant with ``alpine=True``).

    ``target`` names the build stage treated as the final image (the last one by default);
    ``context`` is the build context directory, read for pip requirement files. Raises
    :class:`~slimline.dockerfile.parse.ParseError` for input BuildKit would refuse.
    """
    doc = parse(text, path)
    ctx = CheckContext(doc, target=target)
    try:
        return _Rebase(doc, ctx, alpine, Path(context) if context is not None else None).run()
    except Refusal as refusal:
        return RebaseResult((), (), refused=str(refusal))


@dataclass(slots=True)
class _FromEdit:
    """How the image of a FROM line is rewritten: the reference to classify, and the text
    range holding what changes."""

    ref: ImageRef
    start: int  # offsets in the text of the part that is replaced
    end: int
    current: str  # text[start:end]
    # Builds the replacement from the chosen option; None when it cannot be spelled.
    spell: Callable[[SlimmerOption], str | None]
    variable_note: str | None = None
    digest_dropped: bool = False


@dataclass(slots=True)
class _Rebase:
    doc: Dockerfile
    ctx: CheckContext
    alpine: bool
    context: Path | None
    notes: list[Note] = field(default_factory=list)

    @property
    def graph(self) -> StageGraph:
        return self.ctx.graph

    def run(self) -> RebaseResult:
        chain = self.ctx.target_chain
        root = chain[0]
        if root.is_scratch:
            raise Refusal("the final image is built FROM scratch: there is no base to slim")
        if any(i.keyword == "ONBUILD" for s in chain for i in s.instructions):
            raise Refusal(
                "the final image has ONBUILD triggers: it is a base for other builds, whose"
                " steps slimline cannot see"
            )
        plan = self._from_edit(root)
        info = classify(plan.ref)
        if info is None:
            raise Refusal(f"{plan.ref} is not an image the variants data describes")
        if info.toolchain:
            runtime = f" onto {info.runtime}" if info.runtime else ""
            raise Refusal(
                f"{plan.ref} is a toolchain image: build in it and copy the result{runtime}"
                " with `fix --split` instead"
            )
        option = self._choose(info, plan.ref)
        replacement = plan.spell(option)
        if replacement is None:
            raise Refusal(
                f"the base is spelled with build arguments ({plan.current}) that slimline cannot"
                f" rewrite to {option.image} safely"
            )
        edits = [Edit(plan.start, plan.end, replacement)]
        line = root.from_instruction.line
        old = str(plan.ref)
        pinned = " (pinned by digest)" if plan.ref.digest else ""
        shown = str(ImageRef(plan.ref.registry, plan.ref.repository, plan.ref.tag, None))
        self.notes.append(
            Note(
                f"{shown}{pinned} -> {option.image}"
                + (f" (saves ~{option.saving_bytes / 1e6:,.0f} MB)" if option.saving_bytes else ""),
                line,
            )
        )
        if plan.variable_note:
            self.notes.append(Note(plan.variable_note, line))
        if plan.digest_dropped:
            self.notes.append(
                Note(
                    f"the digest pinned {shown}, not {option.image}: it was removed; pin the new"
                    " image's digest again (`docker buildx imagetools inspect "
                    f"{option.image}`)",
                    line,
                    warning=True,
                )
            )
        dependents = self._dependents(root)
        if option.changes_libc:
            install_edits, added = self._to_alpine(info, option, chain, dependents)
        else:
            install_edits, added = self._add_missing(info, option, chain, dependents)
        edits += install_edits
        return RebaseResult(
            tuple(sorted(edits)),
            tuple(self.notes),
            old_image=old,
            new_image=option.image,
            added_packages=tuple(added),
        )

    # -- choosing the variant ------------------------------------------------------------

    def _choose(self, info: Classification, ref: ImageRef) -> SlimmerOption:
        option, note = choose_variant(
            info, ref, alpine=self.alpine, needs_shell=_needs_shell(self.ctx)
        )
        if note:
            self.notes.append(Note(note))
        return option

    # -- the FROM line -------------------------------------------------------------------

    def _from_edit(self, stage: Stage) -> _FromEdit:
        ins = stage.from_instruction
        word = stage.base
        index = ins.args.find(word)
        if index < 0:
            raise Refusal("cannot locate the image in the FROM line")
        span = ins.args_span(index, index + len(word))
        if self.doc.text[span.offset : span.end_offset] != word:
            raise Refusal("the FROM line's image is split over several lines")
        if "$" not in word:
            return self._literal_edit(word, span.offset)
        whole = re.fullmatch(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))", word)
        if whole:
            return self._argument_edit(stage, whole.group(1) or whole.group(2))
        return self._templated_edit(stage, word, span.offset)

    def _literal_edit(self, word: str, offset: int) -> _FromEdit:
        try:
            ref = parse_image_ref(word)
        except ValueError:
            raise Refusal(f"{word!r} is not an image reference") from None
        parts = _ref_parts(word)

        def spell(option: SlimmerOption) -> str | None:
            return _respell(word, parts, ref, option)

        return _FromEdit(
            ref, offset, offset + len(word), word, spell, digest_dropped=parts.digest is not None
        )

    def _argument_edit(self, stage: Stage, name: str) -> _FromEdit:
        """``FROM ${BASE}``: edit the default of the global ``ARG BASE=...`` when nothing else
        uses BASE."""
        declaration = self._global_arg(name)
        if declaration is None:
            raise Refusal(
                f"the base image comes from the build argument {name}, which has no default"
            )
        ins, start, end, value = declaration
        others = [
            i.line
            for i in self.doc.instructions
            if i is not stage.from_instruction
            and i is not ins
            and re.search(rf"\$\{{?{name}\b", i.original)
        ]
        redeclared = [
            i.line
            for s in self.graph.stages
            for i in s.instructions
            if i.keyword == "ARG" and any(v.partition("=")[0] == name for v in i.values)
        ]
        if others or redeclared:
            lines = ", ".join(str(n) for n in sorted(set(others + redeclared)))
            raise Refusal(
                f"not safe: the build argument {name} names the base image and is also used at"
                f" line {lines}; changing its default would change those too"
            )
        if "$" in value:
            raise Refusal(f"the default of {name} ({value}) is itself built from arguments")
        edit = self._literal_edit(value, start)
        edit.variable_note = f"the default of the build argument {name} was changed"
        if end != start + len(value):
            raise Refusal(f"cannot locate the default of {name}")
        return edit

    def _global_arg(self, name: str) -> tuple[Instruction, int, int, str] | None:
        """The last ``ARG name=default`` before the first FROM: (instruction, offsets of the
        default's text, the default)."""
        found = None
        for ins in self.doc.instructions:
            if ins.keyword == "FROM":
                break
            if ins.keyword != "ARG":
                continue
            m = re.search(rf"(?:^|\s){re.escape(name)}=", ins.args)
            if m is None:
                continue
            start = m.end()
            rest = ins.args[start:]
            if rest[:1] in ("'", '"'):
                quote = rest[0]
                close = rest.find(quote, 1)
                if close < 0:
                    continue
                value, start = rest[1:close], start + 1
            else:
                value = re.split(r"\s", rest, maxsplit=1)[0]
            if not value:
                continue
            span = ins.args_span(start, start + len(value))
            found = (ins, span.offset, span.end_offset, value)
        return found

    def _templated_edit(self, stage: Stage, word: str, offset: int) -> _FromEdit:
        """``python:${PY}-bookworm``: variables inside the reference. The variant is read from
        the reference as written when the variables stand for the version, otherwise from the
        defaults of the global ARGs; only literal parts of the tag are rewritten."""
        parts = _ref_parts(word)
        name = word[: parts.name_end]
        if "$" in name:
            raise Refusal(f"the image name in {word} is a build argument: not safe to rewrite")
        try:
            raw_ref = parse_image_ref(word)
        except ValueError:
            raise Refusal(f"{word!r} is not an image reference") from None
        dropped = parts.digest is not None
        if classify(raw_ref) is not None:

            def spell_raw(option: SlimmerOption) -> str | None:
                return _respell(word, parts, raw_ref, option)

            return _FromEdit(raw_ref, offset, offset + len(word), word, spell_raw, None, dropped)
        if not stage.resolved or parts.tag is None:
            raise Refusal(
                f"the tag of {word} comes from build arguments without defaults: the variant is"
                " unknown"
            )
        raw_tag = word[parts.tag[0] : parts.tag[1]]
        segments = _segments(raw_tag, self.graph.global_args)
        if segments is None:
            raise Refusal(f"the tag of {word} uses build arguments without defaults")
        resolved_tag = "".join(value for _, value, _ in segments)
        ref = parse_image_ref(f"{name}:{resolved_tag}")
        version_only = not _VAR_REF.sub("", raw_tag).strip("-._")
        if version_only:
            # `python:${PY}`: safe only when the default is a bare version, so that the
            # variant suffix can follow whatever version is passed.
            found = classify(ref)
            if found is None or found.version != resolved_tag:
                raise Refusal(
                    f"not safe: the whole tag of {word} is a build argument, which could name"
                    " any variant"
                )

        def spell(option: SlimmerOption) -> str | None:
            if parse_image_ref(option.image).name != ref.name:
                return None
            if version_only:
                if not option.tag.startswith(resolved_tag):
                    return None
                return f"{name}:{raw_tag}{option.tag[len(resolved_tag) :]}"
            new_tag = _retag(segments, option.tag)
            return None if new_tag is None else f"{name}:{new_tag}"

        note = "the tag keeps its build arguments; their defaults decided the variant"
        if version_only:
            note = f"the tag keeps {raw_tag}, read as a version (its default is {resolved_tag})"
        return _FromEdit(ref, offset, offset + len(word), word, spell, note, dropped)

    # -- other stages built on the same base -----------------------------------------------

    def _dependents(self, root: Stage) -> list[Stage]:
        chain = self.ctx.target_chain
        return [
            s for s in self.graph.stages if s not in chain and root in self.graph.image_chain(s)
        ]

    # -- packages the slim variant lacks -----------------------------------------------

    def _add_missing(
        self,
        info: Classification,
        option: SlimmerOption,
        chain: list[Stage],
        dependents: list[Stage],
    ) -> tuple[list[Edit], list[str]]:
        gap = slim_gap(info.family)
        if gap is None:
            self.notes.append(
                Note(
                    f"slimline does not know which tools {option.image} lacks compared with the"
                    " full variant: check that the build still works",
                    warning=True,
                )
            )
            return [], []
        if gap.note:
            self.notes.append(Note(gap.note))
        needs = visible_needs(
            self.ctx,
            _instructions(chain),
            gap.lacks,
            full_packages=gap.lacks_package,
            context=self.context,
        )
        self._check_dependents(dependents, option, gap.lacks, gap.lacks_package)
        if not needs:
            return [], []
        packages = [n.package for n in needs]
        self.notes += need_notes(needs)
        edit = self._merge_install(packages, needs[0].offset) or self._insert_after_from(
            chain[0], apt_install_run(packages, self.doc.escape, newline_of(self.doc.text))
        )
        return [edit], packages

    def _check_dependents(
        self,
        dependents: list[Stage],
        option: SlimmerOption,
        lacks: Callable[[str], tuple[str, ...]],
        full_packages: Callable[[str], bool],
    ) -> None:
        if not dependents:
            return
        for stage in dependents:
            chain = [s for s in self.graph.image_chain(stage) if s not in self.ctx.target_chain]
            needs = visible_needs(
                self.ctx,
                _instructions(chain),
                lacks,
                full_packages=full_packages,
                context=self.context,
            )
            if needs:
                raise Refusal(
                    f"stage {stage.label} is built on the same base and needs"
                    f" {', '.join(n.package for n in needs)} ({needs[0].why}), which"
                    f" {option.image} lacks; give the final stage its own FROM first"
                )
        labels = ", ".join(s.label for s in dependents)
        self.notes.append(Note(f"stage {labels} is built on the same base and moves with it"))

    def _merge_install(self, packages: list[str], before: int) -> Edit | None:
        """Append the packages to the first ``apt-get install`` of the final image that runs
        before ``before``, when one can be edited in place."""
        for run in self.ctx.final_runs():
            ins = run.instruction
            if ins.span.offset >= before:
                return None
            if ins.json or ins.heredocs or self._removes_packages(run):
                continue
            for op in run.ops_of("apt"):
                if op.action != "install" or op.command.conditional or not op.command.words:
                    continue
                last = op.command.words[-1]
                start, end = op.command.word_source(last)
                if self.doc.text[start:end] != last.raw:
                    continue
                return Edit(end, end, " " + " ".join(packages))
        return None

    @staticmethod
    def _removes_packages(run: RunStep) -> bool:
        """Whether the RUN removes packages again (``apt-get purge``, the ``apt-mark auto``
        idiom): what is merged into its install could be removed with them."""
        return any(op.action in ("remove", "autoremove") for op in run.ops_of("apt")) or any(
            c.program == "apt-mark" for c in run.commands
        )

    def _insert_after_from(self, stage: Stage, run_text: str) -> Edit:
        end = stage.from_instruction.span.end_offset
        return Edit(end, end, newline_of(self.doc.text) + run_text)

    # -- moving to alpine ----------------------------------------------------------------

    def _to_alpine(
        self,
        info: Classification,
        option: SlimmerOption,
        chain: list[Stage],
        dependents: list[Stage],
    ) -> tuple[list[Edit], list[str]]:
        if dependents:
            raise Refusal(
                f"stage {', '.join(s.label for s in dependents)} is built on the same base;"
                " moving it to another C library is not done automatically"
            )
        self.notes.append(
            Note(
                f"{option.image} uses {option.variant.libc} instead of {info.variant.libc}:"
                " prebuilt binaries, native modules, DNS resolution and locales behave"
                " differently"
                + (f" ({option.variant.note})" if option.variant.note else "")
                + "; test the image before relying on it",
                warning=True,
            )
        )
        edits: list[Edit] = []
        unmapped: list[str] = []
        pinned = False
        for run in self.ctx.final_runs():
            if not run.ops_of("apt") and not any(c.program in _DEBIAN_ONLY for c in run.commands):
                continue
            rewrite = _ApkRewrite(self.doc, run)
            edits.append(rewrite.edit())
            unmapped += rewrite.unmapped
            pinned = pinned or rewrite.pinned
        busybox = set(_table("apk_names")["busybox"]["programs"])
        extra_programs: dict[str, list[str]] = _table("apk_names")["programs"]
        gap = SlimGap(frozenset({"curl", "scm", "full"}), frozenset())

        def lacks(program: str) -> tuple[str, ...]:
            if program in busybox:
                return ()
            return tuple(extra_programs.get(program, ())) or gap.lacks(program)

        needs = [
            n
            for n in visible_needs(
                self.ctx,
                _instructions(chain),
                lacks,
                full_packages=lambda _p: True,
                context=self.context,
            )
            if n.package != "ca-certificates"  # apk's curl and git pull the CA bundle
        ]
        added: list[str] = []
        apk_needs: list[Need] = []
        native = {name for names in extra_programs.values() for name in names}
        for n in needs:
            names = (n.package,) if n.package in native else _apk_names(n.package)
            if names is None:
                unmapped.append(n.package)
                continue
            for name in names:
                if name not in added:
                    added.append(name)
                    apk_needs.append(Need(name, n.why, n.line, n.offset))
        self.notes += need_notes(apk_needs)
        for stage in chain:
            for ins in stage.instructions:
                shell = basename(ins.values[0]) if ins.keyword == "SHELL" and ins.values else ""
                if shell == "bash" and "bash" not in added:
                    added.append("bash")
                    self.notes.append(Note("installs bash: SHELL names it", ins.line))
        if added:
            run_text = apk_add_run(added, self.doc.escape, newline_of(self.doc.text))
            edits.append(self._insert_after_from(chain[0], run_text))
        if unmapped:
            self.notes.append(
                Note(
                    "no Alpine package is known for "
                    + ", ".join(dict.fromkeys(unmapped))
                    + ": they were left out; add their Alpine counterparts by hand",
                    warning=True,
                )
            )
        if pinned:
            self.notes.append(
                Note("Debian version pins were dropped: Alpine versions differ", warning=True)
            )
        if any(
            c.program in ("adduser", "addgroup") and len(c.words) > 1
            for run in self.ctx.final_runs()
            for c in run.commands
        ):
            self.notes.append(
                Note(
                    "BusyBox adduser/addgroup take other options than Debian's: check those steps",
                    warning=True,
                )
            )
        return edits, added


def choose_variant(
    info: Classification, ref: ImageRef, *, alpine: bool = False, needs_shell: bool = True
) -> tuple[SlimmerOption, str | None]:
    """The variant to move to, and a note; Refusal when there is none."""
    usable = [o for o in info.slimmer if o.variant.shell or not needs_shell]
    same = [o for o in usable if not o.changes_libc]
    other = [o for o in usable if o.changes_libc]
    if alpine:
        if other:
            return other[0], None
        if same:
            return same[0], f"{ref} has no smaller variant on another C library"
    elif same:
        return same[0], None
    if other:
        raise Refusal(
            f"{ref} is already the slimmest variant on its C library; {other[0].image} is"
            f" smaller but uses {other[0].variant.libc}: ask for the alpine variant"
            " explicitly to switch"
        )
    raise Refusal(f"{ref} is already the slimmest variant of {info.family}")


@dataclass(frozen=True, slots=True)
class SlimBase:
    """The slimmer base for a stage, spelled for a new FROM line."""

    image: str  # as it goes in the FROM line (build arguments kept where they can be)
    info: Classification  # what the stage's base is
    option: SlimmerOption | None  # None: the base is already the slimmest of its kind
    note: str | None = None


def slimmer_base(stage: Stage, graph: StageGraph, *, needs_shell: bool = True) -> SlimBase:
    """The slimmest variant of ``stage``'s base on the same C library, written as a FROM line
    would name it; the base itself when it is already the slimmest. Refusal for unknown
    images, toolchains and unresolvable references."""
    word = stage.base
    parts = _ref_parts(word)
    try:
        ref = parse_image_ref(word)
    except ValueError:
        raise Refusal(f"{word!r} is not an image reference") from None
    info = None if "$" in word[: parts.name_end] else classify(ref)
    note = None
    versioned = _version_variable_tag(stage, graph, word, parts) if info is None else None
    if versioned is not None:
        ref, info, raw_tag, resolved_tag = versioned
        if info.toolchain:
            raise Refusal(f"{ref} is a toolchain image")
        option, extra = choose_variant(info, ref, needs_shell=needs_shell)
        if option.tag.startswith(resolved_tag) and option.image.startswith(ref.name + ":"):
            written = f"{word[: parts.name_end]}:{raw_tag}{option.tag[len(resolved_tag) :]}"
            return SlimBase(written, info, option, extra)
        info = None
    if info is None:
        if not stage.resolved:
            raise Refusal(f"the base image {word} depends on build arguments without defaults")
        ref = parse_image_ref(stage.base_resolved)
        info = classify(ref)
        if info is None:
            raise Refusal(f"{ref} is not an image the variants data describes")
        word, parts = stage.base_resolved, _ref_parts(stage.base_resolved)
        if "$" in stage.base:
            note = f"the runtime stage names its image literally; {stage.base} chose the build's"
    if info.toolchain:
        raise Refusal(f"{ref} is a toolchain image")
    try:
        option, extra = choose_variant(info, ref, needs_shell=needs_shell)
    except Refusal:
        return SlimBase(word, info, None, note)
    respelled = _respell(word, parts, ref, option)
    if respelled is None:
        return SlimBase(option.image, info, option, note)
    return SlimBase(respelled, info, option, note or extra)


def _version_variable_tag(
    stage: Stage, graph: StageGraph, word: str, parts: _RefParts
) -> tuple[ImageRef, Classification, str, str] | None:
    """For ``python:${PY}`` whose default is a bare version: (resolved reference, its
    classification, the tag as written, the resolved tag); None otherwise."""
    if parts.tag is None or "$" in word[: parts.name_end]:
        return None
    raw_tag = word[parts.tag[0] : parts.tag[1]]
    if _VAR_REF.sub("", raw_tag).strip("-._"):
        return None
    segments = _segments(raw_tag, graph.global_args)
    if segments is None:
        return None
    resolved_tag = "".join(value for _, value, _ in segments)
    ref = parse_image_ref(f"{word[: parts.name_end]}:{resolved_tag}")
    info = classify(ref)
    if info is None or info.version != resolved_tag:
        return None
    return ref, info, raw_tag, resolved_tag


def _instructions(stages: Iterable[Stage]) -> list[Instruction]:
    return [i for s in stages for i in s.instructions]


def _needs_shell(ctx: CheckContext) -> bool:
    for stage in ctx.target_chain:
        for ins in stage.instructions:
            if ins.keyword == "RUN":
                return True
            if ins.keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK") and ins.args and not ins.json:
                return True
    return False


# --------------------------------------------------------------------------------------------
# Image references as written
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RefParts:
    name_end: int
    tag: tuple[int, int] | None  # without the ":"
    digest: tuple[int, int] | None  # without the "@"


def _ref_parts(word: str) -> _RefParts:
    """Where name, tag and digest are in a reference as written; variables may hold ``:``."""
    masked = _VAR_REF.sub(lambda m: "_" * len(m.group()), word)
    end = len(word)
    digest = None
    at = masked.find("@")
    if at >= 0:
        digest, end = (at + 1, len(word)), at
    colon = masked.rfind(":", 0, end)
    if colon > masked.rfind("/", 0, end):
        return _RefParts(colon, (colon + 1, end), digest)
    return _RefParts(end, None, digest)


def _respell(word: str, parts: _RefParts, ref: ImageRef, option: SlimmerOption) -> str | None:
    """``word`` naming ``option`` instead: the user's spelling of the name is kept unless the
    variant lives in another repository; a digest is dropped (it pins the old image)."""
    name = word[: parts.name_end]
    if parse_image_ref(option.image).name != ref.name:
        if "$" in name:
            return None
        name = option.image.rsplit(":", 1)[0]
    return f"{name}:{option.tag}"


def _segments(raw: str, variables: Mapping[str, str | None]) -> list[tuple[str, str, bool]] | None:
    """``raw`` cut into (as written, value, is a variable) pieces."""
    out: list[tuple[str, str, bool]] = []
    position = 0
    for m in _VAR_REF.finditer(raw):
        if m.start() > position:
            literal = raw[position : m.start()]
            out.append((literal, literal, False))
        value, known = substitute(m.group(), variables)
        if not known:
            return None
        out.append((m.group(), value, True))
        position = m.end()
    if position < len(raw):
        out.append((raw[position:], raw[position:], False))
    return out


def _retag(segments: list[tuple[str, str, bool]], new: str) -> str | None:
    """The tag written as ``segments`` changed so that its value becomes ``new``, touching only
    literal text: None when the change falls inside (or between) variables' values."""
    old = "".join(value for _, value, _ in segments)
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(old), len(new)) - prefix
        and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
    ):
        suffix += 1
    start, end = prefix, len(old) - suffix  # the changed part of the old value
    replacement = new[prefix : len(new) - suffix]
    out: list[str] = []
    position = 0
    placed = False
    for written, value, variable in segments:
        lo, hi = position, position + len(value)
        position = hi
        if not placed and not variable and lo <= start and end <= hi:
            out.append(written[: start - lo] + replacement + written[end - lo :])
            placed = True
        else:
            out.append(written)
    return "".join(out) if placed else None


# --------------------------------------------------------------------------------------------
# apt to apk
# --------------------------------------------------------------------------------------------


class _ApkRewrite:
    """One RUN of apt commands rewritten for apk; raises Refusal when it is not a plain list
    of commands that can be rewritten one by one."""

    def __init__(self, doc: Dockerfile, run: RunStep):
        self.doc = doc
        self.run = run
        self.unmapped: list[str] = []
        self.pinned = False

    def edit(self) -> Edit:
        ins = self.run.instruction
        where = f"the RUN at line {ins.line}"
        if ins.json or ins.heredocs or len(self.run.scripts) != 1:
            raise Refusal(f"{where} uses JSON form or a heredoc: rewrite it for apk by hand")
        script = self.run.scripts[0]
        if script.parse_error:
            raise Refusal(f"{where} could not be read as a shell script")
        commands = sorted(script.commands, key=lambda c: c.start)
        for a, b in itertools.pairwise(commands):
            if b.start < a.end:
                raise Refusal(f"{where} nests commands: rewrite it for apk by hand")
        pieces: list[tuple[str, str]] = []  # (separator before, command text)
        previous_end = 0
        for command in commands:
            gap = script.text[previous_end : command.start].strip()
            if previous_end and gap not in ("&&", ";"):
                raise Refusal(
                    f"{where} combines commands with `{gap or 'a newline'}`: rewrite it for apk"
                    " by hand"
                )
            if not previous_end and gap:
                raise Refusal(f"{where} is not a plain list of commands")
            if command.conditional or command.pipe_from or command.pipe_to or command.negated:
                raise Refusal(f"{where} has conditional or piped commands: rewrite it by hand")
            previous_end = command.end
            text = self._rewrite(command, script.text[command.start : command.end], where)
            if text is not None:
                pieces.append((gap or "&&", text))
        if script.text[previous_end:].strip() not in ("", ";"):
            raise Refusal(f"{where} is not a plain list of commands")
        if not pieces:
            return self._delete_instruction(ins)
        parts = [pieces[0][1]] + [f"{sep} {text}" for sep, text in pieces[1:]]
        body = " ".join(parts)
        if len(body) + 4 > _LINE_LIMIT and len(pieces) > 1:
            nl = newline_of(self.doc.text)
            body = f" {self.doc.escape}{nl}    ".join(parts)
        start = ins.source_offset(ins.args_offset)
        return Edit(start, ins.span.end_offset, body)

    def _rewrite(self, command: Command, text: str, where: str) -> str | None:
        program = command.program
        if program in _DEBIAN_ONLY:
            raise Refusal(f"{where} runs {program}, which Alpine does not have")
        if any(target.startswith("/etc/apt") for _, target in command.redirects):
            raise Refusal(f"{where} writes apt configuration: rewrite it by hand")
        if program == "rm":
            targets = [w.text for w in command.unwrapped()[1:] if not w.text.startswith("-")]
            if targets and all(t.startswith(_APT_CLEANUP_DIRS) for t in targets):
                return None
            return text
        op = package_op(command)
        if op is None or op.manager != "apt":
            return text
        if op.action in ("update", "clean", "dist-clean", "autoclean", "autoremove"):
            return None
        if op.action in ("upgrade", "dist-upgrade"):
            return "apk upgrade --no-cache"
        if op.action in ("install", "remove"):
            names = self._map(op)
            if not names:
                return None
            verb = "add --no-cache" if op.action == "install" else "del"
            return f"apk {verb} {' '.join(names)}"
        raise Refusal(f"{where} runs `apt-get {op.raw_action}`, which has no apk equivalent")

    def _map(self, op: PackageOp) -> list[str]:
        out: list[str] = []
        for word in op.packages:
            if word.dynamic:
                raise Refusal(
                    f"the RUN at line {self.run.instruction.line} installs packages named by a"
                    f" variable ({word.text}): rewrite it for apk by hand"
                )
            name = package_name("apt", word.text)
            self.pinned = self.pinned or "=" in word.text
            mapped = _apk_names(name)
            if mapped is None:
                self.unmapped.append(name)
                continue
            out += [m for m in mapped if m not in out]
        return out

    def _delete_instruction(self, ins: Instruction) -> Edit:
        for node in self.doc.nodes:
            if node.item is ins:
                return Edit(node.offset, node.offset + len(node.raw), "")
        raise Refusal("cannot locate an instruction")  # pragma: no cover
