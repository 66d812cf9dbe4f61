"""build-tools: compilers, headers, VCS and build systems only in build stages."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from slimline.buildtools import tool_kind
from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp, package_name
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.shell import Command, Word, basename
from slimline.findings import Finding, Practice, Severity

# Managers that install distribution packages (the ones whose packages are named below).
OS_MANAGERS = frozenset({"apt", "apk", "dnf", "zypper"})


# The command each tool package puts on PATH, when it differs from the package name.
_PROGRAM_OF = {
    "git-core": "git", "git-all": "git", "subversion": "svn", "mercurial": "hg",
    "breezy": "brz", "golang": "go", "golang-go": "go", "maven": "mvn", "build-essential": "make",
    "build-base": "make", "ninja-build": "ninja", "rust": "cargo", "rustup": "cargo",
}  # fmt: skip
_PYTHON_RE = re.compile(r"python[23]?(?:\.\d+)?")
_CXX = frozenset({"g++", "gcc-c++", "build-essential", "build-base", "alpine-sdk", "clang"})
_JS_MANAGERS = frozenset({"npm", "yarn", "pnpm"})
# Programs whose CMD makes an interactive environment: shells and language REPLs.
_INTERACTIVE = frozenset({
    "sh", "bash", "zsh", "ash", "dash", "fish", "irb", "pry", "python", "python3", "node",
    "ghci", "iex", "erl", "jshell", "julia", "R", "php", "lua", "perl", "swift", "scala",
})  # fmt: skip

# Official images that already carry gcc (or git): installing those again adds nothing, so
# no byte estimate is given on them. Their -slim and -alpine variants carry neither.
_TOOLCHAIN_BASE_RE = re.compile(
    r"(?:.*/)?(?:buildpack-deps|python|node|ruby|golang|rust|gcc|perl|haskell|erlang|elixir)"
    r"(?::(?!.*(?:slim|alpine|curl)).*)?"
)
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_ASSIGNMENT = re.compile(
    r"(?:^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([^\s;&|)]*))"
)
_DEV_STAGE_TOKENS = frozenset({
    "dev", "devel", "develop", "development", "devcontainer", "ci", "toolchain", "sdk", "debug",
})  # fmt: skip
_DEV_FILE_TOKENS = frozenset({
    "dev", "devel", "develop", "development", "devcontainer", "build", "builder", "buildenv",
    "ci", "toolchain", "sdk",
})  # fmt: skip


def is_install(op: PackageOp) -> bool:
    if op.manager not in OS_MANAGERS:
        return False
    if op.action == "install":
        return True
    if op.manager == "apt" and op.action == "build-dep":
        return True
    return op.manager == "dnf" and op.action in ("groupinstall", "group")


@dataclass(slots=True)
class Package:
    word: Word  # where it is written (a variable's word for names that come from it)
    name: str
    raw: str  # the word as written, to match ``$buildDeps`` against a later ``$buildDeps``


def run_assignments(run: RunStep) -> dict[str, str]:
    """``NAME=value`` statements in a RUN's scripts (the shell model keeps only the ones that
    prefix a command), for package lists held in shell variables."""
    out: dict[str, str] = {}
    for script in run.scripts:
        for m in _ASSIGNMENT.finditer(script.text):
            value = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or ""
            out[m.group(1)] = value.replace("\\\n", " ")
    return out


class Expander:
    """Resolves package words such as ``$buildDeps`` from ENV/ARG and the RUN's own shell
    variables, computed only when a RUN has such a word."""

    def __init__(self, ctx: CheckContext, run: RunStep):
        self.ctx = ctx
        self.run = run
        self._vars: dict[str, str] | None = None

    def variables(self) -> dict[str, str]:
        if self._vars is None:
            try:
                env = dict(self.ctx.env_before(self.run.instruction))
            except (KeyError, ValueError):
                env = {}
            env.update(run_assignments(self.run))
            self._vars = env
        return self._vars

    def packages(self, op: PackageOp, words: Iterable[Word] | None = None) -> list[Package]:
        out: list[Package] = []
        for word in op.packages if words is None else words:
            if not word.dynamic:
                if word.text and not word.text.startswith("-"):
                    out.append(Package(word, package_name(op.manager, word.text), word.raw))
                continue
            m = _VARIABLE.fullmatch(word.text)
            if m is None:
                continue
            value = self.variables().get(m.group(1))
            if value is None:
                continue
            for part in value.split():
                if part.startswith("-") or "$" in part:
                    continue
                out.append(Package(word, package_name(op.manager, part), word.raw))
        return out


@dataclass(slots=True)
class Removals:
    """What one RUN removes again: package names, virtual names, variable words."""

    names: set[str] = field(default_factory=set)
    raws: set[str] = field(default_factory=set)
    autoremove: bool = False  # apt-get autoremove, or purge/remove --auto-remove
    all_auto: bool = False  # apt-mark auto '.*': autoremove then takes everything
    marked_auto: set[str] = field(default_factory=set)
    undo: bool = False  # dnf/yum history undo/rollback
    commands: list[Command] = field(default_factory=list)

    def removes(self, manager: str, package: Package, virtual: str | None = None) -> bool:
        if package.name in self.names or package.raw in self.raws:
            return True
        if virtual is not None and virtual in self.names:
            return True
        if manager == "apt" and self.autoremove:
            return self.all_auto or package.name in self.marked_auto
        return manager == "dnf" and self.undo


def removals(run: RunStep, expander: Expander) -> Removals:
    out = Removals()
    for op in run.ops:
        if op.manager not in OS_MANAGERS:
            continue
        if op.action in ("remove", "autoremove"):
            out.commands.append(op.command)
            for p in expander.packages(op):
                out.names.add(p.name)
                out.raws.add(p.raw)
            if op.manager == "apt" and (op.action == "autoremove" or op.has("--auto-remove")):
                out.autoremove = True
        elif (
            op.manager == "dnf"
            and op.action == "history"
            and op.packages
            and op.packages[0].text in ("undo", "rollback")
        ):
            out.undo = True
            out.commands.append(op.command)
    for command in run.commands:
        prog = command.program
        args = command.unwrapped()[1:]
        if prog == "apt-mark" and args and args[0].text == "auto":
            if basename(command.words[0].text) == "xargs":
                # `apt-mark showmanual | xargs apt-mark auto`: the names come from stdin.
                out.all_auto = True
            for w in args[1:]:
                if w.text.startswith("-"):
                    continue
                if w.dynamic or any(c in w.text for c in "*.^$?["):
                    out.all_auto = True
                else:
                    out.marked_auto.add(package_name("apt", w.text))
        elif prog == "dpkg" and any(w.text in ("-r", "-P", "--remove", "--purge") for w in args):
            out.commands.append(command)
            for w in args:
                if not w.text.startswith("-"):
                    out.names.add(package_name("apt", w.text))
                    out.raws.add(w.raw)
    return out


def virtual_name(op: PackageOp) -> str | None:
    if op.manager != "apk":
        return None
    return op.value("--virtual") or op.value("-t")


@dataclass(slots=True)
class ToolInstall:
    run: RunStep
    op: PackageOp
    packages: list[tuple[Package, str]]  # (package, kind) still installed after this RUN
    later_removal: RunStep | None  # a later RUN that removes some of them
    later_names: list[str]  # the ones it removes
    bare_autoremove: bool  # the RUN autoremoves without naming or marking these


def tool_installs(ctx: CheckContext, kinds: frozenset[str]) -> Iterator[ToolInstall]:
    """OS package installs of tools of the given kinds in the final image's RUNs that the same
    RUN does not remove again."""
    runs = ctx.final_runs()
    later_cache: dict[int, Removals] = {}
    for i, run in enumerate(runs):
        installs = [op for op in run.ops if is_install(op)]
        if not installs:
            continue
        expander = Expander(ctx, run)
        removed: Removals | None = None
        for op in installs:
            found = [(p, k) for p in _op_packages(op, expander) if (k := _kind(op, p)) in kinds]
            if not found:
                continue
            if removed is None:
                removed = removals(run, expander)
            virtual = virtual_name(op)
            kept = [(p, k) for p, k in found if not removed.removes(op.manager, p, virtual)]
            if not kept:
                continue
            later = None
            later_names: list[str] = []
            for other in runs[i + 1 :]:
                if not any(o.manager == op.manager for o in other.ops):
                    continue
                rem = later_cache.get(other.index)
                if rem is None:
                    rem = later_cache[other.index] = removals(other, Expander(ctx, other))
                later_names = [p.name for p, _ in kept if rem.removes(op.manager, p, virtual)]
                if later_names:
                    later = other
                    break
            bare = op.manager == "apt" and removed.autoremove
            yield ToolInstall(run, op, kept, later, later_names, bare)


def _op_packages(op: PackageOp, expander: Expander) -> list[Package]:
    if op.manager == "dnf" and op.action in ("groupinstall", "group"):
        words = op.packages[1:] if op.action == "group" else op.packages
        if op.action == "group" and (not op.packages or op.packages[0].text != "install"):
            return []
        text = " ".join(w.text for w in words).lower()
        if words and ("development" in text or "build" in text):
            return [Package(words[0], "@development-tools", words[0].raw)]
        return []
    if op.manager == "apt" and op.action == "build-dep":
        return [Package(w, "build-dep " + w.text, w.raw) for w in op.packages[:1]]
    return expander.packages(op)


def _kind(op: PackageOp, package: Package) -> str | None:
    name = package.name
    if name.startswith("build-dep ") or name == "@development-tools":
        return "toolchain"
    if op.manager == "dnf" and name.startswith("@"):
        return "toolchain" if "devel" in name or "build" in name else None
    return tool_kind(name)


def is_toolchain_image(ctx: CheckContext) -> bool:
    """The final image looks like a development, CI, toolchain or language base image, where
    build tools are the point: a devcontainer, a file or final stage named for development or
    CI (Dockerfile.dev, ci.Dockerfile, ``AS dev``...), or a final image that copies nothing
    from the build context (helper scripts into a bin directory aside) and whose CMD and
    ENTRYPOINT, if any, only start a shell or a language REPL."""
    parts = ctx.path.replace("\\", "/").lower().split("/")
    if ".devcontainer" in parts[:-1]:
        return True
    if set(re.split(r"[._\-]", parts[-1])) & _DEV_FILE_TOKENS:
        return True
    if ctx.target.name and set(re.split(r"[._\-]", ctx.target.name)) & _DEV_STAGE_TOKENS:
        return True
    if "devcontainers" in ctx.target_chain[0].base_resolved.lower():
        return True
    for stage in ctx.target_chain:
        for ins in stage.instructions:
            if ins.keyword in ("CMD", "ENTRYPOINT") and not _interactive(ins):
                return False
            if ins.keyword in ("COPY", "ADD") and _copies_context(ins):
                return False
    return True


def _interactive(ins: Instruction) -> bool:
    """``CMD ["bash"]``, ``CMD ["irb"]``: an interactive environment, not an application."""
    words = list(ins.values) if ins.json else ins.args.split()
    return (
        bool(words)
        and basename(words[0]) in _INTERACTIVE
        and all(w.startswith("-") for w in words[1:])
    )


def _copies_context(ins: Instruction) -> bool:
    """A COPY/ADD of files from the build context, other than helper scripts into a bin
    directory (``COPY docker-entrypoint.sh /usr/local/bin/``)."""
    if ins.flag("from") is not None:
        return False
    sources = [s for s in ins.values[:-1] if not s.startswith("<<") and "://" not in s]
    if not sources or not ins.values:
        return False
    dest = ins.values[-1].rstrip("/")
    return basename(dest) != "bin" and posixpath.dirname(dest).rstrip("/") not in (
        "/usr/local/bin",
        "/usr/bin",
        "/bin",
    )


def entrypoint_programs(ctx: CheckContext) -> set[str]:
    """Programs named by the final image's CMD and ENTRYPOINT (tools the image exists to run)."""
    out: set[str] = set()
    for stage in ctx.target_chain:
        for ins in stage.instructions:
            if ins.keyword in ("CMD", "ENTRYPOINT"):
                words = list(ins.values) if ins.json else ins.args.split()
                out.update(basename(w) for w in words)
    return out


