"""package-cache: no package-manager caches or indexes left in a layer.

Every rule here looks only at RUN steps whose layers end up in the final image (the target
stage and the stages it is built ``FROM``): a cache written in a build stage that is only
copied from costs nothing in the image that ships.

A cache does not count when, in the same RUN and after the command that fills it, it is
removed (``rm``, ``find -delete`` or the manager's own clean command), or when its directory
is a ``RUN --mount=type=cache`` (or tmpfs or bind) mount. A clean-up in a later RUN does not
help: the bytes stay in the earlier layer.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.shell import Command, basename
from slimline.dockerfile.stages import Stage, substitute
from slimline.findings import Finding, Practice, Severity

if TYPE_CHECKING:
    from slimline.dockerfile.edits import Edit
    from slimline.dockerfile.fixes import FixContext, FixResult


# Measured: the APKINDEX files of Alpine 3.20 main and community, as `apk update` stores them.
APK_INDEX_BYTES = 2_600_000
# Measured on Debian 12 with the apt configuration of the official debian:bookworm image
# (lz4-compressed indexes, no translations): /var/lib/apt/lists after `apt-get update` for
# bookworm, bookworm-updates and bookworm-security main, amd64.
APT_LISTS_BYTES = 19_874_352
# Measured on Debian 12 with the same sources: pkgcache.bin + srcpkgcache.bin in
# /var/cache/apt, which apt writes once the image's docker-clean configuration is gone.
APT_BINARY_CACHES_BYTES = 73_846_235

# A placeholder for "some user's home directory": /root, /home/<user>, ~ and $HOME all map here.
HOME = "/~"


# Paths, removal and mounts, shared by the rules of this family and of install-scope.


def norm_path(text: str, env: Mapping[str, str] | None = None) -> str:
    """A path as a rule compares it: home directories folded to ``HOME``, variables expanded
    where known, ``.``/``..`` resolved. Globs are kept."""
    for prefix in ("${HOME}", "$HOME", "~"):
        if text == prefix or text.startswith(prefix + "/"):
            text = HOME + text[len(prefix) :]
            break
    if "$" in text and env:
        text = substitute(text, env)[0]
    if not text:
        return ""
    text = posixpath.normpath(text)
    if text == "/root" or text.startswith("/root/"):
        text = HOME + text[5:]
    elif text.startswith("/home/"):
        parts = text.split("/", 3)
        text = HOME + ("/" + parts[3] if len(parts) > 3 else "")
    return text


_BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")
_MAX_EXPANSIONS = 32


def _expand_braces(text: str) -> list[str]:
    """``/var/cache/{dnf,yum}`` -> both paths (what the shell does before rm sees them),
    capped so that a word full of braces stays cheap."""
    done: list[str] = []
    todo = [text]
    while todo and len(done) < _MAX_EXPANSIONS:
        word = todo.pop()
        match = _BRACES.search(word)
        if match is None:
            done.append(word)
            continue
        for part in match.group(1).split(",")[:_MAX_EXPANSIONS]:
            todo.append(word[: match.start()] + part + word[match.end() :])
        if len(todo) > _MAX_EXPANSIONS:
            todo = todo[-_MAX_EXPANSIONS:]
    return done


def covers(pattern: str, target: str) -> bool:
    """Whether deleting (or mounting over) ``pattern`` takes ``target`` with it. Both are
    normalised paths; ``pattern`` may be a glob, which covers a target it matches or whose
    ancestor it matches."""
    if not pattern or not target or not pattern.startswith("/"):
        return False
    if pattern == target or target.startswith(pattern.rstrip("/") + "/"):
        return True
    if any(ch in pattern for ch in "*?["):
        path = target
        while len(path) > 1:
            if fnmatchcase(path, pattern):
                return True
            path = posixpath.dirname(path)
    return False


def removed_paths(command: Command, env: Mapping[str, str] | None = None) -> list[str]:
    """The normalised paths an ``rm`` or ``find ... -delete`` command removes."""
    words = command.unwrapped()
    if not words:
        return []
    prog = basename(words[0].text)
    args = [w.text for w in words[1:]]
    if prog == "rm":
        paths = [a for a in args if a and not a.startswith("-")]
    elif prog == "find" and ("-delete" in args or ("-exec" in args and "rm" in args)):
        paths = []
        for a in args:
            if a.startswith("-") or a in ("(", "!"):
                break
            paths.append(a)
    else:
        return []
    out: list[str] = []
    for path in paths:
        for expanded in _expand_braces(path):
            normalised = norm_path(expanded, env)
            if normalised:
                out.append(normalised)
    return out


def removes_any(
    command: Command, targets: Iterable[str], env: Mapping[str, str] | None = None
) -> bool:
    removed = removed_paths(command, env)
    return bool(removed) and any(covers(p, t) for p in removed for t in targets)


def mounted_any(run: RunStep, targets: Iterable[str], env: Mapping[str, str] | None = None) -> bool:
    """Whether a cache, tmpfs or bind mount of this RUN holds one of ``targets``."""
    wanted = list(targets)
    for mount in run.mounts:
        if mount.type in ("cache", "tmpfs", "bind") and mount.target:
            target = norm_path(mount.target, env)
            if any(covers(target, t) for t in wanted):
                return True
    return False


def commands_after(run: RunStep, command: Command) -> list[Command]:
    for i, c in enumerate(run.commands):
        if c is command:
            return run.commands[i + 1 :]
    return []


def commands_before(run: RunStep, command: Command) -> list[Command]:
    for i, c in enumerate(run.commands):
        if c is command:
            return run.commands[:i]
    return []


def cleared_later(
    run: RunStep,
    command: Command,
    targets: Iterable[str],
    env: Mapping[str, str],
    clears: Callable[[PackageOp], bool],
) -> bool:
    """Whether a later command of the same RUN empties the cache: the manager's own clean
    command (``clears``) or an ``rm`` of one of the cache ``targets``."""
    for c in commands_after(run, command):
        later = package_op(c)
        if later is not None and clears(later):
            return True
        if removes_any(c, targets, env):
            return True
    return False


def cache_subcommand(manager: str, *subactions: str) -> Callable[[PackageOp], bool]:
    """Recognises ``<manager> cache <subaction>``, the way npm, pip and yarn empty their cache."""
    return lambda o: o.manager == manager and o.action == "cache" and o.subaction in subactions


def cache_avoided(
    run: RunStep,
    command: Command,
    targets: Iterable[str],
    env: Mapping[str, str],
    clears: Callable[[PackageOp], bool],
) -> bool:
    """Whether the cache never stays in the layer: it is a mount, or the same RUN empties it."""
    targets = list(targets)
    return mounted_any(run, targets, env) or cleared_later(run, command, targets, env, clears)


class EnvCache:
    """ENV and ARG values before each RUN, computed once per RUN and rule pass."""

    def __init__(self, ctx: CheckContext):
        self.ctx = ctx
        self._cache: dict[int, dict[str, str]] = {}

    def before(self, run: RunStep) -> dict[str, str]:
        key = id(run.instruction)
        env = self._cache.get(key)
        if env is None:
            env = self._cache[key] = self.ctx.env_before(run.instruction)
        return env

    def at(self, run: RunStep, command: Command) -> dict[str, str]:
        """The environment ``command`` runs with: ENV/ARG, ``export`` earlier in the RUN,
        ``VAR=x cmd`` prefixes and ``env VAR=x cmd``."""
        env = dict(self.before(run))
        for c in commands_before(run, command):
            if c.name in ("export", "declare", "typeset", "readonly"):
                env.update(c.assignments)
        env.update(command.assignments)
        words = command.words
        if words and basename(words[0].text) == "env":
            for w in words[1:]:
                if w.text.startswith("-"):
                    continue
                key, eq, value = w.text.partition("=")
                if not eq:
                    break
                env[key] = value
        return env


def _script_has(run: RunStep, text: str) -> bool:
    return any(text in s.text for s in run.scripts)


def script_mentions(run: RunStep, needle: str, before: Command) -> bool:
    """Whether the RUN's script text holds ``needle`` (such as ``PIP_NO_CACHE_DIR=``) ahead of
    ``before``. A bare ``VAR=x`` statement is not a command, so its text is the one way to
    see it."""
    scripts = list(run.scripts)
    if not any(script is before.script for script in scripts):
        scripts.append(before.script)
    for script in scripts:
        index = script.text.find(needle)
        if index < 0 or (script is before.script and index > before.start):
            continue
        return True
    return False


def truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes", "y", "on", "t")


def chain_root_image(ctx: CheckContext) -> str | None:
    """The repository name (no registry, tag or digest) of the image the final image starts
    from, or None when a variable in FROM hides it."""
    root: Stage = ctx.target_chain[0]
    if not root.resolved or "$" in root.base_resolved:
        return None
    ref = root.base_resolved.lower().split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


_SUBCOMMAND_ACTIONS = frozenset({"env", "global", "group", "module", "workspaces", "mod"})


def op_label(op: PackageOp) -> str:
    """How the command reads in a message: "conda env create", "dnf install"."""
    label = f"{op.tool} {op.raw_action}".strip()
    if op.raw_action in _SUBCOMMAND_ACTIONS and op.packages:
        label += " " + op.packages[0].text
    return label


def _first_action_word(op: PackageOp) -> int:
    """Index (in the command's words) of the action word, for findings pointed at it."""
    words = op.command.words
    for i, w in enumerate(words[1:], start=1):
        if w.text == op.raw_action:
            return i
    return 0


def action_word_finding(
    rule: Rule,
    ctx: CheckContext,
    op: PackageOp,
    message: str,
    *,
    estimated_bytes: int | None = None,
    severity: Severity | None = None,
) -> Finding:
    i = _first_action_word(op)
    word = op.command.words[i] if i else None
    return rule.at_command(
        ctx, op.command, message, word=word, estimated_bytes=estimated_bytes, severity=severity
    )


# The rules.


class ApkAddWithoutNoCache(Rule):
    """`apk add`, `apk update` or `apk upgrade` without `--no-cache` leaves the package index in the image.

    Why: `apk update` (and `apk add` after it) stores APKINDEX files in `/var/cache/apk`; they
    are never used at runtime. `apk add --no-cache` fetches the index to a temporary location
    instead, so nothing is left behind.

    Leaves alone: `--no-cache` given; `--no-network` (the docker-library idiom for run-time
    dependencies, which fetches nothing); the cache in a `RUN --mount=type=cache` (or tmpfs)
    mount on `/var/cache/apk` or `/etc/apk/cache`; `rm -rf /var/cache/apk/*` later in the
    same RUN; build stages that do not reach the final image.

    estimated_bytes: the size of the Alpine main and community indexes (about 2.6 MB), counted
    once per RUN.
    """

    id = "SL301"
    name = "apk-no-cache"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ("DL3019", "DKL-DI-0004", "DS-0025")
    fixable = True

    _TARGETS = ("/var/cache/apk/APKINDEX.tar.gz", "/etc/apk/cache/APKINDEX.tar.gz")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        for run in ctx.final_runs():
            ops = [op for op in run.ops_of("apk") if op.action in ("install", "update", "upgrade")]
            ops = [op for op in ops if not op.has("--no-cache", "--no-network")]
            if not ops:
                continue
            env = envs.before(run)
            if mounted_any(run, self._TARGETS, env):
                continue
            for op in ops:
                if any(
                    removes_any(c, self._TARGETS[:1], env) for c in commands_after(run, op.command)
                ):
                    continue
                if op.action == "update":
                    advice = "drop it and use `apk add --no-cache`, which fetches a fresh index without keeping it"
                else:
                    advice = f"use `apk {op.raw_action} --no-cache`"
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`apk {op.raw_action}` without --no-cache leaves the package index in "
                    f"/var/cache/apk in this layer; {advice}",
                    estimated_bytes=APK_INDEX_BYTES,
                )
                break

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """``--no-cache`` on every ``apk add``/``upgrade`` of the RUN; ``apk update`` and
        ``rm -rf /var/cache/apk/*`` dropped, as --no-cache makes them useless, unless a later
        step still reads the index the update fetches."""
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.locate import finding_offset, run_at
        from slimline.dockerfile.fixes.packages import add_option, describe, first_dependant
        from slimline.dockerfile.fixes.shell_edits import editable_script, remove_commands

        run = run_at(ctx, finding_offset(ctx, finding))
        script = editable_script(run)
        ops = run.ops_of("apk")
        if any(op.command.script is not script for op in ops):
            raise Unfixable("an apk command runs inside an `sh -c` string")
        flags: list[Edit] = []
        updates: list[Command] = []
        for op in ops:
            if op.has("--no-cache", "--no-network"):
                continue
            if op.action in ("install", "upgrade"):
                flags.append(add_option(ctx, op, "--no-cache"))
            elif op.action == "update":
                updates.append(op.command)
        dropped = updates + apk_cache_removals(ctx, run) if updates else []
        drops: list[Edit] = []
        if dropped:
            dependant = first_dependant(ctx, run, reads_apk_index, refreshes_apk_index)
            if dependant is not None:
                raise Unfixable(
                    f"{describe(*dependant)} uses the index that `apk update` keeps here"
                )
            drops = remove_commands(ctx, run, dropped)
        if not flags and not drops:
            raise Unfixable("no apk command of this RUN needs --no-cache")
        done = ["added --no-cache to apk"] if flags else []
        if drops:
            extra = " and the apk cache clean-up" if len(dropped) > len(updates) else ""
            done.append(f"dropped `apk update`{extra}, which --no-cache makes useless")
        return FixResult.of(flags + drops, "; ".join(done))


