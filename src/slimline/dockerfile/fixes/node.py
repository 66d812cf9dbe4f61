"""Installing Node.js dependencies without devDependencies, when that is safe.

Leaving devDependencies out is only safe when nothing after the install needs them: not a
build script (``npm run build``), not a lifecycle script of the package (``prepare`` running
husky), not the container's command (``npm start`` running nodemon). That can only be judged
from the project's package.json, so the fix reads it from the build context, through the COPY
that put it in the install's directory, and refuses when it cannot.

``npm install`` becomes ``npm ci`` only when a lock file travels with it (copied by the same
kind of COPY, not excluded by .dockerignore) and agrees with package.json: ``npm ci`` fails
on a missing or stale lock file where ``npm install`` would have updated it.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from slimline.dockerfile.context import RunStep
from slimline.dockerfile.edits import Edit
from slimline.dockerfile.fixes.base import FixContext, Unfixable
from slimline.dockerfile.fixes.shell_edits import action_word, word_span
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.shell import Command, basename
from slimline.dockerfile.stages import substitute

_LIFECYCLE = ("preinstall", "install", "postinstall", "prepare", "prepublish", "preprepare")
_LOCKS = ("npm-shrinkwrap.json", "package-lock.json")
# Commands that run project scripts or installed binaries.
_SCRIPT_RUNNERS = {
    "npm": {"run", "run-script", "rum", "urn", "test", "t", "tst", "exec", "x", "start", "restart"},
    "pnpm": {"run", "exec", "dlx", "test", "t", "start"},
}
_YARN_BUILTINS = frozenset(
    {"install", "add", "remove", "upgrade", "cache", "config", "global", "info", "init",
     "link", "unlink", "list", "login", "logout", "outdated", "owner", "pack", "publish",
     "self-update", "tag", "team", "version", "versions", "why", "workspaces", "audit",
     "autoclean", "check", "generate-lock-entry", "help", "import", "licenses", "policies",
     "set", "prune"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Project:
    """The package.json an install reads, as the build context holds it."""

    manifest: dict[str, Any]
    directory: Path  # in the build context
    lock: str | None  # the npm lock file copied along, if any

    @property
    def dev_dependencies(self) -> set[str]:
        dev = self.manifest.get("devDependencies") or {}
        return set(dev) if isinstance(dev, dict) else set()

    def script(self, name: str) -> str | None:
        scripts = self.manifest.get("scripts") or {}
        value = scripts.get(name) if isinstance(scripts, dict) else None
        return value if isinstance(value, str) else None


def omit_dev_edits(fctx: FixContext, run: RunStep, op: PackageOp, kind: str) -> tuple[Edit, str]:
    """The edit that makes this install leave devDependencies out, and what it does."""
    if kind == "berry":
        raise Unfixable(
            "Yarn 2+ leaves devDependencies out only with `yarn workspaces focus --production`"
        )
    if op.values("--include") or op.has("--production=false", "--dev"):
        raise Unfixable("the install asks for devDependencies explicitly")
    if op.has("--prefix", "-C", "--dir", "--cwd", "-w", "--workspace", "--filter", "-F"):
        raise Unfixable("the install runs in another directory or workspace")
    before = _commands_before(run, op.command)
    if any(c.program == "cd" or c.program == "pushd" for c in before):
        raise Unfixable("the install runs after a `cd`: its package.json is not known")
    project = _project(fctx, run)
    _check_later_use(fctx, run, op, project)
    word = action_word(op)
    if word.dynamic:
        raise Unfixable("a variable names the install command")
    start, end = word_span(fctx, op.command, word)
    if kind == "yarn":
        return Edit.insert(end, " --production"), "added --production to `yarn install`"
    if kind == "pnpm":
        return Edit.insert(end, " --prod"), "added --prod to `pnpm install`"
    major = _node_major(fctx)
    flag = "--production" if major is not None and major < 15 else "--omit=dev"
    if op.action == "install" and project.lock is not None and (major is None or major >= 10):
        return Edit(start, end, f"ci {flag}"), f"`npm {word.text}` -> `npm ci {flag}`"
    return Edit.insert(end, f" {flag}"), f"added {flag} to `npm {word.text}`"


def _commands_before(run: RunStep, command: Command) -> list[Command]:
    out: list[Command] = []
    for c in run.commands:
        if c is command:
            return out
        out.append(c)
    return out


def _commands_after(run: RunStep, command: Command) -> list[Command]:
    for i, c in enumerate(run.commands):
        if c is command:
            return run.commands[i + 1 :]
    return []


def _node_major(fctx: FixContext) -> int | None:
    root = fctx.check.target_chain[0]
    ref = root.base_resolved.lower()
    name, _, tag = ref.split("@", 1)[0].rpartition(":")
    if not name or "/" in tag or basename(name) != "node":
        return None
    match = re.match(r"(\d+)", tag)
    return int(match.group(1)) if match else None


# --- Finding the project in the build context -------------------------------------------


def _resolve(path: str, workdir: str, env: dict[str, str]) -> str | None:
    if "$" in path:
        path, ok = substitute(path, env)
        if not ok or "$" in path:
            return None
    return posixpath.normpath(posixpath.join(workdir, path))


def _project(fctx: FixContext, run: RunStep) -> Project:
    context = fctx.options.context_dir
    if context is None:
        raise Unfixable("the build context is unknown: package.json cannot be read (--context)")
    workdir, copies = _copies_before(fctx, run.instruction)
    manifest_source = _copied_file(copies, workdir, "package.json")
    if manifest_source is None:
        raise Unfixable("no COPY of package.json into the install's directory")
    manifest_path = context / manifest_source
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise Unfixable(f"{manifest_source} is not readable in the build context") from None
    if not isinstance(data, dict):
        raise Unfixable(f"{manifest_source} is not a JSON object")
    if data.get("workspaces"):
        raise Unfixable("package.json declares workspaces")
    directory = manifest_path.parent
    lock: str | None = None
    for name in _LOCKS:
        source = _copied_file(copies, workdir, name)
        if (
            source is not None
            and (context / source).is_file()
            and not _ignored(context, source)
            and _lock_matches(context / source, data)
        ):
            lock = name
            break
    return Project(data, directory, lock)


def _copies_before(fctx: FixContext, stop: Instruction) -> tuple[str, list[tuple[str, str, str]]]:
    """The WORKDIR at ``stop`` and every (source, destination as written, workdir) of the
    context COPY/ADD instructions before it in its image."""
    workdir = "/"
    env = {k: v for k, v in fctx.check.graph.global_args.items() if v is not None}
    copies: list[tuple[str, str, str]] = []
    stage = fctx.check.stage_of.get(id(stop))
    if stage is None:
        raise Unfixable("the install's stage is unknown")
    for current in fctx.check.graph.image_chain(stage):
        for ins in current.instructions:
            if ins is stop:
                return workdir, copies
            if ins.keyword == "WORKDIR" and ins.values:
                resolved = _resolve(ins.values[0], workdir, env)
                if resolved is None:
                    raise Unfixable("a WORKDIR names a variable with no known value")
                workdir = resolved
            elif ins.keyword == "ENV" and len(ins.values) % 2 == 0:
                for k, v in zip(ins.values[::2], ins.values[1::2], strict=True):
                    env[k] = v.strip("\"'")
            elif (
                ins.keyword in ("COPY", "ADD")
                and ins.flag("from") is None
                and not ins.heredocs
                and len(ins.values) >= 2
            ):
                for source in ins.values[:-1]:
                    copies.append((source, ins.values[-1], workdir))
    return workdir, copies


def _copied_file(copies: list[tuple[str, str, str]], cwd: str, name: str) -> str | None:
    """The context path of the file the COPYs put at ``cwd/name`` (the last one wins)."""
    wanted = posixpath.join(cwd, name)
    found: str | None = None
    for source, dest_text, workdir in copies:
        if "$" in source or "://" in source or source.startswith("--"):
            continue
        dest = posixpath.normpath(posixpath.join(workdir, dest_text))
        into_dir = dest_text.endswith("/") or dest_text in (".", "./") or dest == workdir
        clean = posixpath.normpath(source)
        base = basename(clean)
        if clean in (".", "/") or source.endswith("/") or "." not in base:
            # A directory copied into the destination: its file of that name lands there.
            if dest == cwd:
                found = posixpath.normpath(posixpath.join(clean, name)).lstrip("/")
            continue
        if fnmatchcase(name, base):
            target = posixpath.join(dest, name) if into_dir or base != name else dest
            if target == wanted:
                found = posixpath.normpath(posixpath.join(posixpath.dirname(clean), name))
                found = found.lstrip("/")
    return found


def _ignored(context: Path, source: str) -> bool:
    """Whether .dockerignore may exclude the file (any pattern matching it counts)."""
    try:
        lines = (context / ".dockerignore").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    name = basename(source)
    for line in lines:
        pattern = line.strip()
        if not pattern or pattern.startswith(("#", "!")):
            continue
        pattern = pattern.lstrip("/").removeprefix("**/")
        if fnmatchcase(source, pattern) or fnmatchcase(name, pattern):
            return True
    return False


def _lock_matches(lock_path: Path, manifest: dict[str, Any]) -> bool:
    """Whether the lock file records the same dependencies as package.json (what `npm ci`
    insists on)."""
    try:
        lock = json.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(lock, dict):
        return False
    kinds = ("dependencies", "devDependencies", "optionalDependencies")
    packages = lock.get("packages")
    if isinstance(packages, dict) and isinstance(packages.get(""), dict):
        root = packages[""]
        return all((root.get(k) or {}) == (manifest.get(k) or {}) for k in kinds)
    recorded = lock.get("dependencies")
    if not isinstance(recorded, dict):
        return False
    return all(name in recorded for k in kinds for name in (manifest.get(k) or {}))


# --- Does anything later need devDependencies? -------------------------------------------


def _check_later_use(fctx: FixContext, run: RunStep, op: PackageOp, project: Project) -> None:
    dev = project.dev_dependencies
    if dev and any(project.script(name) for name in _LIFECYCLE):
        raise Unfixable(
            "package.json has install or prepare scripts, which may need devDependencies"
        )
    later: list[tuple[RunStep, Command]] = [(run, c) for c in _commands_after(run, op.command)]
    after = False
    for other in fctx.check.final_runs():
        if other is run:
            after = True
            continue
        if after:
            later += [(other, c) for c in other.commands]
    for where, command in later:
        used = _runs_project_code(command, dev)
        if used is not None and dev:
            raise Unfixable(f"`{used}` at line {where.instruction.line} may need devDependencies")
    for ins in _start_commands(fctx):
        words = [w for value in ins.values for w in value.split()]
        reason = _start_needs_dev(words, project, dev)
        if reason is not None:
            raise Unfixable(reason)


def _runs_project_code(command: Command, dev: set[str]) -> str | None:
    op = package_op(command)
    words = [w.text for w in command.unwrapped()]
    if not words:
        return None
    if basename(words[0]) in ("npx", "pnpx") or any("node_modules/.bin" in w for w in words):
        return " ".join(words[:2])
    if basename(words[0]) in dev:
        return words[0]
    if op is None:
        return None
    if op.manager in _SCRIPT_RUNNERS and op.raw_action in _SCRIPT_RUNNERS[op.manager]:
        return f"{op.tool} {op.raw_action}"
    if op.manager == "yarn" and op.raw_action and op.raw_action not in _YARN_BUILTINS:
        return f"yarn {op.raw_action}"
    return None


def _start_commands(fctx: FixContext) -> list[Instruction]:
    last: dict[str, Instruction] = {}
    for stage in fctx.check.target_chain:
        for ins in stage.instructions:
            if ins.keyword in ("CMD", "ENTRYPOINT"):
                last[ins.keyword] = ins
    return list(last.values())


def _start_needs_dev(words: list[str], project: Project, dev: set[str]) -> str | None:
    """Why the container's command may need devDependencies, or None."""
    if not dev:
        return None
    names = [basename(w) for w in words]
    for i, name in enumerate(names):
        if name in dev or name in ("npx", "pnpx"):
            return f"the container's command runs `{name}`"
        if name in ("npm", "yarn", "pnpm") and i + 1 < len(names):
            action = names[i + 1]
            script_name = (
                names[i + 2] if action in ("run", "run-script") and i + 2 < len(names) else action
            )
            script = project.script(script_name)
            if script is None and script_name == "start" and name == "npm":
                script = "node server.js"
            if script is None:
                return f"the container's command runs `{name} {action}`, not in package.json"
            tokens = set(re.split(r"[\s;&|()]+", script))
            if tokens & (dev | {"npx", "npm", "yarn", "pnpm"}):
                return f"the `{script_name}` script of package.json may need devDependencies"
    return None
