"""Everything rules look at for one Dockerfile, computed once: stages, RUN steps with their
commands and package-manager invocations, mounts, and the environment of each stage."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from functools import cached_property

from slimline.dockerfile.parse import Dockerfile, Instruction, parse_words
from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.shell import SHELLS, Command, Script, basename, instruction_scripts
from slimline.dockerfile.stages import Stage, StageGraph, build_stages


@dataclass(frozen=True, slots=True)
class Mount:
    type: str  # bind, cache, tmpfs, secret, ssh
    target: str | None
    options: dict[str, str]


def parse_mount(value: str) -> Mount:
    options: dict[str, str] = {}
    for part in value.split(","):
        key, eq, val = part.partition("=")
        options[key.strip().lower()] = val.strip() if eq else "true"
    target = options.get("target") or options.get("dst") or options.get("destination")
    return Mount(options.get("type", "bind").lower(), target, options)


@dataclass(eq=False)
class RunStep:
    """A RUN instruction with what it runs."""

    instruction: Instruction
    stage: Stage
    index: int  # position among all RUN steps of the file
    shell_is_posix: bool = True
    mounts: list[Mount] = field(default_factory=list)

    @cached_property
    def scripts(self) -> list[Script]:
        if not self.shell_is_posix:
            return []
        return instruction_scripts(self.instruction)

    @cached_property
    def commands(self) -> list[Command]:
        return [c for s in self.scripts for c in s.commands]

    @cached_property
    def ops(self) -> list[PackageOp]:
        out = []
        for c in self.commands:
            op = package_op(c)
            if op is not None:
                out.append(op)
        return out

    def ops_of(self, manager: str) -> list[PackageOp]:
        return [op for op in self.ops if op.manager == manager]

    def cache_mounted(self, path: str) -> bool:
        """Whether ``path`` lies in a cache, tmpfs or bind mount (so it is not left in the layer)."""
        path = posixpath.normpath(path)
        for m in self.mounts:
            if m.type in ("cache", "tmpfs", "bind") and m.target:
                t = posixpath.normpath(m.target)
                if path == t or path.startswith(t.rstrip("/") + "/"):
                    return True
        return False


@dataclass(slots=True)
class StageInfo:
    stage: Stage
    env: dict[str, str]  # ENV and ARG values at the end of the stage (inherited from parents)
    user: str | None  # the last USER, inherited from a parent stage


class CheckContext:
    """One Dockerfile, analysed for the rules."""

    def __init__(
        self, doc: Dockerfile, options: dict[str, object] | None = None, target: str | None = None
    ):
        self.doc = doc
        self.path = doc.path
        self.options: dict[str, object] = options or {}
        self.graph: StageGraph = build_stages(doc, target)
        self.runs: list[RunStep] = []
        # Analyses that several rules share, computed by the first rule that needs them.
        self.cache: dict[str, object] = {}
        self.stage_info: dict[int, StageInfo] = {}
        self.stage_of: dict[int, Stage] = {}  # id(instruction) -> stage
        for stage in self.graph.stages:
            parent = self.stage_info.get(stage.parent.index) if stage.parent else None
            env = dict(parent.env) if parent else {}
            user = parent.user if parent else None
            posix = True
            self.stage_of[id(stage.from_instruction)] = stage
            for ins in stage.instructions:
                self.stage_of[id(ins)] = stage
                kw = ins.keyword
                if kw == "ENV" and len(ins.values) % 2 == 0:
                    for k, v in zip(ins.values[::2], ins.values[1::2], strict=True):
                        env[k] = _unquote(v)
                elif kw == "ARG":
                    for word in ins.values:
                        name, eq, value = word.partition("=")
                        if eq:
                            env.setdefault(name, _unquote(value))
                elif kw == "USER" and ins.values:
                    user = ins.values[0]
                elif kw == "SHELL" and ins.json and ins.values:
                    posix = basename(ins.values[0].replace("\\", "/")).lower() in SHELLS
                elif kw == "RUN":
                    step = RunStep(ins, stage, len(self.runs), posix)
                    step.mounts = [parse_mount(v) for v in ins.flag_values("mount")]
                    self.runs.append(step)
            self.stage_info[stage.index] = StageInfo(stage, env, user)

    @property
    def stages(self) -> list[Stage]:
        return self.graph.stages

    @property
    def target(self) -> Stage:
        return self.graph.target

    @cached_property
    def target_chain(self) -> list[Stage]:
        return self.graph.image_chain()

    def in_final_image(self, stage: Stage) -> bool:
        return stage in self.target_chain

    @cached_property
    def _run_by_instruction(self) -> dict[int, RunStep]:
        return {id(r.instruction): r for r in self.runs}

    def run_of(self, instruction: Instruction) -> RunStep | None:
        """The RUN step of a RUN instruction."""
        return self._run_by_instruction.get(id(instruction))

    def runs_in(self, stage: Stage) -> list[RunStep]:
        return [r for r in self.runs if r.stage is stage]

    def final_runs(self) -> list[RunStep]:
        """RUN steps whose layers are in the final image (the target and its FROM parents)."""
        return self._final_runs

    @cached_property
    def _final_runs(self) -> list[RunStep]:
        chain = self.target_chain
        return [r for r in self.runs if r.stage in chain]

    def env_at(self, stage: Stage) -> dict[str, str]:
        return self.stage_info[stage.index].env

    def env_before(self, instruction: Instruction) -> dict[str, str]:
        """ENV/ARG values in effect when ``instruction`` runs (do not modify the result)."""
        return self._env_before.get(id(instruction), {})

    @cached_property
    def _env_before(self) -> dict[int, dict[str, str]]:
        """One walk over every stage chain, remembering the environment at each instruction."""
        out: dict[int, dict[str, str]] = {}
        at_end: dict[int, dict[str, str]] = {}
        for stage in self.graph.stages:
            env = dict(at_end.get(stage.parent.index, {})) if stage.parent else {}
            for ins in stage.instructions:
                out[id(ins)] = env
                if ins.keyword == "ENV" and len(ins.values) % 2 == 0:
                    env = dict(env)
                    for k, v in zip(ins.values[::2], ins.values[1::2], strict=True):
                        env[k] = _unquote(v)
                elif ins.keyword == "ARG":
                    env = dict(env)
                    for word in ins.values:
                        name, eq, value = word.partition("=")
                        if eq:  # without a default the value comes from --build-arg: unknown
                            env.setdefault(name, _unquote(value))
            at_end[stage.index] = env
        return out


def _unquote(value: str) -> str:
    words = parse_words(value)
    if len(words) == 1:
        w = words[0]
        if len(w) >= 2 and w[0] == w[-1] and w[0] in ("'", '"'):
            return w[1:-1]
        return w
    return value