def apk_cache_removals(ctx: FixContext, run: RunStep) -> list[Command]:
    """``rm -rf /var/cache/apk/*`` commands of the RUN: useless once nothing keeps the index."""
    env = ctx.check.env_before(run.instruction)
    return [
        c
        for c in run.commands
        if (paths := removed_paths(c, env)) and all(covers("/var/cache/apk", p) for p in paths)
    ]


def reads_apk_index(command: Command, op: PackageOp | None) -> bool:
    return (
        op is not None
        and op.manager == "apk"
        and op.action in ("install", "upgrade", "search", "fetch", "policy", "dot", "info")
        and not op.has("--no-cache", "--no-network", "--update-cache", "-U")
    )


def refreshes_apk_index(command: Command, op: PackageOp | None) -> bool:
    return op is not None and op.manager == "apk" and op.action == "update"


def _is_action(op: PackageOp | None, manager: str, action: str) -> bool:
    return op is not None and op.manager == manager and op.action == action


def _updates_apt_lists(command: Command, op: PackageOp | None) -> bool:
    if op is not None:
        return op.manager == "apt" and op.action == "update"
    # add-apt-repository refreshes the lists itself unless told not to.
    if command.program == "add-apt-repository":
        args = [w.text for w in command.unwrapped()[1:]]
        return not any(a in ("-n", "--no-update") for a in args)
    return False


