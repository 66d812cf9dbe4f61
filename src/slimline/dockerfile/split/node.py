"""Node.js: install (and build, when the Dockerfile runs a build script) in a build stage on
the original image, prune the devDependencies there, and copy the application directory with
its production ``node_modules`` onto the slim variant of the same Node.js release."""

from __future__ import annotations

import json
import posixpath
import re

from slimline.dockerfile.context import RunStep
from slimline.dockerfile.pkgmgr import PackageOp
from slimline.dockerfile.rebase import Note, Refusal, slimmer_base
from slimline.dockerfile.split._base import (
    Output,
    Source,
    SplitOptions,
    Splitter,
    StageText,
    build_stage_name,
    command_text,
    dev_text,
    from_line,
    inside,
    is_apt_only,
    is_context_copy,
    original_base,
    plan_packages,
    refuse_build_work_outside,
    render,
    runtime_release,
    runtime_stage,
    strange_commands,
)
from slimline.dockerfile.split.python import RUNTIME_ONLY

_MANAGERS = frozenset({"npm", "yarn", "pnpm"})
_RUNNERS = frozenset({"npm", "yarn", "pnpm", "npx", "node", "corepack"})
# node-gyp's toolchain: needed to compile native addons, not to run them.
_NODE_GYP = ("python3", "python-is-python3", "python3-dev", "python3-minimal", "python")


def _is_install(op: PackageOp) -> bool:
    return op.manager in _MANAGERS and op.action in ("install", "ci")