def base_has_toolchain(ctx: CheckContext) -> bool | None:
    """True if the final image's base already carries gcc and git; None if unknown."""
    root = ctx.target_chain[0]
    if not root.resolved:
        return None
    return _TOOLCHAIN_BASE_RE.fullmatch(root.base_resolved.lower()) is not None


def uses_js_packages(ctx: CheckContext) -> bool:
    if re.match(r"(?:.*/)?node(?::|$)", ctx.target_chain[0].base_resolved.lower()):
        return True
    return any(op.manager in _JS_MANAGERS for run in ctx.final_runs() for op in run.ops)


def estimate_debian_bytes(names: Iterable[str]) -> int | None:
    """Installed bytes of these Debian packages and the dependencies they pull onto
    debian:bookworm-slim, shared dependencies counted once; None if none is known."""
    own = 0
    shared: set[int] = set()
    known = False
    for name in names:
        entry = _DEB_CLOSURES.get(_DEB_ALIASES.get(name, name))
        if entry is None:
            m = re.fullmatch(r"(gcc|g\+\+|cpp|clang|llvm|gfortran)-\d+", name)
            entry = _DEB_CLOSURES.get(m.group(1)) if m else None
        if entry is None:
            continue
        known = True
        own += entry[0]
        shared.update(entry[1])
    if not known:
        return None
    return 1000 * (own + sum(_DEB_SHARED_KB[i] for i in shared))