class AptListsLeft(Rule):
    """`apt-get update` in a RUN that does not delete /var/lib/apt/lists leaves the package lists in the image.

    Why: the lists that `apt-get update` downloads are only needed to resolve an install; in
    the image they are dead weight (about 20 MB for Debian 12) and stale by the next build.
    `apt-get clean` does not remove them: it empties /var/cache/apt, not /var/lib/apt/lists.
    (The official Debian and Ubuntu images already clean the downloaded .deb archives after
    every install through /etc/apt/apt.conf.d/docker-clean, so the lists are what is left.)

    Catches: `apt-get update` / `apt update` (and `add-apt-repository` without `-n`, which
    updates the lists itself) in a RUN that does not, after it, run
    `rm -rf /var/lib/apt/lists/*` (or `find /var/lib/apt/lists ... -delete`, or
    `apt-get distclean`).

    Leaves alone: /var/lib/apt/lists (or /var/lib/apt) in a cache or tmpfs mount of the same
    RUN, the BuildKit way to keep the lists between builds without shipping them (hadolint's
    DL3009 fires here, issue #723); build stages that do not reach the final image. Lists
    removed only in a later RUN still count: they stay in the earlier layer.

    estimated_bytes: /var/lib/apt/lists measured after `apt-get update` with the official
    debian:bookworm image's apt configuration (bookworm, bookworm-updates and
    bookworm-security main, amd64): 19,874,352 bytes; other releases and distributions differ.
    """

    id = "SL302"
    name = "apt-lists-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ("DL3009", "DKL-DI-0005")
    fixable = True

    _TARGETS = ("/var/lib/apt/lists/deb.debian.org_debian_dists_stable_InRelease",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        for run in ctx.final_runs():
            if not run.ops and not _script_has(run, "add-apt-repository"):
                continue
            ops = {id(op.command): op for op in run.ops}
            env: dict[str, str] | None = None
            for command in run.commands:
                if not _updates_apt_lists(command, ops.get(id(command))):
                    continue
                if env is None:
                    env = envs.before(run)
                    if mounted_any(run, self._TARGETS, env):
                        break
                later = commands_after(run, command)
                if any(self._cleans(c, ops.get(id(c)), env) for c in later):
                    continue
                cleaned_archives = any(_is_action(ops.get(id(c)), "apt", "clean") for c in later)
                hint = " (`apt-get clean` does not remove them)" if cleaned_archives else ""
                op = ops.get(id(command))
                label = f"{op.tool} {op.raw_action}" if op is not None else command.program
                yield self.at_command(
                    ctx,
                    command,
                    f"`{label}` leaves the package lists "
                    f"in /var/lib/apt/lists in this layer{hint}; end the same RUN with "
                    "`rm -rf /var/lib/apt/lists/*`",
                    estimated_bytes=APT_LISTS_BYTES,
                )
                break

    def _cleans(self, command: Command, op: PackageOp | None, env: Mapping[str, str]) -> bool:
        if op is not None and op.manager == "apt" and op.raw_action in ("distclean", "dist-clean"):
            return True
        return removes_any(command, self._TARGETS, env)

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """``rm -rf /var/lib/apt/lists/*`` at the end of the RUN, unless a later step installs
        with these lists without an update of its own (the update alone in its RUN is SL601's
        to merge first)."""
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.locate import finding_offset, run_at
        from slimline.dockerfile.fixes.packages import (
            describe,
            first_dependant,
            guard_branches,
            runs_installer_script,
        )
        from slimline.dockerfile.fixes.shell_edits import append_command, editable_script

        run = run_at(ctx, finding_offset(ctx, finding))
        editable_script(run)
        guard_branches(run, "apt")
        dependant = first_dependant(ctx, run, reads_apt_lists, _refreshes_apt_lists)
        if dependant is not None:
            raise Unfixable(f"{describe(*dependant)} installs with these lists")
        for later in _later_runs_in_stage(ctx, run):
            script = runs_installer_script(later)
            if script is not None:
                raise Unfixable(f"{describe(later, script)} may install packages with these lists")
        edit = append_command(ctx, run, "rm -rf /var/lib/apt/lists/*")
        return FixResult.of([edit], "appended `rm -rf /var/lib/apt/lists/*` to the RUN")


_DOCKER_CLEAN = "/etc/apt/apt.conf.d/docker-clean"


class AptCacheKept(Rule):
    """apt caches stay in the image once the base image's docker-clean configuration is removed.

    Why: the official Debian and Ubuntu images ship /etc/apt/apt.conf.d/docker-clean, which
    deletes downloaded .deb files after every install and stops apt from writing its binary
    caches (pkgcache.bin, srcpkgcache.bin). BuildKit's cache-mount recipe removes that file
    (and sets `Binary::apt::APT::Keep-Downloaded-Packages "true"`) so that /var/cache/apt can
    live in a cache mount. Any later apt RUN without that mount then writes the caches into
    its layer.

    Catches: once docker-clean has been deleted or overwritten earlier in the final image
    (or earlier in the same RUN), an `apt-get update`/`install`/`upgrade` in a RUN without a
    cache mount on /var/cache/apt and without `apt-get clean` (or `rm -rf /var/cache/apt/*`)
    after it.

    Leaves alone: images that never touch docker-clean (apt's archives are cleaned there
    already, which is why slimline has no general "apt-get clean missing" rule); build stages.
    Base images without docker-clean cannot be seen from the Dockerfile and are not judged.

    estimated_bytes: pkgcache.bin and srcpkgcache.bin measured on Debian 12 after an update of
    bookworm, bookworm-updates and bookworm-security main: 73,846,235 bytes. Downloaded .deb
    files come on top and are not counted.
    """

    id = "SL303"
    name = "apt-cache-kept"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ()
    fixable = True

    _BINARY = "/var/cache/apt/pkgcache.bin"
    _ACTIONS = frozenset({"update", "install", "upgrade", "dist-upgrade", "reinstall", "build-dep"})

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not any(r.ops_of("apt") for r in ctx.final_runs()):
            return
        envs = EnvCache(ctx)
        disabled = False
        for run in ctx.final_runs():
            ops = {id(op.command): op for op in run.ops}
            mounted: bool | None = None
            reported = False
            mentions_clean = _script_has(run, "docker-clean")
            for command in run.commands:
                if mentions_clean and _disables_docker_clean(command):
                    disabled = True
                    continue
                op = ops.get(id(command))
                if (
                    reported
                    or not disabled
                    or op is None
                    or op.manager != "apt"
                    or op.action not in self._ACTIONS
                ):
                    continue
                env = envs.before(run)
                if mounted is None:
                    mounted = mounted_any(run, (self._BINARY,), env)
                if mounted or any(
                    self._cleans(c, ops.get(id(c)), env) for c in commands_after(run, command)
                ):
                    continue
                reported = True
                yield self.at_command(
                    ctx,
                    command,
                    f"`{op_label(op)}` writes apt's caches into this layer because "
                    "/etc/apt/apt.conf.d/docker-clean was removed; mount /var/cache/apt with "
                    "`--mount=type=cache` or end the RUN with `apt-get clean`",
                    estimated_bytes=APT_BINARY_CACHES_BYTES,
                )

    def _cleans(self, command: Command, op: PackageOp | None, env: Mapping[str, str]) -> bool:
        if (
            op is not None
            and op.manager == "apt"
            and op.raw_action in ("clean", "distclean", "dist-clean")
        ):
            return True
        return removes_any(command, (self._BINARY,), env)

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult
        from slimline.dockerfile.fixes.packages import append_cleanup, guard_branches, located_op

        run, op = located_op(ctx, finding)
        guard_branches(run, "apt")
        edit = append_cleanup(ctx, run, op, "clean")
        return FixResult.of([edit], f"appended `{op.tool} clean` to the RUN")


_APT_READERS = frozenset(
    {"install", "upgrade", "dist-upgrade", "build-dep", "source", "download", "reinstall",
     "satisfy", "changelog", "search", "show", "policy", "madison", "list", "depends", "rdepends"}
)  # fmt: skip


def reads_apt_lists(command: Command, op: PackageOp | None) -> bool:
    if command.program == "apt-cache":
        return True
    return op is not None and op.manager == "apt" and op.action in _APT_READERS


def _refreshes_apt_lists(command: Command, op: PackageOp | None) -> bool:
    return _updates_apt_lists(command, op)


def _later_runs_in_stage(ctx: FixContext, run: RunStep) -> list[RunStep]:
    return [
        r
        for r in ctx.check.runs_in(run.stage)
        if r.instruction.span.offset > run.instruction.span.offset
    ]


def _disables_docker_clean(command: Command) -> bool:
    if any(covers(p, _DOCKER_CLEAN) for p in removed_paths(command)):
        return True
    return any(
        op == ">" and posixpath.normpath(target) == _DOCKER_CLEAN
        for op, target in command.redirects
    )


_DNF_ACTIONS = frozenset(
    {"install", "reinstall", "localinstall", "groupinstall", "group", "update", "upgrade",
     "makecache", "distro-sync", "downgrade", "builddep", "module", "upgrade-minimal", "swap"}
)  # fmt: skip
_DNF_CACHES = (
    "/var/cache/dnf/repo/repomd.xml",
    "/var/cache/yum/repo/repomd.xml",
    "/var/cache/libdnf5/repo/repomd.xml",
    "/var/cache/tdnf/repo/repomd.xml",
)


class DnfCacheLeft(Rule):
    """`dnf`/`yum`/`microdnf` installs without `clean all` in the same RUN leave repository metadata in the image.

    Why: dnf and yum download repository metadata (and solver caches) into /var/cache/dnf or
    /var/cache/yum and keep it after the transaction; nothing at runtime needs it.

    Catches: install, update, upgrade, makecache, groupinstall and similar actions of yum,
    dnf, dnf5, microdnf and tdnf in a RUN with no `<tool> clean all` and no removal of the
    cache directory after them. Commands joined with `;` count like `&&` (trivy flags
    `yum install ...; yum clean all`, slimline does not).

    Leaves alone: `clean all` or `rm -rf /var/cache/{dnf,yum}` after the install; the cache
    directory in a cache or tmpfs mount; `--cacheonly` (`-C`) runs, which download nothing;
    build stages that do not reach the final image.

    estimated_bytes: none: the metadata size depends on the distribution and on the enabled
    repositories, and no figure is measured here.
    """

    id = "SL304"
    name = "dnf-cache-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ("DL3032", "DL3040", "DS-0019")
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        for run in ctx.final_runs():
            ops = [
                op
                for op in run.ops_of("dnf")
                if op.action in _DNF_ACTIONS and not op.has("-C", "--cacheonly")
            ]
            if not ops:
                continue
            env = envs.before(run)
            if mounted_any(run, _DNF_CACHES, env):
                continue
            for op in ops:
                if any(self._cleans(c, env) for c in commands_after(run, op.command)):
                    continue
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`{op_label(op)}` leaves repository metadata in /var/cache in this "
                    f"layer; end the same RUN with `{op.tool} clean all`",
                )
                break

    @staticmethod
    def _cleans(command: Command, env: Mapping[str, str]) -> bool:
        op = package_op(command)
        if op is not None and op.manager == "dnf" and op.action == "clean":
            return op.subaction == "all"
        return removes_any(command, _DNF_CACHES, env)

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult
        from slimline.dockerfile.fixes.packages import append_cleanup, located_op

        run, op = located_op(ctx, finding)
        edit = append_cleanup(ctx, run, op, "clean all")
        return FixResult.of([edit], f"appended `{op.tool} clean all` to the RUN")


