"""attack-surface: what an attacker who gets into the container finds there: sudo, download
tools left over from the build, an SSH server, setuid files; and the distroless opportunity."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import package_name
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.rules.data_storage import (
    Installed,
    base_image,
    chain_instructions,
    chain_places,
    expand,
    os_installs,
    resolve,
    run_of,
)
from slimline.dockerfile.shell import Command, Word, basename
from slimline.findings import Finding, Practice, Severity

# Installed sizes on debian:bookworm-slim, from the Installed-Size fields (KiB) of the
# bookworm package index: the package plus every dependency (Depends only, as with
# --no-install-recommends) that the minbase system does not already have.
#   sudo 1.9.13p3: sudo only (6,055 KiB).
SUDO_DEBIAN_BYTES = 6_055 * 1024
#   curl 7.88.1: curl, libcurl4 and 14 libraries (libssl3, libldap, libkrb5, libssh2,
#   libnghttp2, librtmp1, libsasl2...): 11,695 KiB.
CURL_DEBIAN_BYTES = 11_695 * 1024
#   wget 1.21.3: wget and libpsl5: 3,617 KiB.
WGET_DEBIAN_BYTES = 3_617 * 1024

_DEV_ENVIRONMENT = re.compile(r"(?:^|/)(?:\.devcontainer/|\.gitpod\.Dockerfile$)")


# ---------------------------------------------------------------------------------------------
# Whether an installed package is removed again


@dataclass(slots=True)
class _Removals:
    names: set[str] = field(default_factory=set)
    autoremove: bool = False  # apt-get autoremove, purge/remove --auto-remove
    all_auto: bool = False  # apt-mark auto '.*' (official images' savedAptMark pattern)
    marked: set[str] = field(default_factory=set)


def _removals(run: RunStep) -> _Removals:
    out = _Removals()
    for c in run.commands:
        words = c.unwrapped()
        prog = c.program
        if prog == "apt-mark" and len(words) > 1 and words[1].text == "auto":
            if basename(c.words[0].text) == "xargs":
                # `apt-mark showmanual | xargs apt-mark auto`: the names come from stdin.
                out.all_auto = True
            for w in words[2:]:
                if w.text.startswith("-"):
                    continue
                if w.dynamic or any(ch in w.text for ch in "*.^$?["):
                    out.all_auto = True
                else:
                    out.marked.add(package_name("apt", w.text))
            continue
        if prog == "dpkg" and any(w.text in ("-r", "-P", "--remove", "--purge") for w in words[1:]):
            out.names.update(
                package_name("apt", w.text) for w in words[1:] if not w.text.startswith("-")
            )
    for op in run.ops:
        if op.manager not in ("apt", "apk", "dnf", "zypper"):
            continue
        if op.action == "remove" or (op.manager == "apt" and op.action == "autoremove"):
            out.names.update(package_name(op.manager, w.text) for w in op.packages if not w.dynamic)
            # apk del of a --virtual name keeps its case and leading dot.
            out.names.update(w.text for w in op.packages)
            if op.manager == "apt" and (op.action == "autoremove" or op.has("--auto-remove")):
                out.autoremove = True
    return out


class _RemovalIndex:
    """Removals per final RUN, computed on demand."""

    def __init__(self, ctx: CheckContext):
        self.runs = ctx.final_runs()
        self.position = {id(r): i for i, r in enumerate(self.runs)}
        self.cache: dict[int, _Removals] = {}

    def of(self, run: RunStep) -> _Removals:
        key = id(run)
        if key not in self.cache:
            self.cache[key] = _removals(run)
        return self.cache[key]

    def removed(self, inst: Installed) -> bool:
        """Whether the package is removed later in its RUN or by a later RUN."""
        virtual = (
            (inst.op.value("--virtual") or inst.op.value("-t"))
            if inst.op.manager == "apk"
            else None
        )
        start = self.position.get(id(inst.run), 0)
        for run in self.runs[start:]:
            rem = self.of(run)
            if inst.name in rem.names or (virtual and virtual in rem.names):
                return True
            if (
                run is inst.run
                and inst.op.manager == "apt"
                and rem.autoremove
                and (rem.all_auto or inst.name in rem.marked)
            ):
                return True
        return False


def _uses(ctx: CheckContext, tool: str) -> list[tuple[RunStep, Command]]:
    return [(run, c) for run in ctx.final_runs() for c in run.commands if c.program == tool]


def _runtime_mentions(ctx: CheckContext, tool: str) -> bool:
    """Whether HEALTHCHECK, CMD or ENTRYPOINT of the final image name the tool."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(tool)}(?![\w.-])")
    for ins in chain_instructions(ctx):
        if ins.keyword in ("HEALTHCHECK", "CMD", "ENTRYPOINT") and pattern.search(ins.args):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# SL901 / SL902: sudo

