"""Build stages: names, FROM resolution with global ARGs, the final stage and its dependencies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from slimline.dockerfile.parse import Dockerfile, Instruction, ParseError

_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+?])?(?P<word>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def substitute(text: str, variables: Mapping[str, str | None]) -> tuple[str, bool]:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-x}``, ``${VAR:+x}``; return (text, fully_resolved)."""
    resolved = True

    def repl(m: re.Match[str]) -> str:
        nonlocal resolved
        name = m.group("braced") or m.group("plain")
        op = m.group("op") or ""
        word = m.group("word") or ""
        value = variables.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return word
            return value
        if op in (":+", "+"):
            return word if value else ""
        if op in (":?", "?"):
            if value is None:
                resolved = False
                return m.group(0)
            return value
        if value is None:
            # Unknown, or declared without a default: it comes from --build-arg.
            resolved = False
            return m.group(0)
        return value

    return _VAR.sub(repl, text), resolved


@dataclass(slots=True, eq=False)
class Stage:
    index: int
    name: str | None  # lower-cased, as BuildKit compares names case-insensitively
    from_instruction: Instruction
    base: str  # as written
    base_resolved: str  # after substituting global ARGs
    resolved: bool  # False when a variable in FROM has no known value
    platform: str | None
    instructions: list[Instruction] = field(default_factory=list)  # after FROM
    parent: Stage | None = None  # set when FROM names an earlier stage

    @property
    def label(self) -> str:
        return self.name or str(self.index)

    @property
    def is_scratch(self) -> bool:
        return self.base_resolved.lower() == "scratch"


@dataclass(slots=True)
class StageGraph:
    stages: list[Stage]
    global_args: dict[str, str | None]
    target: Stage

    def find(self, ref: str) -> Stage | None:
        """A stage by name or index, as ``COPY --from`` and ``FROM`` refer to them."""
        low = ref.lower()
        for stage in self.stages:
            if stage.name == low:
                return stage
        if ref.isdigit():
            i = int(ref)
            if 0 <= i < len(self.stages):
                return self.stages[i]
        return None

    def uses(self, stage: Stage) -> set[int]:
        """Indexes of the stages this stage reads from directly."""
        out: set[int] = set()
        if stage.parent is not None:
            out.add(stage.parent.index)
        for ins in stage.instructions:
            refs: list[str] = []
            if ins.keyword in ("COPY", "ADD"):
                refs += ins.flag_values("from")
            if ins.keyword == "RUN":
                for mount in ins.flag_values("mount"):
                    for part in mount.split(","):
                        key, _, value = part.partition("=")
                        if key.strip() == "from":
                            refs.append(value.strip())
            for ref in refs:
                dep = self.find(ref)
                if dep is not None and dep.index != stage.index:
                    out.add(dep.index)
        return out

    def dependencies(self, stage: Stage) -> list[Stage]:
        """Every stage the given one needs, directly or not, in index order."""
        seen: set[int] = set()
        todo = [stage.index]
        while todo:
            for dep in self.uses(self.stages[todo.pop()]):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        seen.discard(stage.index)
        return [self.stages[i] for i in sorted(seen)]

    def image_chain(self, stage: Stage | None = None) -> list[Stage]:
        """The stages whose layers end up in the image of ``stage`` (the target by default):
        the stage itself and the stages it is built ``FROM``."""
        chain: list[Stage] = []
        current: Stage | None = stage or self.target
        while current is not None and current not in chain:
            chain.append(current)
            current = current.parent
        return list(reversed(chain))

    def in_target_image(self, stage: Stage) -> bool:
        return stage in self.image_chain()

    def build_only(self, stage: Stage) -> bool:
        """A stage used only to build things that other stages copy from."""
        return not self.in_target_image(stage)


def build_stages(
    doc: Dockerfile, target: str | None = None, build_args: Mapping[str, str] | None = None
) -> StageGraph:
    """Split a parsed Dockerfile into stages. Raises ParseError as BuildKit would."""
    global_args: dict[str, str | None] = {}
    overrides = dict(build_args or {})
    stages: list[Stage] = []
    for ins in doc.instructions:
        if ins.keyword == "FROM":
            stages.append(_new_stage(ins, len(stages), global_args, stages))
        elif not stages:
            if ins.keyword != "ARG":
                raise ParseError(
                    f"{ins.keyword} before the first FROM: only ARG may come before FROM",
                    ins.line,
                    ins.span.column,
                )
            for word in ins.values:
                name, eq, value = word.partition("=")
                if name in overrides:
                    global_args[name] = overrides[name]
                elif eq:
                    # BuildKit expands a default with the ARGs declared before it:
                    # `ARG BASE=$REGISTRY/$OWNER/base` names quay.io/jupyter/base.
                    expanded, known = substitute(_unquote(value), global_args)
                    global_args[name] = expanded if known else _unquote(value)
                else:
                    global_args[name] = None
        else:
            stages[-1].instructions.append(ins)
    if not stages:
        first = doc.instructions[0]
        raise ParseError(
            "no FROM instruction: a Dockerfile needs at least one stage", first.line, 1
        )
    chosen = stages[-1]
    if target is not None:
        found = next((s for s in stages if s.name == target.lower()), None)
        if found is None:
            raise ParseError(f"target stage {target!r} not found")
        chosen = found
    return StageGraph(stages, global_args, chosen)


def _new_stage(
    ins: Instruction, index: int, global_args: Mapping[str, str | None], earlier: list[Stage]
) -> Stage:
    words = list(ins.values)
    if not words:
        raise ParseError("FROM requires the name of a base image", ins.line, ins.span.column)
    name: str | None = None
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2].lower()
        if not re.fullmatch(r"[a-z][a-z0-9._-]*", name):
            raise ParseError(f"invalid stage name {words[2]!r}", ins.line, ins.span.column)
    elif len(words) != 1:
        raise ParseError(
            "FROM takes an image and optionally 'AS name': " + " ".join(words),
            ins.line,
            ins.span.column,
        )
    base = words[0]
    resolved_text, resolved = substitute(base, global_args)
    platform = None
    for value in ins.flag_values("platform"):
        platform = value
    parent = None
    low = resolved_text.lower()
    for stage in earlier:
        if stage.name is not None and stage.name == low:
            parent = stage
    return Stage(index, name, ins, base, resolved_text, resolved, platform, [], parent)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in ("'", '"'):
        return value[1:-1]
    return value