_ZYPPER_ACTIONS = frozenset(
    {
        "install",
        "update",
        "patch",
        "dist-upgrade",
        "refresh",
        "source-install",
        "si",
        "addrepo",
        "ar",
    }
)
_ZYPPER_CACHE = ("/var/cache/zypp/raw/repo/repomd.xml",)


class ZypperCacheLeft(Rule):
    """`zypper install` without `zypper clean --all` in the same RUN leaves repository metadata in the image.

    Why: zypper keeps raw and parsed repository metadata in /var/cache/zypp. Plain
    `zypper clean` (or `zypper cc`) only cleans downloaded packages, which zypper does not
    keep by default anyway; `--all` (or `--metadata`) is what removes the metadata.

    Catches: install, update, patch, dist-upgrade, refresh and source-install (and `addrepo`
    with a refresh) in a RUN with no `zypper clean --all`/`-a`/`-m`/`-M` and no removal of
    /var/cache/zypp after them.

    Leaves alone: /var/cache/zypp in a cache or tmpfs mount; build stages.

    estimated_bytes: none: it depends on the repositories enabled.
    """

    id = "SL305"
    name = "zypper-cache-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ("DL3036",)
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        for run in ctx.final_runs():
            ops = [op for op in run.ops_of("zypper") if op.action in _ZYPPER_ACTIONS]
            ops = [
                op for op in ops if op.action not in ("addrepo", "ar") or op.has("-f", "--refresh")
            ]
            if not ops:
                continue
            env = envs.before(run)
            if mounted_any(run, _ZYPPER_CACHE, env):
                continue
            for op in ops:
                later = commands_after(run, op.command)
                if any(self._cleans(c, env) for c in later):
                    continue
                partial = any(_is_action(package_op(c), "zypper", "clean") for c in later)
                hint = " (`zypper clean` alone only removes downloaded packages)" if partial else ""
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`zypper {op.raw_action}` leaves repository metadata in /var/cache/zypp in this "
                    f"layer{hint}; end the same RUN with `zypper clean --all`",
                )
                break

    @staticmethod
    def _cleans(command: Command, env: Mapping[str, str]) -> bool:
        op = package_op(command)
        if op is not None and op.manager == "zypper" and op.action == "clean":
            return op.has("-a", "--all", "-m", "--metadata", "-M", "--raw-metadata")
        return removes_any(command, _ZYPPER_CACHE, env)

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult
        from slimline.dockerfile.fixes.packages import append_cleanup, located_op

        run, op = located_op(ctx, finding)
        edit = append_cleanup(ctx, run, op, "clean --all")
        return FixResult.of([edit], "appended `zypper clean --all` to the RUN")