def _names_text(names: list[str], limit: int = 6) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:limit])
    return shown + (f" and {len(unique) - limit} more" if len(unique) > limit else "")


def _later_text(hit: ToolInstall) -> str:
    if hit.later_removal is not None:
        return (
            f"; removing {_names_text(hit.later_names, 3)} in the later RUN at line"
            f" {hit.later_removal.instruction.line} does not shrink the image, the files stay"
            " in this layer"
        )
    if hit.bare_autoremove:
        return "; `apt-get autoremove` keeps packages that were installed by name"
    return ""


def _removal_hint(op: PackageOp, names: list[str]) -> str:
    listed = " ".join(dict.fromkeys(n for n in names if " " not in n and not n.startswith("@")))
    if op.manager == "apt":
        return f"`apt-get purge -y --auto-remove {listed}`"
    if op.manager == "apk":
        return "`apk add --virtual .build-deps ...`, then `apk del .build-deps`"
    if op.manager == "zypper":
        return f"`zypper remove -y {listed}`"
    return f"`{op.tool} remove -y {listed}`"


class BuildToolsInFinalImage(Rule):
    """Compilers, build systems or development headers are installed in the final image.

    Why: gcc, g++, make, cmake, autotools, language toolchains (golang, rustc/cargo, a JDK,
    maven, gradle) and ``-dev``/``-devel`` header packages are needed to *build* software,
    not to run it. On debian:bookworm-slim, ``gcc`` alone adds about 180 MB and
    ``build-essential`` about 320 MB, and every compiler in an image is a tool an attacker
    can use. Compile in a build stage and copy only the results (a virtualenv, wheels,
    ``node_modules``, a binary) into a final stage that never installs them, or install,
    use and remove them within one RUN.

    Catches: ``apt-get install``/``build-dep``, ``apk add``, ``dnf``/``yum``/``microdnf``
    install (and ``groupinstall "Development Tools"``) and ``zypper install`` of such
    packages in a stage whose layers reach the final image; one finding per install command,
    at its first offending package, listing them all (package lists held in ENV/ARG or in a
    shell variable of the same RUN are expanded). ``python3`` is named too when it comes
    with ``make`` and ``g++`` in an image that installs npm packages: that is the node-gyp
    toolchain. Removing the tools in a *later* RUN does not help (the files stay in the
    earlier layer) and the message says so; so does a bare ``apt-get autoremove``, which
    leaves packages that were installed by name.

    Leaves alone: build stages that the final image does not inherit from; tools removed
    again in the same RUN (``apk add --virtual .build-deps`` ... ``apk del .build-deps``,
    ``apt-get purge`` by name or by variable, the docker-library ``apt-mark auto``
    + ``apt-get purge --auto-remove`` idiom, ``dpkg -P``, ``dnf history undo``); a tool
    that the image's CMD or ENTRYPOINT runs; and development, CI, toolchain and language
    base images: Dockerfiles in ``.devcontainer/`` or named for development, CI or building
    (``Dockerfile.dev``, ``ci.Dockerfile``, ``Dockerfile.build``...), a final stage named
    ``dev``/``ci``/``debug``..., a devcontainers base, and final images that copy nothing
    from the build context but helper scripts into a bin directory and whose CMD and
    ENTRYPOINT, if any, only start a shell or a REPL (``buildpack-deps``, the ``golang`` and
    ``ruby`` images themselves, CI runners). VCS clients are SL502's.

    estimated_bytes: for apt, the installed size of the named packages plus the
    dependencies they pull onto debian:bookworm-slim with ``--no-install-recommends``,
    shared dependencies counted once, from a table measured with ``apt-get install
    --simulate`` against the Debian bookworm index (see ``_DEB_CLOSURES``); packages not in
    the table add nothing. Unknown (None) for other managers, and on bases that already
    carry a compiler (full ``python``, ``node``, ``ruby``, ``golang``, ``buildpack-deps``...).
    """

    id = "SL501"
    name = "build-tools-in-final-image"
    practice = Practice.BUILD_TOOLS
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        kinds = frozenset({"toolchain", "headers"})
        if not any(is_install(op) for run in ctx.final_runs() for op in run.ops):
            return
        if is_toolchain_image(ctx):
            return
        programs = entrypoint_programs(ctx)
        js: bool | None = None
        for hit in tool_installs(ctx, kinds):
            packages = [
                (p, k) for p, k in hit.packages if _PROGRAM_OF.get(p.name, p.name) not in programs
            ]
            if not packages:
                continue
            names = [p.name for p, _ in packages]
            node_gyp = False
            if "make" in names and any(n in _CXX for n in names):
                js = uses_js_packages(ctx) if js is None else js
                node_gyp = js
            expander = Expander(ctx, hit.run)
            if node_gyp:
                pythons = [p for p in expander.packages(hit.op) if _PYTHON_RE.fullmatch(p.name)]
                packages += [(p, "toolchain") for p in pythons if p.name not in names]
                names = [p.name for p, _ in packages]
            packages.sort(key=lambda pk: pk[0].word.start)
            names = [p.name for p, _ in packages]
            first = packages[0][0]
            yield self.at_command(
                ctx,
                hit.op.command,
                self._message(hit, names, [k for _, k in packages], node_gyp),
                word=first.word,
                estimated_bytes=self._estimate(ctx, hit.op, names),
            )

    @staticmethod
    def _message(hit: ToolInstall, names: list[str], kinds: list[str], node_gyp: bool) -> str:
        tools = [n for n, k in zip(names, kinds, strict=True) if k != "headers"]
        headers = [n for n, k in zip(names, kinds, strict=True) if k == "headers"]
        listed = _names_text(tools)
        if headers:
            listed += (" and " if tools else "") + "headers " + _names_text(headers)
        text = (
            f"build tools in the final image: {listed}; build in a separate stage and copy only"
            f" the results, or remove them in this same RUN ({_removal_hint(hit.op, names)})"
        )
        if node_gyp:
            text += "; python3, make and g++ are the node-gyp toolchain for native npm modules"
        text += _later_text(hit)
        return text

    @staticmethod
    def _estimate(ctx: CheckContext, op: PackageOp, names: list[str]) -> int | None:
        if op.manager != "apt" or base_has_toolchain(ctx) is not False:
            return None
        return estimate_debian_bytes(names)