class NodeSplitter(Splitter):
    language = "node"
    order = 20

    def detect(self, src: Source) -> bool:
        return src.family == "node"

    def split(self, src: Source, options: SplitOptions) -> Output:
        steps = [run for run in src.runs if self._is_build_step(run)]
        installs = [r for r in steps if any(_is_install(op) for op in r.ops)]
        if not installs:
            raise Refusal(
                "no `npm install`/`npm ci` (or yarn, pnpm): nothing is built, so there is"
                " nothing to keep in a build stage (`fix --rebase` moves the image to the slim"
                " variant)"
            )
        manager = next(op.manager for r in installs for op in r.ops if _is_install(op))
        for run in steps:
            self._check_step(src, run)
        app = src.workdir(installs[0].instruction)
        if app is None or app == "/":
            raise Refusal(
                f"{src.where(installs[0].instruction)} does not run in a known application"
                " directory (set WORKDIR): the directory to copy is unknown"
            )
        refuse_build_work_outside(src, steps, "outside the install and build steps")
        notes: list[Note] = []
        base = slimmer_base(src.stage, src.ctx.graph)
        if base.note:
            notes.append(Note(base.note))
        step_ids = {id(r.instruction) for r in steps}
        last = max(src.index(r.instruction) for r in steps)
        prune, prune_note = self._prune(src, manager)
        if prune_note:
            notes.append(prune_note)
        build = StageText(
            src,
            "Build stage: install and build with every dependency; only the app directory ships.",
            from_line(src, original_base(src), build_stage_name(src)),
        )
        for ins in src.instructions[: last + 1]:
            if ins.keyword not in RUNTIME_ONLY:
                build.keep(ins)
        if prune:
            build.add(prune)
        subsumed = {
            id(ins)
            for ins in src.instructions[:last]
            if is_context_copy(ins)
            and (dest := src.copy_destination(ins)) is not None
            and inside(dest, app)
        }
        chown = next(
            (
                ins.flag_values("chown")[0]
                for ins in src.instructions
                if id(ins) in subsumed and ins.flag_values("chown")
            ),
            None,
        )
        folded = self._chown_step(src, app, last) if chown is None else None
        directory_chown: tuple[int, str] | None = None
        if folded is not None:
            chown, step = folded
            # COPY --chown does not change the directory WORKDIR created; chown only that.
            directory_chown = (id(step.instruction), f"RUN chown {chown} {app}")
            notes.append(
                Note(
                    "`chown -R` became COPY --chown: a recursive chown in its own RUN would copy"
                    " every file into a second layer",
                    step.instruction.line,
                )
            )
        runtime_instructions = [
            ins
            for ins in src.instructions
            if id(ins) not in subsumed
            and (
                ins.keyword != "RUN" or (id(ins) not in step_ids and not is_apt_only(src.run(ins)))
            )
        ]
        runtime_ids = {id(ins) for ins in runtime_instructions}
        package_runs = [r for r in src.runs if r in steps or is_apt_only(r)]
        plan = plan_packages(
            src,
            package_runs,
            runtime_instructions,
            release=runtime_release(base, src),
            build_only_names=_NODE_GYP,
        )
        runtime = runtime_stage(
            src,
            base,
            plan,
            runtime_instructions,
            notes,
            "Runtime stage: the application and its production dependencies only.",
        )
        last_step = src.instructions[last]
        for ins in src.instructions:
            if ins is last_step:
                _, blank = src.leading(ins)
                owner = f" --chown={chown}" if chown else ""
                runtime.add(f"COPY --from={build_stage_name(src)}{owner} {app} {app}", blank=blank)
                continue
            if id(ins) in subsumed or (ins.keyword == "RUN" and id(ins) not in runtime_ids):
                continue
            if directory_chown is not None and id(ins) == directory_chown[0]:
                runtime.keep(ins, directory_chown[1])
                continue
            runtime.keep(ins)
        notes.append(
            Note(
                f"{app} (sources, build output and production node_modules) is copied from the"
                " build stage"
            )
        )
        header = (
            "Development image: the single-stage build, with devDependencies and build tools.\n"
            "The production image is built by the multi-stage Dockerfile."
        )
        return Output(render(src, [build, runtime]), dev_text(src, header), notes)

    # -- steps --------------------------------------------------------------------------

    @staticmethod
    def _is_build_step(run: RunStep) -> bool:
        return any(op.manager in _MANAGERS for op in run.ops) or any(
            c.program == "npx" for c in run.commands
        )

    @staticmethod
    def _chown_step(src: Source, app: str, last: int) -> tuple[str, RunStep] | None:
        """A later RUN that is only `chown -R OWNER <app dir>`: its owner, to give to the COPY
        from the build stage instead."""
        for run in src.runs:
            if src.index(run.instruction) <= last or len(run.commands) != 1:
                continue
            words = [w.text for w in run.commands[0].unwrapped()]
            if not words or words[0] != "chown" or len(words) != 4:
                continue
            if words[1] not in ("-R", "--recursive") or "$" in words[2]:
                continue
            target = posixpath.normpath(
                posixpath.join(src.workdir(run.instruction) or "/", words[3])
            )
            if target == app:
                return words[2], run
        return None

    @staticmethod
    def _check_step(src: Source, run: RunStep) -> None:
        where = src.where(run.instruction)
        for op in run.ops:
            if op.manager in _MANAGERS and (op.has("-g") or op.has("--global")):
                raise Refusal(
                    f"{where} installs packages globally, outside the application directory"
                    " that would be copied"
                )
        if any(c.program == "corepack" for c in run.commands):
            raise Refusal(f"{where} enables corepack: the package manager version is unknown")
        strange = strange_commands(run, lambda c: c.program in _RUNNERS)
        if strange:
            raise Refusal(
                f"{where} also runs `{command_text(strange[0])}`, whose"
                " results may lie outside the application directory; move it to a RUN of its own"
            )

    @staticmethod
    def _prune(src: Source, manager: str) -> tuple[str | None, Note | None]:
        """The command that removes devDependencies, unless the application needs them at run
        time (its start command is one of them, as package.json shows)."""
        dev_tool = _dev_dependency_started(src)
        if dev_tool is not None:
            return None, Note(
                f"devDependencies are kept: the start command runs {dev_tool}, which is one",
                warning=True,
            )
        if manager == "yarn":
            command = (
                "yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline"
            )
        elif manager == "pnpm":
            command = "pnpm prune --prod"
        else:
            version = src.info.version if src.info else None
            old = (
                version is not None
                and version.split(".")[0].isdigit()
                and int(version.split(".")[0]) < 16
            )
            command = "npm prune --production" if old else "npm prune --omit=dev"
        return f"RUN {command}", None


def _dev_dependency_started(src: Source) -> str | None:
    """A devDependency the start command runs (``nodemon``, ``ts-node``...), from package.json
    in the build context; None when there is none or no context to read."""
    if src.context is None:
        return None
    manifest = src.context / "package.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    dev = data.get("devDependencies") or {}
    scripts = data.get("scripts") or {}
    if not isinstance(dev, dict) or not isinstance(scripts, dict):
        return None
    programs: list[str] = []
    for ins in src.instructions:
        if ins.keyword not in ("CMD", "ENTRYPOINT"):
            continue
        for command in src.commands(ins):
            words = [w.text for w in command.unwrapped()]
            programs += words[:1]
            if command.program in ("npm", "yarn", "pnpm") and len(words) > 1:
                script = words[2] if words[1] == "run" and len(words) > 2 else words[1]
                body = scripts.get(script)
                if isinstance(body, str):
                    programs += re.findall(r"(?:^|&&|\|\||;)\s*([\w@./-]+)", body)
    for program in programs:
        if program in dev:
            return program
    return None