def _is_pip_tool(op: PackageOp) -> bool:
    tool = op.tool.split(" ", 1)[0]
    return op.tool == "uv pip" or bool(re.fullmatch(r"pip[0-9.]*|python[0-9.]*", tool))


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", ".")) or text.endswith((".whl", ".tar.gz", ".zip"))


class PipCacheLeft(Rule):
    """`pip install` without `--no-cache-dir` leaves downloaded wheels in the pip cache in the image.

    Why: pip keeps every wheel it downloads (and every wheel it builds) in ~/.cache/pip, next
    to the installed copy in site-packages: the same bytes twice, the cached copy never used.

    Catches: `pip install` (pip, pip3, `python -m pip`) in a RUN of the final image without
    `--no-cache-dir`. `uv pip install` and `uv sync` only when uv copies instead of
    hard-linking (`UV_LINK_MODE=copy` or `--link-mode copy`): by default uv hard-links the
    installed files to its cache, so a cache in the same layer costs little.

    Leaves alone: `PIP_NO_CACHE_DIR` set to any non-empty value (pip disables the cache for
    every valid value, "0" and "false" included, for compatibility; an empty value is
    ignored), by ENV, ARG, `export` or a command prefix; `pip config set global.no-cache-dir`;
    the cache dir (~/.cache/pip, PIP_CACHE_DIR, `--cache-dir`) in a cache or tmpfs mount;
    `pip cache purge` or `rm -rf ~/.cache/pip` later in the same RUN; installs that download
    nothing (`--no-index`, or `--no-deps` with only local files); build stages that do not
    reach the final image (a virtualenv built there and copied costs no cache). pipx, poetry
    and pipenv are not judged.

    estimated_bytes: none: the cache holds the downloaded wheels, whose size depends on the
    packages.
    """

    id = "SL306"
    name = "pip-cache-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ("DL3042",)
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not any(
            r.ops_of("pip") or any(c.program == "uv" for c in r.commands) for r in ctx.final_runs()
        ):
            return
        envs = EnvCache(ctx)
        configured = False
        runs = {id(r.instruction): r for r in ctx.final_runs()}
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if (
                    ins.keyword in ("COPY", "ADD")
                    and ins.values
                    and ins.values[-1].rstrip("/").endswith(("pip.conf", "pip.ini"))
                ):
                    configured = True
                run = runs.get(id(ins))
                if run is None:
                    continue
                if any(_configures_pip(c) for c in run.commands):
                    configured = True
                if configured:
                    continue
                for command in run.commands:
                    op = package_op(command)
                    if (
                        op is not None
                        and op.manager == "pip"
                        and _is_pip_tool(op)
                        and op.action == "install"
                    ):
                        finding = self._check_op(ctx, envs, run, op)
                    elif command.program == "uv":
                        finding = self._check_uv(ctx, envs, run, command)
                    else:
                        continue
                    if finding is not None:
                        yield finding
                        break

    def _check_op(
        self, ctx: CheckContext, envs: EnvCache, run: RunStep, op: PackageOp
    ) -> Finding | None:
        if op.tool == "uv pip":
            return self._check_uv(ctx, envs, run, op.command)
        if op.has("--no-index") or any(
            o.startswith("--no-ca") and "--no-cache-dir".startswith(o.partition("=")[0])
            for o in op.options
        ):
            return None
        if (
            op.has("--no-deps")
            and op.packages
            and not op.has("-r", "--requirement")
            and all(_looks_like_path(w.text) for w in op.packages)
        ):
            return None
        env = envs.at(run, op.command)
        if env.get("PIP_NO_CACHE_DIR") or script_mentions(run, "PIP_NO_CACHE_DIR=", op.command):
            return None
        targets = ["/~/.cache/pip/http-v2/x"]
        for value in (op.value("--cache-dir"), env.get("PIP_CACHE_DIR")):
            if value:
                targets.append(norm_path(value, env) + "/http-v2/x")
        if env.get("XDG_CACHE_HOME"):
            targets.append(norm_path(env["XDG_CACHE_HOME"], env) + "/pip/http-v2/x")
        if cache_avoided(
            run,
            op.command,
            targets,
            env,
            cache_subcommand("pip", "purge", "remove", "rm"),
        ):
            return None
        return self.at_command(
            ctx,
            op.command,
            f"`{op.tool} install` keeps the downloaded packages in the pip cache (~/.cache/pip) in "
            "this layer; add --no-cache-dir (or set ENV PIP_NO_CACHE_DIR=1)",
        )

    def _check_uv(
        self, ctx: CheckContext, envs: EnvCache, run: RunStep, command: Command
    ) -> Finding | None:
        words = [w.text for w in command.unwrapped()]
        sub = [w for w in words[1:] if not w.startswith("-")]
        if sub[:1] != ["sync"] and sub[:2] not in (
            ["pip", "install"],
            ["pip", "sync"],
            ["tool", "install"],
        ):
            return None
        env = envs.at(run, command)
        link_mode = env.get("UV_LINK_MODE", "")
        for i, w in enumerate(words):
            if w == "--link-mode" and i + 1 < len(words):
                link_mode = words[i + 1]
            elif w.startswith("--link-mode="):
                link_mode = w.partition("=")[2]
        if link_mode.lower() != "copy":
            return None
        if any(w in ("--no-cache", "-n") for w in words) or truthy(env.get("UV_NO_CACHE")):
            return None
        targets = ["/~/.cache/uv/archive-v0/x"]
        if env.get("UV_CACHE_DIR"):
            targets.append(norm_path(env["UV_CACHE_DIR"], env) + "/archive-v0/x")
        for i, w in enumerate(words):
            if w == "--cache-dir" and i + 1 < len(words):
                targets.append(norm_path(words[i + 1], env) + "/archive-v0/x")
        if mounted_any(run, targets, env):
            return None
        for c in commands_after(run, command):
            cw = [w.text for w in c.unwrapped()]
            if cw[:3] in (["uv", "cache", "clean"], ["uv", "cache", "prune"]) or removes_any(
                c, targets, env
            ):
                return None
        name = " ".join(sub[:2]) if sub[:1] != ["sync"] else "sync"
        return self.at_command(
            ctx,
            command,
            f"`uv {name}` with UV_LINK_MODE=copy keeps a second copy of every package in the uv "
            "cache in this layer; add --no-cache (or set UV_NO_CACHE=1), or mount the cache",
        )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        return _pip_fix(ctx, finding)


