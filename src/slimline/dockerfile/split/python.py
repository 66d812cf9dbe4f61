"""Python: install the dependencies into a virtualenv in a build stage on the original image
(compilers and headers available), then copy the virtualenv onto the slim variant of the same
Python release. Build-only OS packages stay behind; the runtime libraries of header packages
(libpq-dev -> libpq5) come along."""

from __future__ import annotations

import re

from slimline.dockerfile.context import RunStep
from slimline.dockerfile.rebase import Note, Refusal, requirement_names, slimmer_base
from slimline.dockerfile.shell import Command
from slimline.dockerfile.split._base import (
    Output,
    Source,
    SplitOptions,
    Splitter,
    StageText,
    add_pip_runtime_libraries,
    build_stage_name,
    command_text,
    dev_text,
    from_line,
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

VENV = "/opt/venv"
# Instructions that describe the running container, not the build.
RUNTIME_ONLY = frozenset(
    {"USER", "EXPOSE", "CMD", "ENTRYPOINT", "LABEL", "HEALTHCHECK", "VOLUME", "STOPSIGNAL",
     "MAINTAINER"}
)  # fmt: skip
# pip options that put packages somewhere other than the active environment.
_ELSEWHERE = ("--user", "--target", "-t", "--prefix", "--root", "--system")
_UNSUPPORTED_TOOLS = frozenset({"poetry", "pipenv", "pipx", "conda"})
_DEV_REQUIREMENTS = (
    "requirements-dev.txt",
    "dev-requirements.txt",
    "requirements_dev.txt",
    "requirements/dev.txt",
)
_PYTHON = re.compile(r"python[0-9.]*")


def _venv_path(command: Command) -> str | None:
    """The directory ``python -m venv DIR``, ``virtualenv DIR`` or ``uv venv DIR`` creates."""
    words = [w.text for w in command.unwrapped()]
    if not words:
        return None
    if _PYTHON.fullmatch(command.program) and words[1:3] == ["-m", "venv"]:
        rest = words[3:]
    elif command.program == "virtualenv":
        rest = words[1:]
    elif command.program == "uv" and words[1:2] == ["venv"]:
        rest = words[2:]
    else:
        return None
    paths = [w for w in rest if not w.startswith("-")]
    return paths[-1] if paths else (".venv" if command.program == "uv" else None)


def _is_setup_py(command: Command) -> bool:
    words = [w.text for w in command.unwrapped()]
    return bool(_PYTHON.fullmatch(command.program)) and any(w.endswith("setup.py") for w in words)


class PythonSplitter(Splitter):
    language = "python"
    order = 10

    def detect(self, src: Source) -> bool:
        return src.family == "python"

    def split(self, src: Source, options: SplitOptions) -> Output:
        info = src.info
        assert info is not None
        if info.variant.libc != "glibc":
            raise Refusal(
                f"{src.ref} is an alpine image: slimline splits Debian-based Python images only"
            )
        deps = [run for run in src.runs if self._is_dependency_step(run)]
        if not deps:
            raise Refusal(
                "no `pip install`: nothing is built, so there is nothing to keep in a build"
                " stage (`fix --rebase` moves the image to the slim variant)"
            )
        venv = None
        for run in deps:
            venv = self._check_dependency_step(src, run) or venv
        refuse_build_work_outside(src, deps, "outside the dependency installs")
        notes: list[Note] = []
        base = slimmer_base(src.stage, src.ctx.graph)
        if base.note:
            notes.append(Note(base.note))
        ours = venv is None
        venv = venv or VENV
        dep_ids = {id(r.instruction) for r in deps}
        last = max(src.index(r.instruction) for r in deps)
        build = self._build_stage(src, dep_ids, last, venv if ours else None)
        runtime_instructions = [
            ins
            for ins in src.instructions
            if ins.keyword != "RUN" or (id(ins) not in dep_ids and not is_apt_only(src.run(ins)))
        ]
        package_runs = [r for r in src.runs if id(r.instruction) in dep_ids or is_apt_only(r)]
        release = runtime_release(base, src)
        plan = plan_packages(src, package_runs, runtime_instructions, release=release)
        names: list[str] = []
        for run in deps:
            for op in run.ops_of("pip"):
                if op.action == "install":
                    names += requirement_names(op, src.context)
        add_pip_runtime_libraries(plan, names, release)
        runtime = runtime_stage(
            src,
            base,
            plan,
            runtime_instructions,
            notes,
            "Runtime stage: the virtualenv and the application, without compilers or headers.",
        )
        first_dep = True
        for ins in src.instructions:
            if ins.keyword == "RUN" and id(ins) in dep_ids:
                if first_dep:
                    _, blank = src.leading(ins)
                    runtime.add(f"COPY --from={build_stage_name(src)} {venv} {venv}", blank=blank)
                    if ours:
                        runtime.add(f"ENV VIRTUAL_ENV={venv} PATH={venv}/bin:$PATH")
                    first_dep = False
                continue
            if ins.keyword == "RUN" and is_apt_only(src.run(ins)):
                continue
            runtime.keep(ins)
        notes.append(
            Note(
                f"dependencies are installed into the virtualenv {venv} in the build stage and"
                " copied into the runtime stage"
            )
        )
        if info.version is None or "." not in info.version:
            notes.append(
                Note(
                    f"{src.ref} does not name a minor Python release: build and runtime images"
                    " pulled at different times could differ, and the virtualenv only works on"
                    " the release that made it; pin one (python:3.12)",
                    warning=True,
                )
            )
        return Output(render(src, [build, runtime]), self._dev(src, deps), notes)

    # -- steps --------------------------------------------------------------------------

    @staticmethod
    def _is_dependency_step(run: RunStep) -> bool:
        for command in run.commands:
            if _venv_path(command) is not None or _is_setup_py(command):
                return True
        return any(op.manager == "pip" for op in run.ops)

    @staticmethod
    def _check_dependency_step(src: Source, run: RunStep) -> str | None:
        """Refusal when the step installs somewhere the virtualenv copy would miss, or does
        more than install; the virtualenv directory when the step makes one itself."""
        where = src.where(run.instruction)
        venv = None
        for command in run.commands:
            venv = _venv_path(command) or venv
        for op in run.ops_of("pip"):
            base_tool = op.tool.split()[0]
            if base_tool in _UNSUPPORTED_TOOLS:
                raise Refusal(f"{where} uses {base_tool}: slimline splits pip installs only")
            elsewhere = [o for o in _ELSEWHERE if op.has(o)]
            if elsewhere and op.action == "install":
                raise Refusal(
                    f"{where} installs with {elsewhere[0]}, outside the environment that would"
                    " be copied to the runtime stage"
                )
            editable = op.values("-e") + op.values("--editable")
            if any("://" in e or "+" in e.split("/")[0] for e in editable):
                raise Refusal(f"{where} installs an editable checkout of a repository")
        strange = strange_commands(run, lambda c: _venv_path(c) is not None or _is_setup_py(c))
        if strange:
            raise Refusal(
                f"{where} also runs `{command_text(strange[0])}`, whose"
                " results would stay in the build stage; move it to a RUN of its own"
            )
        if venv is not None and not venv.startswith("/"):
            raise Refusal(f"{where} creates a virtualenv at a relative path ({venv})")
        return venv

    @staticmethod
    def _build_stage(src: Source, dep_ids: set[int], last: int, venv: str | None) -> StageText:
        stage = StageText(
            src,
            "Build stage: the original image, with its compilers and headers; it does not ship.",
            from_line(src, original_base(src), build_stage_name(src)),
        )
        first_dep = True
        for ins in src.instructions[: last + 1]:
            if ins.keyword in RUNTIME_ONLY:
                continue
            if ins.keyword == "RUN" and id(ins) in dep_ids and first_dep:
                first_dep = False
                if venv is not None:
                    _, blank = src.leading(ins)
                    stage.add(f"RUN python -m venv {venv}", blank=blank)
                    stage.add(f"ENV VIRTUAL_ENV={venv} PATH={venv}/bin:$PATH")
            stage.keep(ins)
        return stage

    # -- the development file ----------------------------------------------------------

    @staticmethod
    def _dev(src: Source, deps: list[RunStep]) -> str:
        after: dict[int, list[str]] = {}
        found = None
        if src.context is not None:
            found = next((f for f in _DEV_REQUIREMENTS if (src.context / f).is_file()), None)
        installed = any(found and found in r.instruction.original for r in src.runs)
        if found and not installed:
            last = deps[-1].instruction
            copies_all = any(
                is_context_copy(i) and i.values[:-1] == (".",)
                for i in src.instructions[: src.index(last)]
            )
            lines = [] if copies_all else [f"COPY {found} {found}"]
            lines.append(f"RUN pip install --no-cache-dir -r {found}")
            after[id(last)] = lines
        header = (
            "Development image: the single-stage build, with compilers, headers and dev\n"
            "dependencies. The production image is built by the multi-stage Dockerfile."
        )
        return dev_text(src, header, after=after)