_SUDO_PACKAGES = frozenset({"sudo", "doas", "opendoas"})


class SudoInstalled(Rule):
    """`sudo` (or `doas`) is installed in the final image.

    Why: a container needs no privilege escalation tool: root steps of the build run as root,
    and the running service should not be able to become root. With sudo in the image (and
    usually a `NOPASSWD` sudoers line), a compromised non-root process is one command away
    from root, which undoes the point of `USER`. Switch users at build time with `USER`, and
    at start-up with `gosu`/`su-exec`/`setpriv` (which drop privileges, never gain them).

    Catches: an OS package install of `sudo`, `doas` or `opendoas` in the final image that no
    later command removes.

    Leaves alone: build stages; development environments (`.devcontainer/...`,
    `.gitpod.Dockerfile`), which give their user sudo on purpose.

    estimated_bytes: for apt installs, sudo's installed size on debian:bookworm-slim (6.2 MB,
    from the package index; its dependencies are already in the base). None for other
    package managers.
    """

    id = "SL901"
    name = "sudo-installed"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if _DEV_ENVIRONMENT.search(ctx.path):
            return
        index: _RemovalIndex | None = None
        for inst in os_installs(ctx):
            if inst.name not in _SUDO_PACKAGES:
                continue
            index = index or _RemovalIndex(ctx)
            if index.removed(inst):
                continue
            yield self.at_command(
                ctx,
                inst.op.command,
                f"`{inst.word.text}` installs a privilege escalation tool in the image: any process that gets "
                "in can become root through it; switch users with USER (and gosu/su-exec at start-up) instead",
                word=inst.word,
                estimated_bytes=SUDO_DEBIAN_BYTES
                if inst.op.manager == "apt" and inst.name == "sudo"
                else None,
            )


def _sudo_user(command: Command) -> str | None:
    """The user of ``sudo -u USER`` (None without -u)."""
    words = command.words[1:]
    for i, w in enumerate(words):
        t = w.text
        if not t.startswith("-"):
            return None
        if t in ("-u", "--user") and i + 1 < len(words):
            return words[i + 1].text
        if t.startswith("--user="):
            return t[7:]
        if t.startswith("-u") and len(t) > 2 and not t.startswith("--"):
            return t[2:]
    return None


class SudoInRun(Rule):
    """`sudo` is used in a RUN instruction.

    Why: RUN steps already run as root unless a USER instruction changed that; sudo adds
    nothing but a dependency on sudo being installed and configured, and without a terminal it
    can stop the build at a password prompt or fail on `requiretty`. To run a step as root in a
    stage that switched to another user, put `USER root` before it and switch back after.

    Catches: `sudo` as the command of a RUN (also inside `sh -c` strings), in any stage.

    Leaves alone: `sudo -u <user>` to a non-root user (dropping privileges for one command, as
    `gosu` or `runuser` would); sudoers files edited with `echo ... >> /etc/sudoers`; `sudo`
    installed (see SL901).
    """

    id = "SL902"
    name = "sudo-in-run"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.WARNING
    refs = ("DL3004", "DKL-DI-0001")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            for c in run.commands:
                if c.name != "sudo":
                    continue
                user = _sudo_user(c)
                if user is not None and user not in ("root", "0", "#0"):
                    continue
                stage_user = _user_before(ctx, run.instruction)
                hint = (
                    "put `USER root` before this step (and switch back after) instead"
                    if stage_user not in (None, "root", "0")
                    else "drop it: the step already runs as root"
                )
                yield self.at_command(
                    ctx,
                    c,
                    f"`sudo` in RUN: build steps need no sudo and it can hang on a password prompt or fail "
                    f"without a terminal; {hint}",
                    word=c.words[0],
                )