def _pip_fix(ctx: FixContext, finding: Finding) -> FixResult:
    """``--no-cache-dir`` on every pip install of the RUN (``--no-cache`` for uv)."""
    from slimline.dockerfile.fixes import FixResult, Unfixable
    from slimline.dockerfile.fixes.locate import command_at, finding_offset, run_at
    from slimline.dockerfile.fixes.packages import add_option
    from slimline.dockerfile.fixes.shell_edits import editable_script, insert_after

    run = run_at(ctx, finding_offset(ctx, finding))
    script = editable_script(run)
    command = command_at(run, finding_offset(ctx, finding))
    if command.script is not script:
        raise Unfixable("the command runs inside an `sh -c` string")
    if command.program == "uv":
        words = command.unwrapped()
        texts = [w.text for w in words]
        for name in ("sync", "install"):
            if name in texts:
                word = words[texts.index(name)]
                edit = insert_after(ctx, command, word, "--no-cache")
                return FixResult.of([edit], f"added --no-cache to `uv {name}`")
        raise Unfixable("cannot find the uv subcommand")
    edits: list[Edit] = []
    for op in run.ops_of("pip"):
        if op.action != "install" or not _is_pip_tool(op) or op.command.script is not script:
            continue
        if any(o.startswith("--no-cache") for o in op.options):
            continue
        edits.append(add_option(ctx, op, "--no-cache" if op.tool == "uv pip" else "--no-cache-dir"))
    if not edits:
        raise Unfixable("no pip install of this RUN to change")
    return FixResult.of(edits, "added --no-cache-dir to pip install")


def _configures_pip(command: Command) -> bool:
    """`pip config set global.no-cache-dir ...` or a pip.conf written with no-cache-dir."""
    words = [w.text for w in command.unwrapped()]
    if len(words) >= 3 and re.fullmatch(r"pip[0-9.]*", basename(words[0])) and words[1] == "config":
        return any("no-cache-dir" in w or "no_cache_dir" in w for w in words[2:])
    if any(t.endswith(("pip.conf", "pip.ini")) for _, t in command.redirects):
        text = " ".join(words) + (command.heredoc or "")
        return "no-cache-dir" in text or "no_cache_dir" in text
    return False


_NPM_ACTIONS = frozenset(
    {"install", "ci", "update", "install-test", "install-ci-test", "it", "cit"}
)
_YARN_BERRY_FLAGS = (
    "--immutable",
    "--immutable-cache",
    "--check-cache",
    "--mode",
    "--inline-builds",
)


class NodeCacheLeft(Rule):
    """`npm install`/`npm ci` or classic `yarn install` without cleaning the package cache leaves it in the image.

    Why: npm keeps a compressed copy of every package it fetches in ~/.npm/_cacache, and
    Yarn 1 keeps an unpacked copy in /usr/local/share/.cache/yarn (root) or ~/.cache/yarn,
    next to the installed node_modules. Neither is used at runtime.

    Catches: `npm install`/`ci`/`update` (also `-g`) without a later `npm cache clean --force`
    in the same RUN; Yarn 1 `yarn`/`yarn install`/`yarn add`/`yarn global add` without a
    later `yarn cache clean`.

    Leaves alone: the cache directory (~/.npm, `--cache`, npm_config_cache; the yarn cache
    folder, `--cache-folder`, YARN_CACHE_FOLDER) in a cache or tmpfs mount or removed later in
    the same RUN; Yarn 2+ (signalled by `--immutable`, `yarn set version`, `yarn workspaces
    focus`, corepack), whose project cache may be the install itself under Plug'n'Play; pnpm,
    whose store is hard-linked into node_modules, so a store in the same layer costs little;
    build stages that do not reach the final image.

    estimated_bytes: none: it depends on the dependency tree.
    """

    id = "SL307"
    name = "node-cache-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ("DL3060",)
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        berry: bool | None = None
        for run in ctx.final_runs():
            for op in run.ops:
                finding: Finding | None = None
                if op.manager == "npm" and op.action in _NPM_ACTIONS:
                    finding = self._check_npm(ctx, envs, run, op)
                elif op.manager == "yarn" and _yarn_installs(op):
                    if berry is None:
                        berry = uses_yarn_berry(ctx)
                    if not berry:
                        finding = self._check_yarn(ctx, envs, run, op)
                if finding is not None:
                    yield finding
                    break

    def _check_npm(
        self, ctx: CheckContext, envs: EnvCache, run: RunStep, op: PackageOp
    ) -> Finding | None:
        env = envs.at(run, op.command)
        targets = ["/~/.npm/_cacache/index-v5/x"]
        configured = op.value("--cache") or _env_ci(env, "npm_config_cache")
        if configured:
            targets.append(norm_path(configured, env) + "/_cacache/index-v5/x")
        if cache_avoided(
            run,
            op.command,
            targets,
            env,
            cache_subcommand("npm", "clean", "clear", "rm"),
        ):
            return None
        return self.at_command(
            ctx,
            op.command,
            f"`npm {op.raw_action}` keeps every fetched package in the npm cache (~/.npm) in this "
            "layer; end the same RUN with `npm cache clean --force`, or mount the cache",
        )

    def _check_yarn(
        self, ctx: CheckContext, envs: EnvCache, run: RunStep, op: PackageOp
    ) -> Finding | None:
        env = envs.at(run, op.command)
        targets = [
            "/usr/local/share/.cache/yarn/v6/x",
            "/~/.cache/yarn/v6/x",
            "/~/.yarn-cache/v6/x",
        ]
        for configured in (op.value("--cache-folder"), env.get("YARN_CACHE_FOLDER")):
            if configured:
                targets.append(norm_path(configured, env) + "/v6/x")
        if cache_avoided(
            run,
            op.command,
            targets,
            env,
            cache_subcommand("yarn", "clean"),
        ):
            return None
        label = "yarn" + (f" {op.raw_action}" if op.raw_action else "")
        return self.at_command(
            ctx,
            op.command,
            f"`{label}` keeps every fetched package in the yarn cache in this layer; end the same "
            "RUN with `yarn cache clean`, or mount the cache",
        )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.packages import append_cleanup, located_op

        run, op = located_op(ctx, finding)
        if op.value("--cache") or op.value("--cache-folder"):
            raise Unfixable(f"`{op.tool}` uses its own cache directory (--cache)")
        arguments = "cache clean --force" if op.manager == "npm" else "cache clean"
        edit = append_cleanup(ctx, run, op, arguments)
        return FixResult.of([edit], f"appended `{op.tool} {arguments}` to the RUN")


def _env_ci(env: Mapping[str, str], name: str) -> str | None:
    """npm reads its npm_config_* variables case-insensitively."""
    low = name.lower()
    for key, value in env.items():
        if key.lower() == low and value:
            return value
    return None


def _yarn_installs(op: PackageOp) -> bool:
    """Yarn 1 commands that fetch packages: bare `yarn`, install, add, upgrade, global add."""
    if op.has("--version", "-v", "--help", "-h", *_YARN_BERRY_FLAGS):
        return False
    if op.action in ("", "install", "upgrade"):
        return True
    return op.action == "global" and bool(op.packages) and op.packages[0].text in ("add", "upgrade")


def uses_yarn_berry(ctx: CheckContext, *, corepack: bool = True) -> bool:
    """Whether the final image's Dockerfile shows signs of Yarn 2 or later: `yarn set version`
    to a modern release, `--immutable`, `yarn workspaces focus`, a .yarnrc.yml or .yarn
    directory copied in, and (when ``corepack``) corepack, which usually serves modern Yarn."""
    for run in ctx.final_runs():
        for command in run.commands:
            words = [w.text for w in command.unwrapped()]
            if not words:
                continue
            prog = basename(words[0])
            if prog == "corepack" and corepack:
                return True
            if prog not in ("yarn", "yarnpkg"):
                continue
            if words[1:3] == ["set", "version"]:
                version = words[3] if len(words) > 3 else ""
                if version != "classic" and not version.startswith("1."):
                    return True
            elif words[1:3] == ["workspaces", "focus"] or any(
                w in _YARN_BERRY_FLAGS for w in words
            ):
                return True
    for stage in ctx.target_chain:
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD") and any(
                ".yarnrc.yml" in v or v.rstrip("/").endswith(".yarn") for v in ins.values
            ):
                return True
    return False