class VcsInFinalImage(Rule):
    """A version-control client (git, subversion, mercurial...) is installed in the final image.

    Why: git and its dependencies (perl, curl libraries) add about 110 MB to
    debian:bookworm-slim, and they are usually needed only to fetch sources during the
    build. Clone in a build stage (or use ``ADD <git URL>``, ``RUN --mount=type=bind``) and
    copy the checkout, or remove the client in the same RUN.

    Catches: an OS package install of git, git-lfs, subversion, mercurial, bzr/breezy, cvs
    or fossil in a stage whose layers reach the final image, not removed in the same RUN.
    A warning when the Dockerfile itself uses the client during the build (``git clone``,
    ``pip install git+https://...``): it is demonstrably a build tool; otherwise info, since
    some applications run git at runtime.

    Leaves alone: build stages; clients removed in the same RUN; images whose CMD or
    ENTRYPOINT runs the client (a git image); development, CI and toolchain images, as
    described for SL501.

    estimated_bytes: as for SL501: for apt, the measured installed size of the client and the
    dependencies it pulls onto debian:bookworm-slim (git: about 109 MB); None otherwise.
    """

    id = "SL502"
    name = "vcs-in-final-image"
    practice = Practice.BUILD_TOOLS
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not any(is_install(op) for run in ctx.final_runs() for op in run.ops):
            return
        if is_toolchain_image(ctx):
            return
        programs = entrypoint_programs(ctx)
        used: bool | None = None
        for hit in tool_installs(ctx, frozenset({"vcs"})):
            packages = [
                p for p, _ in hit.packages if _PROGRAM_OF.get(p.name, p.name) not in programs
            ]
            if not packages:
                continue
            if used is None:
                used = _vcs_used_in_build(ctx)
            packages.sort(key=lambda p: p.word.start)
            names = [p.name for p in packages]
            first = packages[0]
            hint = _removal_hint(hit.op, names)
            if used:
                text = (
                    f"{_names_text(names)} in the final image is only used to fetch sources"
                    " during the build: clone in a build stage and copy the result, or remove it"
                    f" in this same RUN ({hint})"
                )
                severity = Severity.WARNING
            else:
                text = (
                    f"{_names_text(names)} in the final image: unless the application runs it,"
                    f" fetch sources in a build stage, or remove it in this same RUN ({hint})"
                )
                severity = Severity.INFO
            text += _later_text(hit)
            estimate = None
            if hit.op.manager == "apt" and base_has_toolchain(ctx) is False:
                estimate = estimate_debian_bytes(names)
            yield self.at_command(
                ctx,
                hit.op.command,
                text,
                word=first.word,
                estimated_bytes=estimate,
                severity=severity,
            )