def _user_before(ctx: CheckContext, instruction: Instruction) -> str | None:
    stage = ctx.stage_of.get(id(instruction))
    if stage is None:
        return None
    user: str | None = None
    for s in ctx.graph.image_chain(stage):
        for ins in s.instructions:
            if ins is instruction:
                return user.split(":", 1)[0] if user else None
            if ins.keyword == "USER" and ins.values:
                user = ins.values[0]
    return user


# ---------------------------------------------------------------------------------------------
# SL903 / SL904: curl and wget

_DOWNLOADERS = {"curl": CURL_DEBIAN_BYTES, "wget": WGET_DEBIAN_BYTES}


class DownloadToolKept(Rule):
    """curl or wget is installed to download something during the build and left in the image.

    Why: a download tool in the running container is what an attacker uses first to fetch a
    payload, and it brings its libraries (and their CVEs) along. When it was only needed to
    fetch something at build time, it can go.

    Catches: an OS package install of `curl` or `wget` in the final image that the same RUN
    then uses (so it served the build), or that a later RUN uses when the install holds only
    download helpers (`curl`, `wget`, `ca-certificates`, `gnupg`, `unzip`, `xz-utils`...),
    when nothing removes it afterwards and neither HEALTHCHECK, CMD nor ENTRYPOINT mentions it.

    Leaves alone: the tool removed in the same or a later RUN (`apt-get purge`, `apk del` of a
    `--virtual` group, the official images' `apt-mark auto '.*'` + `purge --auto-remove`
    pattern); a tool installed but never used by the build (it is there for run time); a
    health check or start command that uses it; a tool installed next to other packages in
    one RUN and used only by later RUNs (then it is as likely a runtime dependency: the
    official images' "persistent / runtime deps"), and any install under a comment calling its
    packages runtime ones; development environments (`.devcontainer/...`,
    `.gitpod.Dockerfile`); build stages. Reported as info: a start script the linter cannot
    read (or an orchestrator health check) may need it.

    estimated_bytes: for apt installs, the installed size on debian:bookworm-slim of the tool
    and the libraries it pulls in, from the package index: curl 12.0 MB (curl, libcurl4 and
    14 libraries), wget 3.7 MB. None for other package managers.
    """

    id = "SL903"
    name = "download-tool-kept"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.INFO
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if _DEV_ENVIRONMENT.search(ctx.path):
            return
        index: _RemovalIndex | None = None
        done: set[str] = set()
        for inst in os_installs(ctx):
            tool = inst.name
            if tool not in _DOWNLOADERS or tool in done:
                continue
            done.add(tool)
            uses = _uses(ctx, tool)
            if not uses:
                continue
            index = index or _RemovalIndex(ctx)
            start = index.position.get(id(inst.run), 0)
            later = [
                (run, c)
                for run, c in uses
                if index.position.get(id(run), -1) > start
                or (
                    run is inst.run
                    and c.start > inst.op.command.start
                    and c.script is inst.op.command.script
                )
            ]
            if not later or index.removed(inst) or _runtime_mentions(ctx, tool):
                continue
            same_run = any(run is inst.run for run, _c in later)
            if not same_run and not (
                _fetch_only(inst) and not _says_runtime(ctx, inst.run.instruction)
            ):
                # Used by a later RUN only: evidence of a build-time purpose when the install is
                # a fetch-only one; next to other packages it is as likely a runtime dependency.
                continue
            yield self.at_command(
                ctx,
                inst.op.command,
                f"`{tool}` is installed for downloads during the build and stays in the image, a ready-made "
                f"tool for an intruder: remove it after use in the same RUN, download with `ADD --checksum=...`, "
                "or download in a build stage (if nothing uses it at run time)",
                word=inst.word,
                estimated_bytes=_DOWNLOADERS[tool] if inst.op.manager == "apt" else None,
            )


