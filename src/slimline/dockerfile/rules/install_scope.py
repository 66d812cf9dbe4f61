"""install-scope: install only what the runtime needs.

Recommended and weak dependencies, development dependencies and documentation all cost
bytes in the image and add nothing to what it runs. Like the package-cache rules, these look
only at RUN steps whose layers reach the final image: a build stage may install whatever it
needs to build.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.rules.package_cache import (
    EnvCache,
    action_word_finding,
    chain_root_image,
    commands_after,
    op_label,
    removed_paths,
    script_mentions,
    truthy,
    uses_yarn_berry,
)
from slimline.dockerfile.shell import Command, Word, basename
from slimline.dockerfile.stages import Stage, substitute
from slimline.findings import Finding, Practice, Severity

if TYPE_CHECKING:
    from slimline.dockerfile.edits import Edit
    from slimline.dockerfile.fixes import FixContext, FixResult


# Extra installed size that Recommends add, measured on Debian 12 (bookworm, amd64) with
# `apt-get install --simulate` against a dpkg status of the debian:bookworm base packages:
# sum of Installed-Size of the packages installed without --no-install-recommends minus the
# same sum with it.
RECOMMENDS_BYTES: dict[str, int] = {
    "build-essential": 79_057_920,
    "cmake": 265_273_344,
    "curl": 3_779_584,
    "default-jre-headless": 56_664_064,
    "ffmpeg": 157_090_816,
    "g++": 58_341_376,
    "gcc": 88_320_000,
    "gettext": 15_763_456,
    "git": 15_037_440,
    "gnupg": 6_618_112,
    "imagemagick": 118_776_832,
    "nodejs": 18_309_120,
    "openssh-client": 4_167_680,
    "python3": 3_093_504,
    "python3-dev": 60_765_184,
    "python3-pip": 428_848_128,
    "supervisor": 3_093_504,
    "wget": 9_302_016,
}

# Words that mark a stage, a requirements file or an extra as development-only.
_DEV_WORDS = frozenset(
    {"dev", "devel", "develop", "development", "test", "tests", "testing", "lint", "linting",
     "docs", "doc", "typing", "qa", "ci", "debug", "e2e"}
)  # fmt: skip
_DEV_STAGE_WORDS = _DEV_WORDS | {"local", "devcontainer", "gitpod", "storybook", "check", "checks"}


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t}


def _dev_stage(stage: Stage | None) -> bool:
    return (
        stage is not None
        and stage.name is not None
        and bool(_tokens(stage.name) & _DEV_STAGE_WORDS)
    )


# Programs and script names whose presence in the final CMD/ENTRYPOINT marks a development
# image (a dev server, a test runner), where development dependencies belong.
_DEV_COMMANDS = frozenset(
    {"nodemon", "pytest", "jest", "vitest", "mocha", "webpack-dev-server", "ts-node-dev", "tox",
     "karma", "cypress", "playwright"}
)  # fmt: skip
_DEV_SCRIPTS = frozenset({"dev", "test", "watch", "start:dev", "serve:dev", "test:e2e"})
_DEV_PAIRS = frozenset(
    {("next", "dev"), ("ng", "serve"), ("vite", "dev"), ("nuxt", "dev"), ("fastapi", "dev"),
     ("manage.py", "runserver")}
)  # fmt: skip


def _dev_image(ctx: CheckContext) -> bool:
    """The final image is a development or test image (its stage or its Dockerfile named so:
    Dockerfile.dev, .devcontainer/Dockerfile; or running a dev server or a test runner):
    development dependencies are its purpose."""
    if _dev_stage(ctx.target):
        return True
    path = ctx.path.replace("\\", "/")
    named = _tokens(basename(path)) | _tokens(basename(posixpath.dirname(path)))
    if named & _DEV_STAGE_WORDS:
        return True
    last: dict[str, Instruction] = {}
    for stage in ctx.target_chain:
        for ins in stage.instructions:
            if ins.keyword in ("CMD", "ENTRYPOINT"):
                last[ins.keyword] = ins
    words = [basename(w) for ins in last.values() for v in ins.values for w in v.split()]
    for i, w in enumerate(words):
        if w in _DEV_COMMANDS or w == "--reload":
            return True
        prev = words[i - 1] if i else ""
        if prev in ("run", "npm", "yarn", "pnpm", "bun") and w in _DEV_SCRIPTS:
            return True
        if (prev, w) in _DEV_PAIRS:
            return True
    return False


def _final_ops(ctx: CheckContext, *managers: str) -> bool:
    """Whether any RUN of the final image invokes one of these package managers."""
    return any(op.manager in managers for run in ctx.final_runs() for op in run.ops)


def _copies_into(ins: Instruction, *prefixes: str) -> bool:
    if ins.keyword not in ("COPY", "ADD") or not ins.values:
        return False
    dest = posixpath.normpath(ins.values[-1]) if ins.values[-1] else ""
    return any(dest == p or dest.startswith(p.rstrip("/") + "/") for p in prefixes)


def _heredoc_text(ins: Instruction) -> str:
    return "".join(h.content for h in ins.heredocs)


def _command_text(command: Command) -> str:
    return (" ".join(w.text for w in command.words) + " " + (command.heredoc or "")).lower()


class AptInstallRecommends(Rule):
    """`apt-get install` without `--no-install-recommends` also installs every recommended package.

    Why: APT installs Recommends by default. On a server image they are rarely needed:
    `python3-pip` alone recommends a compiler toolchain (build-essential, python3-dev) of
    over 400 MB on Debian 12; `git` recommends less and openssh-client, another 15 MB.

    Catches: `apt-get install`, `apt install` (and `aptitude install` without
    `--without-recommends`) of named packages in a RUN of the final image without
    `--no-install-recommends`. One finding per RUN, at its first such install.

    Leaves alone: `-o APT::Install-Recommends=false` (or 0); an apt configuration setting
    `APT::Install-Recommends "false"` written earlier in the image (echo, printf, heredoc) or
    any file COPYed into /etc/apt/apt.conf.d (its content cannot be seen); a variable among
    the options that expands to the flag or is named like an option list (`$APT_OPTS`);
    build stages that do not reach the final image.

    estimated_bytes: for the packages named in the command that appear in a table measured on
    Debian 12 (the extra Installed-Size that Recommends add to a debian:bookworm base:
    curl 3.8 MB, git 15 MB, python3-pip 429 MB, build-essential 79 MB...), the largest of
    their figures; a lower bound, since recommendations overlap. None when no named package
    is in the table.
    """

    id = "SL401"
    name = "apt-no-install-recommends"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.WARNING
    refs = ("DL3015", "DS-0029")
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not _final_ops(ctx, "apt"):
            return
        envs = EnvCache(ctx)
        runs = {id(r.instruction): r for r in ctx.final_runs()}
        configured = False
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if _copies_into(ins, "/etc/apt/apt.conf.d", "/etc/apt/apt.conf"):
                    configured = True
                run = runs.get(id(ins))
                if run is None or configured:
                    continue
                offending, configured = self._offending(run, envs)
                if not offending:
                    continue
                first = offending[0]
                more = len(offending) - 1
                also = (
                    f" (and {more} more install{'s' if more > 1 else ''} in this RUN)"
                    if more
                    else ""
                )
                sizes = [b for op in offending if (b := _recommends_bytes(op.packages)) is not None]
                yield action_word_finding(
                    self,
                    ctx,
                    first,
                    f"`{first.tool} install` without --no-install-recommends also installs the "
                    f"recommended packages{also}; add --no-install-recommends (and name any you need)",
                    estimated_bytes=max(sizes) if sizes else None,
                )

    def _offending(self, run: RunStep, envs: EnvCache) -> tuple[list[PackageOp], bool]:
        """The RUN's installs that pull Recommends, and whether the RUN configures apt not
        to (which stops the search: later RUNs are configured too)."""
        ops = {id(op.command): op for op in run.ops}
        offending: list[PackageOp] = []
        mentions = any("install-recommends" in sc.text.lower() for sc in run.scripts)
        for command in run.commands:
            op = ops.get(id(command))
            if op is None or op.manager != "apt":
                if mentions and _disables_recommends(command):
                    return offending, True
                continue
            if op.raw_action != "install" or op.tool not in ("apt-get", "apt", "aptitude"):
                continue
            if op.packages and not self._quiet(op, envs.at(run, command)):
                offending.append(op)
        return offending, False

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """``--no-install-recommends`` (aptitude: ``--without-recommends``) on every install
        of the RUN that lacks it, with ``-y`` where it is missing too."""
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.locate import finding_offset, run_at
        from slimline.dockerfile.fixes.packages import add_option, guard_branches
        from slimline.dockerfile.fixes.shell_edits import editable_command, editable_script

        run = run_at(ctx, finding_offset(ctx, finding))
        editable_script(run)
        guard_branches(run, "apt")
        offending, _ = self._offending(run, EnvCache(ctx.check))
        edits: list[Edit] = []
        for op in offending:
            editable_command(run, op.command)
            flag = "--without-recommends" if op.tool == "aptitude" else "--no-install-recommends"
            if not _assumes_yes(op):
                flag = "-y " + flag
            edits.append(add_option(ctx, op, flag))
        if not edits:
            raise Unfixable("no install of this RUN to change")
        return FixResult.of(edits, "added --no-install-recommends to apt install")

    @staticmethod
    def _quiet(op: PackageOp, env: Mapping[str, str]) -> bool:
        if op.has("--no-install-recommends", "--without-recommends"):
            return True
        if op.tool == "aptitude" and op.has("-R"):
            return True
        settings = op.values("-o") + op.values("--option")
        settings += [
            o[2:]
            for o in op.options
            if o.startswith("-o") and not o.startswith("--") and len(o) > 2
        ]
        for setting in settings:
            key, _, value = setting.partition("=")
            if key.strip().lower() == "apt::install-recommends" and value.strip().lower() in (
                "false",
                "0",
                "no",
                "off",
            ):
                return True
        for word in op.command.words[1:]:
            if "$" not in word.text:
                continue
            expanded = substitute(word.text, env)[0].lower()
            if "install-recommends" in expanded or "without-recommends" in expanded:
                return True
            for name in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", word.text):
                if name not in env and re.search(r"OPT|FLAG|ARG|APT", name.upper()):
                    return True
        return False


def _assumes_yes(op: PackageOp) -> bool:
    """``-y`` or an equivalent (``--yes``, ``--assume-yes``, ``-qq``, which implies it, or
    ``yes |`` feeding the prompt)."""
    if op.has("-y", "--yes", "--assume-yes", "--force-yes", "-q=2"):
        return True
    if any(o.startswith("-") and not o.startswith("--") and o.count("q") >= 2 for o in op.options):
        return True
    feeder = op.command.pipe_from
    return feeder is not None and feeder.program == "yes"


def _disables_recommends(command: Command) -> bool:
    text = _command_text(command)
    if "apt::install-recommends" not in text:
        return False
    return any(
        v in text for v in ('"false"', "'false'", "=false", '"0"', "'0'", "=0", " false", " 0;")
    )


def _recommends_bytes(packages: list[Word]) -> int | None:
    best: int | None = None
    for word in packages:
        name = re.split(r"[=:]", word.text, maxsplit=1)[0]
        size = RECOMMENDS_BYTES.get(name)
        if size is not None and (best is None or size > best):
            best = size
    return best


_DNF_INSTALLS = frozenset({"install", "groupinstall", "localinstall", "builddep"})


def _dnf_installs(op: PackageOp) -> bool:
    if op.action in _DNF_INSTALLS:
        return True
    return (
        op.action in ("group", "module") and bool(op.packages) and op.packages[0].text == "install"
    )


def _setopt(op: PackageOp, key: str) -> str | None:
    for value in op.values("--setopt"):
        k, _, v = value.partition("=")
        if k.strip().lower() == key:
            return v.strip().lower()
    return None


class DnfWeakDeps(Rule):
    """`dnf install` without `--setopt=install_weak_deps=False` also installs weak dependencies.

    Why: dnf installs weak dependencies (RPM `Recommends`) by default, the equivalent of APT's
    Recommends: packages the named ones work without, which only add size and attack surface.
    Info rather than warning: Fedora packagers use weak dependencies for features users
    often expect, so the flag deserves a look more than a reflex.

    Catches: `dnf`, `dnf5` and `microdnf` install, groupinstall, localinstall, builddep and
    `group install`/`module install` in a RUN of the final image without
    `--setopt=install_weak_deps=False` (or 0).

    Leaves alone: `yum` and `tdnf` (yum has no weak dependencies; where yum is dnf, the
    image's own dnf.conf decides); `install_weak_deps=False` written to a dnf configuration
    earlier in the image (echo, heredoc, `dnf config-manager --setopt ... --save`) or a dnf.conf
    COPYed in; build stages that do not reach the final image. Documentation (`--nodocs`) is
    a separate opt-in rule, SL403, because the Fedora, CentOS and Rocky base images already
    set `tsflags=nodocs`.

    estimated_bytes: none: no measured figure for RPM distributions.
    """

    id = "SL402"
    name = "dnf-weak-deps"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.INFO
    refs = ()
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not _final_ops(ctx, "dnf"):
            return
        runs = {id(r.instruction): r for r in ctx.final_runs()}
        configured = False
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if _copies_into(ins, "/etc/dnf", "/etc/yum.conf"):
                    configured = True
                if ins.keyword == "COPY" and "install_weak_deps" in _heredoc_text(ins):
                    configured = True
                run = runs.get(id(ins))
                if run is None or configured:
                    continue
                for command in run.commands:
                    op = package_op(command)
                    if op is None or op.manager != "dnf":
                        if _sets_config(command, "install_weak_deps", ("false", "0", "no")):
                            configured = True
                            break
                        continue
                    if _setopt(op, "install_weak_deps") in ("false", "0", "no", "off"):
                        if op.has("--save") or op.action == "config-manager":
                            configured = True
                            break
                        continue
                    if op.tool not in ("dnf", "dnf5", "microdnf") or not _dnf_installs(op):
                        continue
                    yield action_word_finding(
                        self,
                        ctx,
                        op,
                        f"`{op_label(op)}` without --setopt=install_weak_deps=False also "
                        "installs weak dependencies; add it (or set install_weak_deps=False in "
                        "/etc/dnf/dnf.conf)",
                    )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult
        from slimline.dockerfile.fixes.packages import add_option, located_op

        _run, op = located_op(ctx, finding)
        # microdnf documents the numeric form.
        value = "0" if op.tool == "microdnf" else "False"
        option = f"--setopt=install_weak_deps={value}"
        after = "install" if op.action in ("group", "module") else None
        edit = add_option(ctx, op, option, after=after)
        return FixResult.of([edit], f"added {option} to `{op_label(op)}`")


def _sets_config(command: Command, key: str, values: tuple[str, ...]) -> bool:
    text = _command_text(command)
    if key not in text:
        return False
    return any(re.search(rf"{key}\s*=\s*['\"]?{v}\b", text) for v in values)


# Base images whose dnf/yum configuration already sets tsflags=nodocs.
_NODOCS_BASES = frozenset(
    {"fedora", "fedora-minimal", "centos", "rockylinux", "almalinux", "rockylinux-minimal"}
)


class RpmDocs(Rule):
    """`dnf`/`yum`/`microdnf` installs without `--nodocs` install man pages and documentation.

    Why: RPM packages carry their documentation (/usr/share/doc, man and info pages);
    `--nodocs` (or `tsflags=nodocs` in the configuration) skips it.

    Opt-in, because the Fedora, CentOS, Rocky Linux and AlmaLinux container images already
    set `tsflags=nodocs`, so the flag only matters on bases that do not, such as Red Hat's
    UBI. When enabled it catches yum, dnf, dnf5, microdnf and tdnf installs in the final
    image without `--nodocs` or `--setopt=tsflags=nodocs`.

    Leaves alone: the bases above (when FROM names them); `tsflags=nodocs` written to a
    configuration earlier in the image, or a dnf.conf/yum.conf COPYed in; build stages.

    estimated_bytes: none: it depends on the packages.
    """

    id = "SL403"
    name = "rpm-nodocs"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.INFO
    refs = ()
    fixable = True
    default_enabled = False

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not _final_ops(ctx, "dnf"):
            return
        root = chain_root_image(ctx)
        if root is None or root in _NODOCS_BASES:
            return
        runs = {id(r.instruction): r for r in ctx.final_runs()}
        configured = False
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if _copies_into(ins, "/etc/dnf", "/etc/yum.conf", "/etc/yum"):
                    configured = True
                run = runs.get(id(ins))
                if run is None or configured:
                    continue
                for command in run.commands:
                    op = package_op(command)
                    if op is None or op.manager != "dnf":
                        if _sets_config(command, "tsflags", ("nodocs",)):
                            configured = True
                            break
                        continue
                    tsflags = _setopt(op, "tsflags")
                    if tsflags is not None and "nodocs" in tsflags:
                        if op.has("--save") or op.action == "config-manager":
                            configured = True
                            break
                        continue
                    if not _dnf_installs(op) or op.has("--nodocs", "--no-docs"):
                        continue
                    yield action_word_finding(
                        self,
                        ctx,
                        op,
                        f"`{op_label(op)}` without --nodocs also installs documentation "
                        "and man pages; add --nodocs (or set tsflags=nodocs in the configuration)",
                    )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.packages import add_option, located_op

        _run, op = located_op(ctx, finding)
        if op.tool == "tdnf":
            raise Unfixable("tdnf has no --nodocs option")
        # yum before version 4 has no --nodocs; the setting works everywhere.
        option = "--setopt=tsflags=nodocs" if op.tool == "yum" else "--nodocs"
        after = "install" if op.action in ("group", "module") else None
        edit = add_option(ctx, op, option, after=after)
        return FixResult.of([edit], f"added {option} to `{op_label(op)}`")


_NODE_PRUNE_HINT = {
    "npm": "add --omit=dev (or set ENV NODE_ENV=production)",
    "yarn": "add --production (or set ENV NODE_ENV=production)",
    "berry": "use `yarn workspaces focus --all --production`",
    "pnpm": "add --prod (or set ENV NODE_ENV=production)",
}


def _node_env_production(run: RunStep, env: Mapping[str, str], command: Command) -> bool:
    if env.get("NODE_ENV", "").strip().lower() == "production":
        return True
    return any(
        script_mentions(run, needle, command)
        for needle in ("NODE_ENV=production", 'NODE_ENV="production"', "NODE_ENV='production'")
    )


def _npm_env(env: Mapping[str, str], name: str) -> str:
    low = "npm_config_" + name
    for key, value in env.items():
        if key.lower() == low:
            return value.strip().lower()
    return ""


def _node_kind(op: PackageOp) -> str | None:
    """Which installer installs a whole manifest here: "npm", "yarn", "berry", "pnpm"."""
    if op.has("-g", "--global", "--help", "-h", "--version", "-v"):
        return None
    if op.manager == "npm":
        if op.action == "ci" or (op.action == "install" and not op.packages):
            return "npm"
        return None
    if op.manager == "yarn":
        if op.action in ("", "install") and not op.packages:
            return (
                "berry" if op.has("--immutable", "--immutable-cache", "--check-cache") else "yarn"
            )
        return None
    if op.manager == "pnpm":
        if op.action == "install" and not op.packages:
            return "pnpm"
        return None
    return None


def _flag(op: PackageOp, name: str) -> str | None:
    """A boolean flag's value: "true" for a bare ``--name``, the value of ``--name=value``, or
    None when absent."""
    for opt in op.options:
        if opt == name:
            return "true"
        if opt.startswith(name + "="):
            return opt.partition("=")[2].strip().lower()
    return None


def _omits_dev(op: PackageOp, kind: str, run: RunStep, env: Mapping[str, str]) -> bool:
    """Whether this install leaves devDependencies out."""
    if kind == "berry":
        return False
    if "dev" in ",".join(op.values("--include")).split(","):
        return False
    production = _flag(op, "--production")
    if production is not None:
        return production not in ("false", "0", "no")
    if kind == "npm":
        omit = ",".join(op.values("--omit")).split(",")
        if "dev" in omit or (op.value("--only") or "").lower() in ("prod", "production"):
            return True
        if "dev" in _npm_env(env, "omit").split(",") or truthy(_npm_env(env, "production")):
            return True
    if kind == "yarn" and (
        _flag(op, "--prod") not in (None, "false") or truthy(env.get("YARN_PRODUCTION"))
    ):
        return True
    if kind == "pnpm" and (_flag(op, "--prod") not in (None, "false") or op.has("-P")):
        return True
    return _node_env_production(run, env, op.command)


def _prunes_dev(command: Command, run: RunStep, envs: EnvCache) -> bool:
    """A later command that leaves only production dependencies (or none) behind."""
    if any(
        basename(p) == "node_modules" or p.endswith("/node_modules/*")
        for p in removed_paths(command)
    ):
        return True
    op = package_op(command)
    if op is None or op.manager not in ("npm", "yarn", "pnpm"):
        return False
    env = envs.at(run, command)
    if op.action == "prune":
        if op.manager == "npm":
            return (
                _flag(op, "--production") not in (None, "false")
                or "dev" in ",".join(op.values("--omit")).split(",")
                or (op.value("--only") or "") in ("prod", "production")
                or _node_env_production(run, env, command)
            )
        return op.has("--prod", "--production", "-P") or _node_env_production(run, env, command)
    if (
        op.manager == "yarn"
        and op.action == "workspaces"
        and op.packages
        and op.packages[0].text == "focus"
    ):
        return op.has("--production")
    kind = _node_kind(op)
    return kind is not None and _omits_dev(op, kind, run, env)


class NodeDevDependencies(Rule):
    """`npm ci`/`npm install`, `yarn install` or `pnpm install` in the final image also install devDependencies.

    Why: devDependencies (test runners, bundlers, type checkers, linters) are for building
    and testing; shipped, they often outweigh the runtime dependencies and widen the attack
    surface.

    Catches: a whole-manifest install (`npm ci`, `npm install` with no package names,
    `yarn`/`yarn install`, `pnpm install`) in a RUN of the final image that does not omit
    development dependencies (`--omit=dev`, `--production`, `--only=prod`, `--prod`,
    NODE_ENV=production, npm_config_omit=dev, npm_config_production=true).

    Leaves alone: a later `npm prune --omit=dev`/`--production`, `pnpm prune --prod`,
    `yarn install --production` or `yarn workspaces focus --production` in the final
    image, or removal of node_modules; installs in build stages (whose output is copied);
    `npm install <pkg>` and global installs; development images (the final stage or the
    Dockerfile named for development: a stage `dev`, `test`, `ci`..., Dockerfile.dev,
    .devcontainer/Dockerfile; or a CMD that runs a dev server or test runner such as
    `npm run dev`, nodemon or jest).

    estimated_bytes: none: it depends on the project's devDependencies.
    """

    id = "SL404"
    name = "node-dev-dependencies"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.WARNING
    refs = ()
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        runs = ctx.final_runs()
        if not _final_ops(ctx, "npm", "yarn", "pnpm") or _dev_image(ctx):
            return
        envs = EnvCache(ctx)
        for index, run in enumerate(runs):
            if _dev_stage(run.stage):
                continue
            for op in run.ops:
                kind = _node_kind(op)
                if kind == "yarn" and uses_yarn_berry(ctx, corepack=False):
                    kind = "berry"
                if kind is None or _omits_dev(op, kind, run, envs.at(run, op.command)):
                    continue
                later = [(run, c) for c in commands_after(run, op.command)]
                later += [(r, c) for r in runs[index + 1 :] for c in r.commands]
                if any(_prunes_dev(c, r, envs) for r, c in later):
                    continue
                label = {"npm": "npm", "yarn": "yarn", "berry": "yarn", "pnpm": "pnpm"}[kind]
                label += f" {op.raw_action}" if op.raw_action else ""
                yield action_word_finding(
                    self,
                    ctx,
                    op,
                    f"`{label}` installs devDependencies into the final image; "
                    f"{_NODE_PRUNE_HINT[kind]}, or install them only in a build stage",
                )
                break

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """``npm ci --omit=dev`` (``npm install --omit=dev`` without a lock file that matches),
        ``yarn install --production``, ``pnpm install --prod``: only when package.json, read
        from the build context, shows that nothing later needs devDependencies."""
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.node import omit_dev_edits
        from slimline.dockerfile.fixes.packages import located_op

        run, op = located_op(ctx, finding)
        kind = _node_kind(op)
        if kind is None:
            raise Unfixable("not a whole-project install")
        if kind == "yarn" and uses_yarn_berry(ctx.check, corepack=False):
            kind = "berry"
        edit, what = omit_dev_edits(ctx, run, op, kind)
        return FixResult.of([edit], what)


def _dev_requirements_file(path: str) -> bool:
    if not path or path.startswith("/dev/") or "$" in path:
        return False
    base = basename(path)
    tokens = _tokens(base)
    if tokens & _DEV_WORDS:
        return True
    parent = basename(posixpath.dirname(path))
    return bool(tokens & {"requirements", "requirement", "reqs", "req"}) and bool(
        _tokens(parent) & _DEV_WORDS
    )


def _dev_extras(text: str) -> list[str]:
    out: list[str] = []
    for group in re.findall(r"\[([^\]]+)\]", text):
        for extra in group.split(","):
            if _tokens(extra) & _DEV_WORDS:
                out.append(extra.strip())
    return out


class PythonDevDependencies(Rule):
    """`pip install` of development requirements or extras (`-r requirements-dev.txt`, `.[test]`) in the final image.

    Why: test runners, linters, type checkers and documentation tools have no place in the
    image that ships; they add size and attack surface.

    Catches, in a RUN of the final image: `pip install` (pip, `python -m pip`, `uv pip`) with
    a requirements file whose name marks it as development-only (requirements-dev.txt,
    dev-requirements.txt, requirements/test.txt, tests/requirements.txt: the words dev, test,
    tests, testing, lint, docs, typing, qa, ci...), or a package with such an extra
    (`.[dev]`, `-e .[test,docs]`, `pkg[testing]`); `poetry install` without `--only`,
    `--without` or `--no-dev` (Poetry installs the dev group by default); `uv sync` without
    `--no-dev` (or UV_NO_DEV=1), or with `--only-dev`; `pipenv install --dev`. The Poetry and
    uv findings are info, not warnings: whether the project has a dev group is not visible
    from the Dockerfile.

    Leaves alone: build and test stages that do not reach the final image; development
    images (the final stage or the Dockerfile named for development: a stage `dev`, `test`,
    `ci`..., Dockerfile.dev, .devcontainer/Dockerfile; or a CMD running pytest, tox or
    `uvicorn --reload`); variables in file names.

    estimated_bytes: none: it depends on the requirements.
    """

    id = "SL405"
    name = "python-dev-dependencies"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        runs = [
            r
            for r in ctx.final_runs()
            if r.ops_of("pip") or any(c.program == "uv" for c in r.commands)
        ]
        if not runs or _dev_image(ctx):
            return
        envs = EnvCache(ctx)
        for run in runs:
            if _dev_stage(run.stage):
                continue
            for command in run.commands:
                finding = self._check_command(ctx, envs, run, command)
                if finding is not None:
                    yield finding

    def _check_command(
        self, ctx: CheckContext, envs: EnvCache, run: RunStep, command: Command
    ) -> Finding | None:
        op = package_op(command)
        if op is None:
            words = command.unwrapped()
            if len(words) >= 2 and basename(words[0].text) == "uv" and words[1].text == "sync":
                return self._check_uv_sync(ctx, envs, run, command, words)
            return None
        if op.manager != "pip":
            return None
        if op.tool == "poetry" and op.action == "install":
            if op.has("--only", "--without", "--no-dev", "--only-root", "--help", "-h"):
                return None
            return action_word_finding(
                self,
                ctx,
                op,
                "`poetry install` also installs the dev dependency group (if the project has one) "
                "into the final image; add `--only main` (or `--without dev`)",
                severity=Severity.INFO,
            )
        if op.tool == "pipenv":
            if op.action in ("install", "sync") and op.has("--dev", "-d"):
                word = next((w for w in command.words if w.text in ("--dev", "-d")), None)
                return self.at_command(
                    ctx,
                    command,
                    f"`pipenv {op.action} --dev` installs the dev packages into the final image; drop --dev",
                    word=word,
                )
            return None
        if op.action != "install" or op.tool in ("pipx",):
            return None
        words = command.unwrapped()
        for i, word in enumerate(words[1:], start=1):
            text = word.text
            requirement: str | None = None
            if text in ("-r", "--requirement") and i + 1 < len(words):
                requirement, word = words[i + 1].text, words[i + 1]
            elif text.startswith("--requirement="):
                requirement = text.partition("=")[2]
            elif text.startswith("-r") and not text.startswith("--") and len(text) > 2:
                requirement = text[2:]
            if requirement is not None:
                if _dev_requirements_file(requirement):
                    return self.at_command(
                        ctx,
                        command,
                        f"`{op.tool} install -r {requirement}` installs development requirements into "
                        "the final image; install them in a build or test stage",
                        word=word,
                    )
                continue
            if text.startswith("-") or "[" not in text:
                continue
            extras = _dev_extras(text)
            if extras:
                return self.at_command(
                    ctx,
                    command,
                    f"`{op.tool} install {text}` installs the development "
                    f"extra{'s' if len(extras) > 1 else ''} {', '.join(extras)} into the final image; "
                    "install without it and keep it for a test stage",
                    word=word,
                )
        return None

    def _check_uv_sync(
        self, ctx: CheckContext, envs: EnvCache, run: RunStep, command: Command, words: list[Word]
    ) -> Finding | None:
        flags = [w.text for w in words[2:]]
        env = envs.at(run, command)
        only_dev = "--only-dev" in flags
        skips = any(
            f in ("--no-dev", "--no-default-groups", "--only-group", "--help")
            or f.startswith(("--no-group", "--only-group="))
            for f in flags
        )
        if not only_dev and (
            skips or truthy(env.get("UV_NO_DEV")) or truthy(env.get("UV_NO_DEFAULT_GROUPS"))
        ):
            return None
        if only_dev:
            message = (
                "`uv sync --only-dev` installs only the dev dependency group into the final image"
            )
        else:
            message = (
                "`uv sync` also installs the dev dependency group (if the project has one) into "
                "the final image; add --no-dev"
            )
        return self.at_command(
            ctx, command, message, word=words[1], severity=None if only_dev else Severity.INFO
        )


# Base images whose RubyGems configuration already skips documentation (the official ruby
# and jruby images write `install: --no-document` to their gemrc).
_RUBY_BASE = re.compile(r"(^|[-_.])(j?ruby|rails)([-_.]|$)")


class GemDocs(Rule):
    """`gem install` without `--no-document` generates ri and rdoc documentation in the image.

    Why: RubyGems builds ri and rdoc documentation for every gem it installs unless told
    not to; nothing at runtime reads it.

    Catches: `gem install` and `gem update` in a RUN of the final image without
    `--no-document` (`-N`, or the old `--no-ri`/`--no-rdoc`), when the image starts from a
    base that is not a Ruby image (for example Alpine or Debian with a distribution ruby).

    Leaves alone: the official ruby and jruby images and images named like them (their
    gemrc already sets `install: --no-document`); a gemrc written earlier in the image with
    `--no-document` (or COPYed in); `bundle install`, which never generates documentation;
    build stages that do not reach the final image; a FROM hidden behind a variable.

    estimated_bytes: none: it depends on the gems.
    """

    id = "SL406"
    name = "gem-no-document"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.INFO
    refs = ()
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        runs = {id(r.instruction): r for r in ctx.final_runs() if r.ops_of("gem")}
        if not runs:
            return
        root = chain_root_image(ctx)
        if root is None or _RUBY_BASE.search(root):
            return
        configured = False
        all_runs = {id(r.instruction): r for r in ctx.final_runs()}
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if (
                    ins.keyword in ("COPY", "ADD")
                    and ins.values
                    and ins.values[-1].rstrip("/").endswith("gemrc")
                ):
                    configured = True
                run = all_runs.get(id(ins))
                if run is None or configured:
                    continue
                for command in run.commands:
                    if command.program != "gem" and _writes_gemrc(command):
                        configured = True
                        break
                    if id(ins) not in runs:
                        continue
                    op = package_op(command)
                    if op is None or op.manager != "gem" or op.action not in ("install", "update"):
                        continue
                    if op.has("--no-document", "-N", "--no-ri", "--no-rdoc", "--help", "-h"):
                        continue
                    if (op.value("--document") or "x") == "":
                        continue
                    yield action_word_finding(
                        self,
                        ctx,
                        op,
                        f"`gem {op.raw_action}` without --no-document also generates ri/rdoc "
                        "documentation; add --no-document",
                    )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        from slimline.dockerfile.fixes import FixResult
        from slimline.dockerfile.fixes.packages import add_option, located_op

        _run, op = located_op(ctx, finding)
        edit = add_option(ctx, op, "--no-document")
        return FixResult.of([edit], f"added --no-document to `gem {op.raw_action}`")


def _writes_gemrc(command: Command) -> bool:
    """An ``echo 'gem: --no-document' > ~/.gemrc`` (or ``| tee``, or a heredoc) line."""
    text = _command_text(command)
    if "gem:" not in text and "install:" not in text:
        return False
    return "--no-document" in text or "--no-rdoc" in text or "--no-ri" in text