_COMPOSER_ACTIONS = frozenset(
    {"install", "update", "require", "create-project", "global", "upgrade"}
)


class ComposerCacheLeft(Rule):
    """`composer install` without `--no-cache` or `composer clear-cache` leaves Composer's download cache in the image.

    Why: Composer keeps a zip of every package it downloads in its cache directory
    (~/.composer/cache, ~/.cache/composer, or $COMPOSER_HOME/cache) next to the unpacked
    vendor/ directory; nothing at runtime reads it.

    Catches: `composer install`/`update`/`require`/`create-project` (and `global require`)
    in the final image without `--no-cache`, with no `composer clear-cache` (`clearcache`,
    `cc`) or removal of the cache directory later in the same RUN.

    Leaves alone: COMPOSER_CACHE_DIR=/dev/null (what `--no-cache` sets); the cache directory
    in a cache or tmpfs mount; a COMPOSER_HOME or COMPOSER_CACHE_DIR set in the RUN (such as a
    `mktemp -d` directory) and removed by name after the install; build stages (the usual `composer install` in a stage whose
    vendor/ is copied). `php composer.phar install` is not recognised as Composer.

    estimated_bytes: none: it depends on the dependencies.
    """

    id = "SL308"
    name = "composer-cache-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ()
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        root = chain_root_image(ctx)
        for run in ctx.final_runs():
            for op in run.ops_of("composer"):
                if op.action not in _COMPOSER_ACTIONS or op.has(
                    "--no-cache", "--help", "-h", "--version", "-V"
                ):
                    continue
                if op.action == "global" and (
                    not op.packages or op.packages[0].text not in ("require", "update", "install")
                ):
                    continue
                env = envs.at(run, op.command)
                cache_dir = env.get("COMPOSER_CACHE_DIR", "")
                if cache_dir in ("/dev/null", "nul") or script_mentions(
                    run, "COMPOSER_CACHE_DIR=", op.command
                ):
                    continue
                targets = ["/~/.composer/cache/files/x", "/~/.cache/composer/files/x"]
                if cache_dir:
                    targets.append(norm_path(cache_dir, env) + "/files/x")
                if env.get("COMPOSER_HOME"):
                    targets.append(norm_path(env["COMPOSER_HOME"], env) + "/cache/files/x")
                if root == "composer":
                    targets.append("/tmp/cache/files/x")
                if (
                    mounted_any(run, targets, env)
                    or self._cleaned(run, op, targets, env)
                    or self._home_removed(run, op, env)
                ):
                    continue
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`{op_label(op)}` keeps every downloaded package in Composer's cache in "
                    "this layer; add --no-cache, or end the same RUN with `composer clear-cache`",
                )
                break

    @staticmethod
    def _cleaned(run: RunStep, op: PackageOp, targets: list[str], env: Mapping[str, str]) -> bool:
        return cleared_later(
            run,
            op.command,
            targets,
            env,
            lambda o: (
                o.manager == "composer" and o.raw_action in ("clear-cache", "clearcache", "cc")
            ),
        )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.packages import append_cleanup, located_op

        run, op = located_op(ctx, finding)
        if op.has("-d", "--working-dir"):
            raise Unfixable("composer runs in another directory (--working-dir)")
        edit = append_cleanup(ctx, run, op, "clear-cache")
        return FixResult.of([edit], "appended `composer clear-cache` to the RUN")

    @staticmethod
    def _home_removed(run: RunStep, op: PackageOp, env: Mapping[str, str]) -> bool:
        """docker-library's drupal: ``export COMPOSER_HOME="$(mktemp -d)"``, install, then
        ``rm -rf "$COMPOSER_HOME"``: a path known only at build time, removed by name."""
        names = [n for n in ("COMPOSER_HOME", "COMPOSER_CACHE_DIR") if env.get(n)]
        if not names:
            return False
        spelled = {f"${n}" for n in names} | {f"${{{n}}}" for n in names}
        spelled |= {f"{v}/cache" for v in spelled if "COMPOSER_HOME" in v}
        for command in commands_after(run, op.command):
            words = command.unwrapped()
            if not words or basename(words[0].text) != "rm":
                continue
            for w in words[1:]:
                text = w.text.removesuffix("/*").rstrip("/")
                if text in spelled:
                    return True
        return False


_CONDA_ACTIONS = frozenset({"install", "create", "update", "upgrade", "env"})
_CONDA_CLEANS = ("-a", "--all", "-t", "--tarballs", "-f", "--force-pkgs-dirs", "-p", "--packages")


class CondaCacheLeft(Rule):
    """`conda`/`mamba`/`micromamba` installs without `clean --all` in the same RUN leave package tarballs in the image.

    Why: conda keeps every downloaded package archive (and its index cache) in the pkgs
    directory of the installation. The installed environments hard-link the extracted files,
    but the archives themselves are pure waste in the image.

    Catches: install, create, update and `env create`/`env update` of conda, mamba and
    micromamba in the final image with no later `clean` that removes tarballs (`-a`/`--all`,
    `-t`/`--tarballs`, `-f`/`--force-pkgs-dirs`, `-p`/`--packages`) and no removal of the
    pkgs directory in the same RUN.

    Leaves alone: the pkgs directory (/opt/conda/pkgs, ~/.conda/pkgs, CONDA_PKGS_DIRS,
    $MAMBA_ROOT_PREFIX/pkgs, any mount target ending in /pkgs) in a cache or tmpfs mount;
    build stages (an environment built there and copied out, e.g. with conda-pack).

    estimated_bytes: none: it depends on the packages.
    """

    id = "SL309"
    name = "conda-cache-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ()
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        for run in ctx.final_runs():
            for op in run.ops_of("conda"):
                if op.action not in _CONDA_ACTIONS or op.has("--help", "-h", "--dry-run", "-d"):
                    continue
                if op.action == "env" and (
                    not op.packages or op.packages[0].text not in ("create", "update")
                ):
                    continue
                env = envs.at(run, op.command)
                targets = [
                    "/opt/conda/pkgs/x.conda",
                    "/~/.conda/pkgs/x.conda",
                    "/~/micromamba/pkgs/x.conda",
                ]
                for name in ("CONDA_DIR", "MAMBA_ROOT_PREFIX", "CONDA_PREFIX"):
                    if env.get(name):
                        targets.append(norm_path(env[name], env) + "/pkgs/x.conda")
                for part in env.get("CONDA_PKGS_DIRS", "").split(","):
                    if part.strip():
                        targets.append(norm_path(part.strip(), env) + "/x.conda")
                if mounted_any(run, targets, env) or any(
                    m.type in ("cache", "tmpfs")
                    and m.target
                    and m.target.rstrip("/").endswith("/pkgs")
                    for m in run.mounts
                ):
                    continue
                if self._cleaned(run, op, targets, env):
                    continue
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`{op_label(op)}` leaves the downloaded package archives in the pkgs "
                    f"directory in this layer; end the same RUN with `{op.tool} clean --all --yes`",
                )
                break

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.packages import append_cleanup, located_op

        run, op = located_op(ctx, finding)
        if op.has("-p", "--prefix") and op.action != "create":
            raise Unfixable(f"`{op.tool}` installs into another prefix")
        edit = append_cleanup(ctx, run, op, "clean --all --yes")
        return FixResult.of([edit], f"appended `{op.tool} clean --all --yes` to the RUN")

    @staticmethod
    def _cleaned(run: RunStep, op: PackageOp, targets: list[str], env: Mapping[str, str]) -> bool:
        if cleared_later(
            run,
            op.command,
            targets,
            env,
            lambda o: _is_action(o, "conda", "clean") and o.has(*_CONDA_CLEANS),
        ):
            return True
        return any(
            p.endswith(("/pkgs", "/pkgs/*"))
            for c in commands_after(run, op.command)
            for p in removed_paths(c, env)
        )