# Packages installed together with a download tool to fetch and unpack something.
_FETCH_PACKAGES = frozenset({
    "curl", "wget", "ca-certificates", "gnupg", "gnupg2", "gpg", "dirmngr", "gpg-agent",
    "apt-transport-https", "software-properties-common", "lsb-release", "unzip", "zip", "xz-utils",
    "xz", "tar", "bzip2", "gzip", "openssl",
})  # fmt: skip
_RUNTIME_COMMENT = re.compile(r"\b(?:runtime|run-time|persistent)\b", re.IGNORECASE)


def _fetch_only(inst: Installed) -> bool:
    return all(
        not w.dynamic and package_name(inst.op.manager, w.text) in _FETCH_PACKAGES
        for w in inst.op.packages
    )


def _says_runtime(ctx: CheckContext, instruction: Instruction) -> bool:
    """Whether a comment above or inside the instruction calls its packages runtime ones."""
    if any(_RUNTIME_COMMENT.search(c.text) for c in instruction.comments):
        return True
    for ins, comments in ctx.doc.comments_before():
        if ins is instruction:
            return any(_RUNTIME_COMMENT.search(c.text) for c in comments)
    return False


class CurlAndWget(Rule):
    """Both curl and wget are used to build the final image.

    Why: two tools doing one job means two sets of libraries (and advisories) in the image and
    two behaviours to remember (redirects, retries, error codes). Pick one.

    Catches: RUN steps of the final image running both `curl` and `wget`; reported at the first
    use of the tool used second.

    Leaves alone: build stages (nothing of them reaches the final image unless copied),
    images using only one of them, and uses on some paths only (an `if`/`case` branch, the
    right side of `||`): a fallback for another architecture or a missing tool.
    """

    id = "SL904"
    name = "curl-and-wget"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.INFO
    refs = ("DL4001",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        first: dict[str, Command] = {}
        for run in ctx.final_runs():
            for c in run.commands:
                prog = c.program
                # A tool used on some paths only (an architecture's fallback branch, a
                # `command -v curl || ...` choice) does not make the image use both.
                if c.conditional:
                    continue
                if prog in ("curl", "wget") and prog not in first:
                    first[prog] = c
                    if len(first) == 2:
                        other = "curl" if prog == "wget" else "wget"
                        yield self.at_command(
                            ctx,
                            c,
                            f"both curl and wget are used to build this image: use `{other}` here too, and "
                            "install only one of them",
                            word=c.unwrapped()[0],
                        )
                        return


# ---------------------------------------------------------------------------------------------
# SL905: distroless opportunity

_DISTRO_BASES = frozenset({
    "debian", "ubuntu", "alpine", "centos", "rockylinux", "almalinux", "fedora", "amazonlinux",
    "oraclelinux", "busybox", "ubi", "ubi-minimal", "ubi8", "ubi9", "ubi8-minimal", "ubi9-minimal",
    "photon", "opensuse/leap", "leap",
})  # fmt: skip
# Commands a final stage may run that have a shell-free equivalent (COPY --chown/--chmod, a
# base with a nonroot user and CA certificates, a build stage).
_REPLACEABLE = frozenset({
    "apk", "apt-get", "apt", "update-ca-certificates", "adduser", "addgroup", "useradd", "groupadd",
    "mkdir", "chown", "chmod", "rm", "ln", "true", "set", "microdnf", "yum", "dnf",
})  # fmt: skip
_SAFE_PACKAGES = frozenset({"ca-certificates", "tzdata", "ca-certificates-bundle"})
_SCRIPT_SUFFIX = re.compile(r"\.(?:sh|bash|py|js|mjs|cjs|rb|pl|php|jar|war|lua|ts)$")
_INTERPRETERS = frozenset({
    "sh", "bash", "ash", "python", "python3", "node", "java", "ruby", "perl", "php", "dotnet",
    "tini", "dumb-init", "gosu", "su-exec", "nginx", "env", "exec",
})  # fmt: skip


class DistrolessOpportunity(Rule):
    """The final stage runs one binary from a build stage on a full distro base: distroless would do.

    Why: the binary needs none of the shell, package manager and utilities that a Debian,
    Ubuntu or Alpine base ships; they only give an intruder tools and give scanners packages
    to report. `gcr.io/distroless/static-debian12` (static binaries, e.g. Go with
    `CGO_ENABLED=0`), `gcr.io/distroless/cc-debian12` or `base-debian12` (binaries linked
    against glibc, e.g. Rust) or `scratch` hold CA certificates, tzdata and a nonroot user
    and little else.

    Catches: a final stage built FROM a distribution image (debian, ubuntu, alpine, centos,
    rockylinux, almalinux, fedora, amazonlinux, busybox, ubi) whose ENTRYPOINT/CMD, in JSON
    form, runs a file copied into it with `COPY --from`, that is not a script, when the stage's
    RUN steps do only what a distroless base already provides or COPY flags can do (install
    `ca-certificates`/`tzdata`, add a user, mkdir/chown/chmod) and no HEALTHCHECK needs a shell
    or a download tool. On musl bases (alpine, busybox) only when the stage the binary comes
    from visibly builds it statically (`CGO_ENABLED=0`, `-static`, a `*-linux-musl` target):
    a musl-linked binary would not run on distroless.

    Leaves alone: shell-form CMD/ENTRYPOINT, scripts and interpreters (`python app.py`,
    `java -jar`), entrypoints wrapped in tini/gosu, final stages that install other packages
    or run other commands, HEALTHCHECKs using curl/wget/a shell, bases that are already
    minimal (distroless, scratch, chainguard). Reported as info.
    """

    id = "SL905"
    name = "distroless-opportunity"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.INFO
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        target = ctx.target
        if target.parent is not None or len(ctx.stages) < 2:
            return
        base = base_image(ctx)
        if base is None or (
            base.name not in _DISTRO_BASES and base.repository not in _DISTRO_BASES
        ):
            return
        places = chain_places(ctx)
        entry: Instruction | None = None
        cmd: Instruction | None = None
        copied: dict[str, Instruction] = {}
        for place in places:
            ins = place.instruction
            kw = ins.keyword
            if kw == "ENTRYPOINT":
                entry, cmd = ins, None
            elif kw == "CMD":
                cmd = ins
            elif kw == "HEALTHCHECK":
                if (
                    not ins.json
                    and ins.args.split()[:1] != ["NONE"]
                    and not _exec_form_healthcheck(ins)
                ):
                    return
                if re.search(r"\b(?:curl|wget|sh|bash)\b", ins.args):
                    return
            elif kw == "RUN" and not _replaceable_run(ctx, ins):
                return
            elif kw in ("COPY", "ADD") and ins.flag("from") is not None and len(ins.values) >= 2:
                dest = expand(ins.values[-1], place.env)
                if dest is None:
                    continue
                dest_path = resolve(place.workdir, dest)
                if not dest_path:
                    continue
                for src in ins.values[:-1]:
                    if dest.endswith("/") or len(ins.values) > 2:
                        copied[resolve(dest_path, basename(src.rstrip("/")))] = ins
                    else:
                        copied[dest_path] = ins
                        copied[resolve(dest_path, basename(src.rstrip("/")))] = ins
            elif kw == "ONBUILD":
                return
        start = entry or cmd
        if start is None or not start.json or not start.values:
            return
        place = next(p for p in places if p.instruction is start)
        program = start.values[0]
        if "$" in program or _SCRIPT_SUFFIX.search(program) or basename(program) in _INTERPRETERS:
            return
        source = copied.get(resolve(place.workdir, program) or "?")
        if source is None:
            return
        if base.name in _MUSL_BASES and not _static_build(ctx, source):
            return  # likely linked against musl: distroless has no musl
        root = ctx.target_chain[0].from_instruction
        yield self.at_instruction(
            ctx,
            root,
            f"the final stage runs the single binary `{program}` on `{base.repository}`, whose shell and "
            "package manager it does not need: a distroless base (`gcr.io/distroless/static-debian12` for "
            "static binaries, `cc-debian12` for glibc-linked ones) or `scratch` removes them",
        )


_MUSL_BASES = frozenset({"alpine", "busybox"})
_STATIC_HINT = re.compile(
    r"CGO_ENABLED=0|-extldflags[= ]\S*-static|-static\b|linux-musl|\bstatic\b"
)


def _static_build(ctx: CheckContext, copy: Instruction) -> bool:
    """Whether the stage a binary is copied from visibly builds it statically (CGO_ENABLED=0,
    ``-static``, a musl Rust target)."""
    ref = copy.flag_values("from")
    stage = ctx.graph.find(ref[0]) if ref else None
    if stage is None:
        return False
    if ctx.env_at(stage).get("CGO_ENABLED") == "0":
        return True
    for s in ctx.graph.image_chain(stage):
        for ins in s.instructions:
            if ins.keyword in ("RUN", "ENV", "ARG") and _STATIC_HINT.search(ins.original):
                return True
    return False


def _exec_form_healthcheck(ins: Instruction) -> bool:
    words = ins.args.split(None, 1)
    return (
        bool(words)
        and words[0].upper() == "CMD"
        and len(words) > 1
        and words[1].lstrip().startswith("[")
    )


def _replaceable_run(ctx: CheckContext, ins: Instruction) -> bool:
    run = run_of(ctx, ins)
    if run is not None:
        if not run.shell_is_posix or not run.commands:
            return False
        for c in run.commands:
            if c.program not in _REPLACEABLE:
                return False
        for op in run.ops:
            if op.action == "install" and any(
                package_name(op.manager, w.text) not in _SAFE_PACKAGES for w in op.packages
            ):
                return False
        return True
    return False


# ---------------------------------------------------------------------------------------------
# SL906: SSH server

_SSH_SERVERS = re.compile(r"openssh-server|dropbear(?:-bin)?|ssh")
_SSH_SERVER_APK_ZYPPER = frozenset({"openssh"})


class SshServer(Rule):
    """An SSH server is installed in the image, or port 22 is exposed.

    Why: an SSH daemon is one more network service with credentials to steal or brute-force,
    keys to manage and a process to supervise next to the real one. `docker exec` (or
    `kubectl exec`) gives a shell in a running container without it.

    Catches, in the final image: an OS package install of `openssh-server`, `ssh` (Debian's
    metapackage with the server), `dropbear`, or `openssh` on Alpine and openSUSE (which
    includes the server), not removed later; otherwise `EXPOSE 22`.

    Leaves alone: SSH clients (`openssh-client`, `openssh-clients`), build stages. Images whose
    purpose is SSH (an SFTP or Git server) will want to silence this rule.
    """

    id = "SL906"
    name = "ssh-server"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.WARNING
    refs = ("DS-0004",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        index: _RemovalIndex | None = None
        for inst in os_installs(ctx):
            name = inst.name
            if not (
                (_SSH_SERVERS.fullmatch(name) and not (name == "ssh" and inst.op.manager != "apt"))
                or (name in _SSH_SERVER_APK_ZYPPER and inst.op.manager in ("apk", "zypper"))
            ):
                continue
            index = index or _RemovalIndex(ctx)
            if index.removed(inst):
                continue
            yield self.at_command(
                ctx,
                inst.op.command,
                f"`{inst.word.text}` installs an SSH server: another network service and set of credentials "
                "to attack; use `docker exec` to get a shell in a running container",
                word=inst.word,
            )
            return
        for ins in chain_instructions(ctx):
            if ins.keyword != "EXPOSE":
                continue
            for value in ins.values:
                port = value.split("/", 1)[0]
                if port == "22":
                    span = _word_span(ins, value)
                    yield self.at_offsets(
                        ctx,
                        span[0],
                        span[1],
                        "EXPOSE 22 advertises an SSH server: another network service and set of credentials "
                        "to attack; use `docker exec` to get a shell in a running container",
                    )
                    return


def _word_span(ins: Instruction, value: str) -> tuple[int, int]:
    for m in re.finditer(re.escape(value), ins.args):
        before = ins.args[m.start() - 1] if m.start() > 0 else " "
        after = ins.args[m.end()] if m.end() < len(ins.args) else " "
        if before.isspace() and after.isspace():
            span = ins.args_span(m.start(), m.end())
            return span.offset, span.end_offset
    span = ins.args_span()
    return span.offset, span.end_offset


# ---------------------------------------------------------------------------------------------
# SL907: setuid

_SYMBOLIC = re.compile(r"([ugoa]*)((?:[-+=][rwxXstugo]*)+)")


def _sets_setuid(mode: str) -> bool:
    """Whether a chmod mode sets the setuid bit (setgid alone is left alone)."""
    if re.fullmatch(r"[0-7]{1,5}", mode):
        return len(mode) >= 4 and bool(int(mode, 8) & 0o4000)
    for clause in mode.split(","):
        m = _SYMBOLIC.fullmatch(clause)
        if m is None:
            return False
        who = m.group(1)
        for op, perms in re.findall(r"([-+=])([rwxXstugo]*)", m.group(2)):
            if op != "-" and "s" in perms and (who == "" or "u" in who or "a" in who):
                return True
    return False


class SetuidFile(Rule):
    """A file is made setuid (`chmod u+s`, `chmod 4755`, `COPY --chmod=4755`).

    Why: a setuid program runs with its owner's privileges (root, in practice) whoever starts
    it: a flaw in it, or a way to make it run something else, is a privilege escalation to
    root inside the container. Images should remove setuid bits, not add them; a program that
    needs one privilege can get that capability (`setcap cap_net_bind_service=+ep`) instead.

    Catches, in the final image: `chmod` with a mode that sets the setuid bit (`u+s`, `+s`,
    `a+s`, `=s` with no `who`, octal `4xxx`/`6xxx`), `install -m 4xxx`, and `COPY`/`ADD
    --chmod` with such a mode.

    Leaves alone: setgid alone (`g+s`, `2775`), which is how shared directories keep their
    group; removing the bits (`chmod u-s`, `chmod a-s`, `find / -perm /6000 -exec chmod a-s`);
    modes from variables; build stages.
    """

    id = "SL907"
    name = "setuid-file"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.WARNING
    refs = ("CIS-DI-0008",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.final_runs():
            for c in run.commands:
                prog = c.program
                if prog == "chmod":
                    mode_word, targets = _chmod_mode(c.unwrapped()[1:])
                elif prog == "install":
                    mode_word, targets = _install_mode(c.unwrapped()[1:])
                else:
                    continue
                if mode_word is None or mode_word.dynamic or not _sets_setuid(mode_word.text):
                    continue
                what = ", ".join(targets[:3]) or "the file"
                yield self.at_command(
                    ctx,
                    c,
                    f"`{prog}` mode {mode_word.text} makes {what} setuid: whoever runs it gets its owner's "
                    "privileges (root); drop the bit, or grant the one capability it needs with setcap",
                    word=mode_word,
                )
        for ins in chain_instructions(ctx):
            if ins.keyword not in ("COPY", "ADD"):
                continue
            flag = ins.flag("chmod")
            if flag is None or flag.value is None or not _sets_setuid(flag.value):
                continue
            yield self.at_offsets(
                ctx,
                flag.span.offset,
                flag.span.end_offset,
                f"--chmod={flag.value} makes the copied files setuid: whoever runs them gets their owner's "
                "privileges (root); drop the bit, or grant the one capability needed with setcap",
            )


def _chmod_mode(words: list[Word]) -> tuple[Word | None, list[str]]:
    """The mode word and the targets of ``chmod [options] mode file...``."""
    mode: Word | None = None
    targets: list[str] = []
    for w in words:
        t = w.text
        if mode is None and (t.startswith("--") or re.fullmatch(r"-[RfvcHLP]+", t)):
            continue
        if mode is None:
            if t.startswith("-"):
                return None, []  # "-s", "-x": a mode that only removes bits
            mode = w
        else:
            targets.append(t)
    return mode, targets


def _install_mode(words: list[Word]) -> tuple[Word | None, list[str]]:
    mode: Word | None = None
    targets: list[str] = []
    skip = False
    for i, w in enumerate(words):
        if skip:
            skip = False
            continue
        t = w.text
        if t in ("-m", "--mode") and i + 1 < len(words):
            mode, skip = words[i + 1], True
        elif t.startswith("--mode="):
            mode = Word(t[7:], w.raw, w.start, w.end, w.dynamic)
        elif t in ("-o", "-g", "--owner", "--group", "-t", "--target-directory", "-S", "--suffix"):
            skip = True
        elif not t.startswith("-"):
            targets.append(t)
    return mode, targets[-1:] if len(targets) > 1 else targets