def _vcs_used_in_build(ctx: CheckContext) -> bool:
    for run in ctx.final_runs():
        for command in run.commands:
            if command.program in ("git", "svn", "hg", "bzr", "brz", "cvs", "fossil"):
                return True
        for op in run.ops:
            if op.manager == "pip" and any(
                re.match(r"(?:[\w.-]+\s*@\s*)?(?:git|hg|svn|bzr)\+", w.text) for w in op.packages
            ):
                return True
    return False


# Aliases of measured names (transitional or equivalent packages).
_DEB_ALIASES = {"c++": "g++", "pkgconf-bin": "pkgconf", "golang-bin": "golang"}

# Installed sizes of Debian bookworm packages, measured with `apt-get install --simulate
# --no-install-recommends NAME` against the bookworm main index of 2025-05-20 and a dpkg
# status holding what debian:bookworm-slim has (the Priority: required packages and apt,
# with their dependencies), summing the Installed-Size of every package apt would add.
# Dependencies shared by several of the packages below are grouped: _DEB_SHARED_KB holds
# each group's size in kB, and _DEB_CLOSURES maps a package to (kB only it pulls in, the
# shared groups it pulls in), so that the estimate for several packages counts each shared
# dependency once. Groups under 1 MB are folded into each package's own figure.
# fmt: off
_DEB_SHARED_KB = (
    464295, 274621, 197354, 147121, 141553, 110017, 81869, 78886, 77761, 70013, 49665, 48200,
    47873, 40871, 37043, 37038, 36685, 34660, 34426, 31703, 31174, 29692, 26403, 25656, 24400,
    24048, 23926, 23313, 20275, 19913, 14413, 14047, 13963, 13835, 12654, 12483, 11274, 10633,
    8563, 7804, 7594, 7394, 7361, 7262, 6899, 6175, 5769, 5437, 5390, 4542, 4478, 4394, 4323, 4234,
    4164, 3615, 3524, 3417, 3365, 3357, 3226, 3101, 3030, 2993, 2916, 2867, 2721, 2552, 2545, 2443,
    2379, 2375, 2357, 2258, 2074, 1983, 1939, 1921, 1912, 1887, 1881, 1821, 1722, 1675, 1663, 1649,
    1630, 1507, 1341, 1323, 1318, 1253, 1233, 1205, 1190, 1187, 1156, 1141, 1122, 1105, 1077, 1065,
    1061, 1027, 1000,
)
_DEB_CLOSURES: dict[str, tuple[int, tuple[int, ...]]] = {
    "ant": (4156, (2, 45, 49, 53, 54, 65, 69, 75, 82, 84)),
    "autoconf": (1504, (12, 74)),
    "automake": (1641, (12, 74, 80)),
    "binutils": (0, (18,)),
    "bison": (3877, ()),
    "build-essential": (2132, (9, 12, 14, 16, 17, 18, 29, 31, 43, 45, 47, 72, 75, 86, 93)),
    "bzr": (19646, (32, 39, 40, 45, 75, 82)),
    "cargo": (20120, (1, 5, 9, 15, 16, 17, 18, 27, 31, 43, 45, 72, 75, 78, 93)),
    "clang": (113872, (5, 15, 16, 18, 27, 29, 31, 43, 45, 50, 75, 78)),
    "cmake": (44977, (15, 45, 70, 75, 78, 97)),
    "cpp": (183, (17, 72, 93)),
    "cvs": (4925, (45, 75)),
    "default-jdk": (6784, (
        2, 3, 7, 15, 21, 25, 27, 37, 45, 49, 53, 54, 55, 65, 68, 75, 78, 82, 84, 85, 102,
    )),
    "default-jdk-headless": (4163, (2, 7, 45, 49, 53, 54, 65, 75, 82, 84)),
    "default-libmysqlclient-dev": (2096, (31, 35, 43, 45, 75, 88)),
    "dpkg-dev": (818, (12, 18, 47, 86)),
    "flex": (1957, ()),
    "g++": (1293, (9, 14, 16, 17, 18, 29, 31, 43, 45, 72, 75, 93)),
    "gcc": (896, (9, 16, 17, 18, 72, 93)),
    "gfortran": (1310, (9, 13, 16, 17, 18, 31, 43, 45, 63, 72, 75, 93)),
    "git": (4520, (11, 12, 45, 75)),
    "git-core": (4520, (11, 12, 45, 75)),
    "git-lfs": (15734, (11, 12, 45, 75)),
    "golang": (671, (0,)),
    "golang-go": (0, (0,)),
    "gperf": (306, ()),
    "gradle": (110728, (2, 36, 45, 49, 53, 54, 65, 69, 75, 82, 84)),
    "libacl1-dev": (714, (31, 43, 45, 75)),
    "libaio-dev": (110, ()),
    "libargon2-dev": (150, ()),
    "libatlas-base-dev": (36490, (63,)),
    "libattr1-dev": (485, (31, 43, 45, 75)),
    "libavcodec-dev": (6842, (8, 15, 19, 26, 34, 37, 53, 54, 55, 65, 68, 78, 85)),
    "libavformat-dev": (7897, (8, 15, 19, 26, 33, 34, 37, 45, 53, 54, 55, 65, 68, 75, 78, 83, 85)),
    "libblas-dev": (475, (101,)),
    "libboost-all-dev": (229630, (
        4, 9, 10, 12, 13, 15, 16, 17, 18, 22, 28, 29, 31, 32, 39, 40, 43, 45, 55, 63, 67, 72, 74,
        75, 78, 80, 82, 88, 93, 103,
    )),
    "libboost-dev": (1062, (4, 16, 29, 31, 43, 45, 75)),
    "libbz2-dev": (495, (31, 43, 45, 75)),
    "libc-dev": (397, (31, 43, 45, 75)),
    "libc6-dev": (397, (31, 43, 45, 75)),
    "libcairo2-dev": (9809, (
        24, 31, 32, 40, 43, 45, 46, 48, 53, 54, 55, 59, 62, 68, 75, 82, 88, 102, 103,
    )),
    "libcap-dev": (2847, ()),
    "libcurl4-gnutls-dev": (5100, (45, 75)),
    "libcurl4-openssl-dev": (3317, (45, 75, 81)),
    "libdb-dev": (3168, ()),
    "libedit-dev": (3103, (31, 43, 45, 71, 75)),
    "libeigen3-dev": (9364, ()),
    "libevent-dev": (395, (45, 67)),
    "libexpat1-dev": (1631, (31, 43, 45, 75)),
    "libffi-dev": (323, ()),
    "libfreetype-dev": (3407, (31, 43, 45, 62, 75, 88)),
    "libfreetype6-dev": (3478, (31, 43, 45, 62, 75, 88)),
    "libgd-dev": (14280, (
        20, 26, 31, 34, 43, 45, 46, 51, 54, 55, 62, 66, 75, 85, 88, 91, 92, 96, 98,
    )),
    "libgdal-dev": (86777, (
        4, 6, 10, 12, 15, 16, 20, 23, 26, 29, 30, 31, 35, 42, 43, 45, 49, 52, 54, 56, 58, 59, 60,
        63, 66, 74, 75, 78, 80, 81, 82, 85, 88, 91, 92, 96, 98, 101,
    )),
    "libgdbm-dev": (939, (31, 43, 45, 75)),
    "libgeos-dev": (236, (56,)),
    "libgflags-dev": (0, (104,)),
    "libgirepository1.0-dev": (18875, (
        9, 12, 14, 16, 17, 18, 24, 29, 31, 32, 40, 43, 45, 47, 53, 59, 72, 75, 82, 86, 88, 93, 94,
        100, 102, 103,
    )),
    "libgl1-mesa-dev": (2990, (3, 15, 27, 46, 55, 78, 87, 99, 102)),
    "libglib2.0-dev": (3386, (24, 31, 32, 40, 43, 45, 53, 59, 75, 82, 88, 102, 103)),
    "libglu1-mesa-dev": (3667, (3, 15, 27, 46, 55, 78, 87, 102)),
    "libgmp-dev": (0, (73,)),
    "libgmp3-dev": (340, (73,)),
    "libgoogle-glog-dev": (1587, (64, 104)),
    "libgtk-3-dev": (111817, (
        3, 10, 15, 24, 25, 27, 31, 32, 37, 40, 41, 43, 45, 46, 48, 53, 54, 55, 59, 62, 65, 66, 68,
        70, 75, 78, 82, 84, 85, 87, 88, 91, 92, 94, 95, 98, 99, 102, 103,
    )),
    "libhdf5-dev": (4816, (30, 31, 35, 43, 45, 52, 63, 75, 81, 88, 98)),
    "libhiredis-dev": (323, ()),
    "libicu-dev": (397, (10, 15, 31, 43, 45, 75)),
    "libisl-dev": (8153, (72,)),
    "libjemalloc-dev": (4187, ()),
    "libjpeg-dev": (1200, (31, 43, 45, 75, 98)),
    "libjpeg62-turbo-dev": (1091, (31, 43, 45, 75, 98)),
    "libkrb5-dev": (397, (31, 43, 45, 75, 79)),
    "liblapack-dev": (774, (23, 42, 63, 101)),
    "libldap2-dev": (2471, ()),
    "liblz4-dev": (285, ()),
    "liblzma-dev": (743, ()),
    "libmagic-dev": (389, (38,)),
    "libmariadb-dev": (2015, (31, 35, 43, 45, 75, 88)),
    "libmariadb-dev-compat": (2087, (31, 35, 43, 45, 75, 88)),
    "libmcrypt-dev": (592, ()),
    "libmemcached-dev": (2450, (31, 43, 45, 75)),
    "libmpc-dev": (483, (73, 90, 93)),
    "libmpfr-dev": (0, (73, 90, 93)),
    "libncurses-dev": (1162, (31, 43, 45, 71, 75)),
    "libncurses5-dev": (1168, (31, 43, 45, 71, 75)),
    "libncursesw5-dev": (1168, (31, 43, 45, 71, 75)),
    "libnss3-dev": (2649, (49, 82)),
    "libnuma-dev": (629, (31, 43, 45, 75)),
    "libonig-dev": (921, ()),
    "libopenblas-dev": (103272, (63,)),
    "libopencv-dev": (480939, (
        3, 6, 8, 15, 19, 26, 27, 28, 31, 33, 34, 37, 41, 42, 43, 44, 45, 49, 51, 52, 53, 54, 55,
        56, 57, 63, 65, 66, 68, 75, 76, 77, 78, 82, 83, 85, 88, 91, 92, 96, 97, 98, 102,
    )),
    "libpcap-dev": (2451, (31, 43, 45, 75, 95)),
    "libpcre2-dev": (1044, (31, 43, 45, 59, 75)),
    "libpcre3-dev": (4658, (31, 43, 45, 75)),
    "libpng-dev": (1698, (31, 43, 45, 75, 88)),
    "libpq-dev": (2304, (35, 45, 75)),
    "libpq5": (1703, (45, 75)),
    "libprotobuf-dev": (13356, (31, 43, 45, 57, 75, 88)),
    "libpython3-dev": (2669, (22, 31, 32, 39, 43, 45, 75, 82, 88)),
    "libreadline-dev": (2549, (31, 43, 45, 71, 75)),
    "libsasl2-dev": (1553, (31, 43, 45, 75)),
    "libseccomp-dev": (420, ()),
    "libsm6": (733, ()),
    "libsnappy-dev": (238, ()),
    "libsnmp-dev": (13039, (12, 31, 35, 43, 45, 70, 75, 88)),
    "libsodium-dev": (1239, ()),
    "libsqlite3-dev": (397, (31, 43, 45, 60, 75, 82)),
    "libssl-dev": (0, (35, 45)),
    "libstdc++-12-dev": (1062, (16, 29, 31, 43, 45, 75)),
    "libsuitesparse-dev": (10075, (23, 42, 63, 93, 101)),
    "libswscale-dev": (1108, (19, 55, 77)),
    "libsystemd-dev": (1137, ()),
    "libtbb-dev": (394, (76,)),
    "libtiff-dev": (2648, (31, 43, 45, 66, 75, 85, 88, 91, 92, 98)),
    "libtiff5-dev": (2796, (31, 43, 45, 66, 75, 85, 88, 91, 92, 98)),
    "libtk8.6": (3408, (44, 54, 55)),
    "libtool": (1431, (9, 16, 17, 18, 31, 38, 43, 45, 72, 75, 89, 93)),
    "libtool-bin": (2182, (9, 16, 17, 18, 31, 38, 43, 45, 72, 75, 89, 93)),
    "libudev-dev": (145, ()),
    "libunwind-dev": (944, (64,)),
    "libusb-1.0-0-dev": (485, ()),
    "libwebp-dev": (705, (92,)),
    "libx11-dev": (207, (46, 55)),
    "libxext-dev": (680, (46, 55)),
    "libxml2-dev": (397, (10, 15, 31, 43, 45, 58, 75, 78)),
    "libxrender-dev": (401, (46, 55)),
    "libxslt-dev": (397, (10, 15, 31, 43, 45, 58, 61, 75, 78)),
    "libxslt1-dev": (397, (10, 15, 31, 43, 45, 58, 61, 75, 78)),
    "libyaml-dev": (418, ()),
    "libzip-dev": (879, (31, 43, 45, 75, 88)),
    "libzmq3-dev": (8187, (10, 15, 31, 43, 45, 58, 75, 78, 79, 83)),
    "libzstd-dev": (0, (91,)),
    "linux-libc-dev": (0, (43,)),
    "llvm": (57874, (5, 15, 27, 45, 49, 50, 75, 78, 82)),
    "m4": (686, ()),
    "make": (0, (86,)),
    "maven": (5894, (2, 36, 45, 49, 53, 54, 65, 75, 82, 84)),
    "mercurial": (18296, (32, 40, 45, 75, 82)),
    "meson": (8581, (32, 40, 45, 75, 82, 100, 103)),
    "nasm": (3423, ()),
    "ninja-build": (426, ()),
    "node-gyp": (267258, (15, 32, 35, 40, 45, 75, 82, 100)),
    "openjdk-17-jdk": (6753, (
        2, 3, 7, 15, 21, 25, 27, 37, 45, 49, 53, 54, 55, 65, 68, 75, 78, 82, 84, 85, 102,
    )),
    "openjdk-17-jdk-headless": (4144, (2, 7, 45, 49, 53, 54, 65, 75, 82, 84)),
    "pkg-config": (283, ()),
    "pkgconf": (253, ()),
    "protobuf-compiler": (3253, (57,)),
    "python3-dev": (4953, (22, 31, 32, 39, 40, 43, 45, 75, 82, 88, 103)),
    "python3.11-dev": (3265, (22, 31, 32, 39, 40, 43, 45, 75, 82, 88)),
    "rustc": (1764, (1, 5, 9, 15, 16, 17, 18, 27, 31, 43, 45, 72, 75, 78, 93)),
    "subversion": (11252, (45, 75, 82)),
    "swig": (6026, ()),
    "tk-dev": (17292, (12, 18, 31, 43, 44, 45, 46, 47, 54, 55, 62, 75, 86, 88)),
    "uuid-dev": (513, (31, 43, 45, 75)),
    "yasm": (2173, ()),
    "zlib1g-dev": (397, (31, 43, 45, 75, 88)),
}
# fmt: on