def _go_release(ctx: CheckContext) -> tuple[int, ...] | None:
    """The Go release of a ``golang:1.22...`` base image, None for other bases."""
    root = ctx.target_chain[0]
    if chain_root_image(ctx) != "golang":
        return None
    tag = root.base_resolved.split("@", 1)[0].rpartition(":")[2]
    match = re.match(r"(\d+)\.(\d+)", tag)
    return (int(match.group(1)), int(match.group(2))) if match else None


_GO_BUILDS = frozenset({"build", "install", "test", "run", "vet"})
_GO_MODULES = frozenset({"mod-download", "mod-tidy", "mod-vendor", "mod-graph", "mod-verify"})


class GoCacheLeft(Rule):
    """`go build`/`go install`/`go mod download` in the final image leave Go's build and module caches in it.

    Why: the Go build cache (~/.cache/go-build, GOCACHE) and the module cache (/go/pkg/mod in
    the official golang image, GOMODCACHE) routinely reach hundreds of megabytes and serve
    only later builds. The idiomatic fix is a multi-stage build that copies the binary into a
    small final image; inside a single stage, cache mounts or `go clean -cache -modcache`
    in the same RUN keep them out.

    Catches: build, install, test, run and vet (build cache and module cache), and
    `go mod download`/`tidy`/`vendor` (module cache) in a RUN of the final image, when a
    cache they fill is neither in a cache/tmpfs mount nor removed later in the same RUN
    (`go clean -cache`, `go clean -modcache`, `rm -rf`). The module cache is not counted when
    the build uses `-mod=vendor` or GO111MODULE=off. One finding per RUN, naming the caches
    left.

    Leaves alone: build stages that do not reach the final image (the usual multi-stage
    build); GOCACHE=off; `go get`, which in the GOPATH-era Dockerfiles that still use it
    fetches sources the build needs rather than a cache.

    estimated_bytes: none: it depends on the program and its dependencies.
    """

    id = "SL310"
    name = "go-cache-left"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ()
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        envs = EnvCache(ctx)
        for run in ctx.final_runs():
            for op in run.ops_of("go"):
                uses_build = op.action in _GO_BUILDS
                uses_mod = uses_build or op.action in _GO_MODULES
                if not uses_mod or op.has("-h", "-help", "--help"):
                    continue
                env = envs.at(run, op.command)
                vendored = op.value("-mod") == "vendor" or "-mod=vendor" in env.get("GOFLAGS", "")
                gopath_mode = env.get("GO111MODULE", "").strip().lower() == "off"
                if uses_build and (vendored or gopath_mode):
                    uses_mod = False
                left = []
                if uses_build and env.get("GOCACHE", "").lower() != "off":
                    build_targets = ["/~/.cache/go-build/00/x"]
                    if env.get("GOCACHE"):
                        build_targets.append(norm_path(env["GOCACHE"], env) + "/00/x")
                    if env.get("XDG_CACHE_HOME"):
                        build_targets.append(
                            norm_path(env["XDG_CACHE_HOME"], env) + "/go-build/00/x"
                        )
                    if not self._kept_out(run, op, build_targets, env, "-cache"):
                        left.append("the build cache (~/.cache/go-build)")
                if uses_mod:
                    mod_targets = ["/go/pkg/mod/cache/x", "/~/go/pkg/mod/cache/x"]
                    if env.get("GOMODCACHE"):
                        mod_targets.append(norm_path(env["GOMODCACHE"], env) + "/cache/x")
                    if env.get("GOPATH"):
                        first = env["GOPATH"].split(":", 1)[0]
                        mod_targets.append(norm_path(first, env) + "/pkg/mod/cache/x")
                    if not self._kept_out(run, op, mod_targets, env, "-modcache"):
                        left.append("the module cache (/go/pkg/mod)")
                if not left:
                    continue
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`go {op.raw_action.replace('mod-', 'mod ')}` leaves {' and '.join(left)} in this "
                    "layer; build in a separate stage and copy the binary, or use cache mounts "
                    "(or `go clean -cache -modcache` in the same RUN)",
                )
                break

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """``go clean -cache -modcache`` at the end of the RUN that builds, when no later step
        (another RUN, or the container's command) uses Go and its caches."""
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.packages import append_cleanup, located_op

        run, op = located_op(ctx, finding)
        if op.action.startswith("mod-"):
            raise Unfixable(
                "a `go mod download` layer exists to be reused by later builds; build in a "
                "separate stage instead"
            )
        for later in _later_runs_in_stage(ctx, run):
            if any(c.program == "go" for c in later.commands):
                raise Unfixable(f"the RUN at line {later.instruction.line} uses Go again")
        for stage in ctx.check.target_chain:
            for ins in stage.instructions:
                if ins.keyword in ("CMD", "ENTRYPOINT") and any(
                    basename(w) == "go" for v in ins.values for w in v.split()[:1]
                ):
                    raise Unfixable("the container's command runs `go`, which needs its caches")
        version = _go_release(ctx.check)
        if version is not None and version < (1, 11):
            raise Unfixable("Go before 1.11 has no `go clean -cache -modcache`")
        edit = append_cleanup(ctx, run, op, "clean -cache -modcache")
        return FixResult.of([edit], "appended `go clean -cache -modcache` to the RUN")

    @staticmethod
    def _kept_out(
        run: RunStep, op: PackageOp, targets: list[str], env: Mapping[str, str], clean_flag: str
    ) -> bool:
        if mounted_any(run, targets, env):
            return True
        for c in commands_after(run, op.command):
            later = package_op(c)
            if (
                later is not None
                and later.manager == "go"
                and later.action == "clean"
                and clean_flag in later.options
            ):
                return True
            if removes_any(c, targets, env):
                return True
        return False


__all__ = [
    "HOME",
    "EnvCache",
    "action_word_finding",
    "apk_cache_removals",
    "chain_root_image",
    "commands_after",
    "commands_before",
    "covers",
    "mounted_any",
    "norm_path",
    "op_label",
    "reads_apk_index",
    "reads_apt_lists",
    "refreshes_apk_index",
    "removed_paths",
    "removes_any",
    "script_mentions",
    "truthy",
    "uses_yarn_berry",
]
