"""layer-waste: bytes added in one layer and deleted or overwritten in a later one."""

from __future__ import annotations

import posixpath
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING

from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp, package_op
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.rules.build_tools import (
    OS_MANAGERS,
    Expander,
    Package,
    base_has_toolchain,
    estimate_debian_bytes,
    is_install,
    removals,
    virtual_name,
)
from slimline.dockerfile.rules.package_cache import (
    apk_cache_removals,
    commands_after,
    reads_apk_index,
    reads_apt_lists,
    refreshes_apk_index,
)
from slimline.dockerfile.shell import Command, Word, basename
from slimline.dockerfile.stages import Stage, substitute
from slimline.findings import Finding, Practice, Severity

if TYPE_CHECKING:
    from slimline.dockerfile.fixes import FixContext, FixResult


# Measured: /var/lib/apt/lists after `apt-get update` on Debian bookworm set up as the
# debian:bookworm image is (its docker-gzip-indexes setting keeps the amd64 main index
# lz4-compressed): 19,003,596 bytes. Ubuntu images keep uncompressed lists, so more.
APT_LISTS_BYTES = 19_000_000
# `useradd` without -l writes a record at offset UID x record size in /var/log/lastlog
# (struct lastlog on 64-bit glibc: 4-byte time, 32-byte line, 256-byte host = 292 bytes) and
# /var/log/faillog (struct faillog: 2 + 2 + 12 + 8 + 8 = 32 bytes). The files are sparse on
# disk but a layer tarball stores them in full.
LASTLOG_RECORD_BYTES = 292 + 32
# Reported from 10 MB of such files on, i.e. from UID 30,864 (65,532 gives 21 MB).
LASTLOG_THRESHOLD_BYTES = 10_000_000

_ARCHIVE_RE = re.compile(
    r".+\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|tar\.lz4|zip|7z|rar)",
    re.IGNORECASE,
)
# Archives that ADD extracts by itself when they come from the build context.
_ADD_EXTRACTS_RE = re.compile(
    r".+\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)", re.IGNORECASE
)
_SMALL_FILE_RE = re.compile(
    r".+\.(?:txt|sh|bash|ps1|py|rb|pl|js|mjs|cjs|ts|json|ya?ml|toml|ini|conf|cfg|cnf|xml"
    r"|properties|env|lock|md|rst|pem|crt|key|pub|asc|gpg|list|repo|service|html?|css|php"
    r"|template|tmpl|j2|patch|diff)"
    r"|\.[a-z0-9_-]*rc",  # run-control dotfiles: .npmrc, .yarnrc, .bashrc
    re.IGNORECASE,
)
_GLOB = frozenset("*?[")
# Files conventionally named without an extension: a source so named is a file, not a
# directory whose contents could land anywhere below the destination.
_PLAIN_FILE_NAMES = frozenset({
    "gemfile", "rakefile", "guardfile", "capfile", "podfile", "berksfile", "brewfile",
    "pipfile", "procfile", "makefile", "gnumakefile", "dockerfile", "containerfile",
    "jenkinsfile", "vagrantfile", "caddyfile", "justfile", "license", "licence", "copying",
    "notice", "readme", "authors", "changelog", "version", "codeowners",
})  # fmt: skip
_UNKNOWN_WORKDIR = "/\x00workdir"  # the base image's WORKDIR: relative paths resolve consistently
# Directories whose copies are too broad to claim every later path below them.
_BROAD = frozenset({
    "/", "/usr", "/usr/local", "/usr/share", "/usr/lib", "/usr/local/lib", "/usr/local/bin",
    "/usr/local/share", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/var", "/var/lib", "/opt",
    "/home", "/root", "/srv", "/tmp", "/var/tmp", "/run", "/mnt",
})  # fmt: skip
_GIT_CLONE_VALUE_OPTS = frozenset({
    "-b", "--branch", "--depth", "-c", "--config", "-o", "--origin", "--reference",
    "--separate-git-dir", "-j", "--jobs", "--filter", "--shallow-since", "--shallow-exclude",
    "-u", "--upload-pack", "--template", "--server-option", "--bundle-uri",
})  # fmt: skip
_CURL_VALUE_OPTS = frozenset({
    "-H", "--header", "-u", "--user", "-d", "--data", "--data-raw", "--data-binary", "-A",
    "--user-agent", "-e", "--referer", "-X", "--request", "-w", "--write-out", "-m",
    "--max-time", "--retry", "--retry-delay", "--retry-max-time", "--connect-timeout", "-x",
    "--proxy", "-b", "--cookie", "-c", "--cookie-jar", "-r", "--range", "-T", "--upload-file",
    "--cacert", "--capath", "--cert", "-E", "--key", "-F", "--form", "-K", "--config",
    "-z", "--time-cond", "--resolve", "--limit-rate", "-Y", "-y", "--proto", "--proto-redir",
})  # fmt: skip
_WGET_VALUE_OPTS = frozenset({
    "-t", "--tries", "-T", "--timeout", "-U", "--user-agent", "--header", "-e", "--execute",
    "-a", "--append-output", "-o", "--output-file", "-i", "--input-file", "--user",
    "--password", "--ca-certificate", "--certificate", "--private-key", "-w", "--wait",
    "-Q", "--quota", "--limit-rate", "-l", "--level",
})  # fmt: skip
_OUTPUT_LONG = frozenset({"--output", "--output-document"})
_DIR_LONG = frozenset({"--output-dir", "--directory-prefix"})
_CURL_SHORT_VALUES = frozenset("oudHAeXwmxbcrTEFKzYyCPQt")
_WGET_SHORT_VALUES = frozenset("OoaPtTUeiwQlBDIXRA")
_USERADD_VALUE_LETTERS = frozenset("bcdefgGkKpPRsuZ")
# Dependency installs, with the manifest files that should be copied before them.
_DEPENDENCY_MANIFESTS = {
    "npm": "package.json and package-lock.json",
    "yarn": "package.json and yarn.lock",
    "pnpm": "package.json and pnpm-lock.yaml",
    "go": "go.mod and go.sum",
    "bundle": "Gemfile and Gemfile.lock",
    "composer": "composer.json and composer.lock",
    "poetry": "pyproject.toml and poetry.lock",
    "pipenv": "Pipfile and Pipfile.lock",
    "uv": "pyproject.toml and uv.lock",
    "mix": "mix.exs and mix.lock",
    "dotnet": "the project files (*.csproj)",
    "mvn": "pom.xml",
    "cargo": "Cargo.toml and Cargo.lock",
}
# Caches of the dependency managers, where a cache mount makes a re-run cheap.
_DEPENDENCY_CACHES = {
    "pip": ("/root/.cache",), "uv": ("/root/.cache",), "poetry": ("/root/.cache",),
    "pipenv": ("/root/.cache",), "npm": ("/root/.npm",),
    "yarn": ("/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/root/.yarn"),
    "pnpm": ("/root/.local/share/pnpm", "/pnpm"), "go": ("/go/pkg/mod", "/root/go/pkg/mod"),
    "bundle": ("/usr/local/bundle", "/root/.bundle"), "composer": ("/root/.composer", "/tmp/cache"),
    "mix": ("/root/.hex", "/root/.mix"), "dotnet": ("/root/.nuget",), "mvn": ("/root/.m2",),
    "cargo": ("/usr/local/cargo/registry",),
}  # fmt: skip


# --- Tracking what the final image's layers contain ------------------------------------


@dataclass(slots=True)
class Artifact:
    """Something an instruction put in a layer, as far as the Dockerfile tells."""

    path: str  # absolute and normalised
    kind: str  # copy, archive, download, clone, apt-lists, apk-cache, pip-cache, npm-cache...
    instruction: Instruction
    tree: bool  # a directory whose content is unknown: a later path under it counts too
    command: Command | None = None  # the RUN command that created it
    source: str = ""  # the COPY/ADD source or the download URL


@dataclass(slots=True)
class Scope:
    workdir: str = _UNKNOWN_WORKDIR
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None

    def home(self) -> str | None:
        user = (self.user or "root").split(":", 1)[0]
        return "/root" if user in ("root", "0") else None

    def resolve(self, text: str, cwd: str | None = None) -> str | None:
        """An absolute path for ``text``, or None when a variable has no known value."""
        if "$" in text:
            text, ok = substitute(text, self.env)
            if not ok or "$" in text or "`" in text:
                return None
        if text.startswith("~"):
            home = self.home()
            if home is None or not (text == "~" or text.startswith("~/")):
                return None
            text = home + text[1:]
        if not text:
            return None
        base = cwd if cwd is not None else self.workdir
        path = posixpath.normpath(posixpath.join(base, text))
        return "/" + path.lstrip("/") if path.startswith("/") else None


def walk(ctx: CheckContext, stages: list[Stage]) -> Iterator[tuple[Instruction, Scope]]:
    """The instructions of ``stages`` (a FROM chain) with the WORKDIR, ENV/ARG and USER in
    effect before each; ONBUILD triggers are not followed."""
    scope = Scope(env={k: v for k, v in ctx.graph.global_args.items() if v is not None})
    for stage in stages:
        for ins in stage.instructions:
            yield ins, scope
            kw = ins.keyword
            if kw == "WORKDIR" and ins.values:
                resolved = scope.resolve(ins.values[0])
                scope.workdir = resolved if resolved is not None else _UNKNOWN_WORKDIR + "?"
            elif kw == "ENV" and len(ins.values) % 2 == 0:
                for k, v in zip(ins.values[::2], ins.values[1::2], strict=True):
                    value, ok = substitute(_unquote(v), scope.env)
                    scope.env[k] = value if ok else _unquote(v)
            elif kw == "ARG":
                for word in ins.values:
                    name, eq, value = word.partition("=")
                    if eq:
                        scope.env.setdefault(name, _unquote(value))
            elif kw == "USER" and ins.values:
                scope.user = ins.values[0]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in ("'", '"'):
        return value[1:-1]
    return value


def copy_parts(ins: Instruction) -> tuple[list[str], str] | None:
    """(sources, destination) of a COPY or ADD; None for heredoc-only or malformed ones."""
    values = list(ins.values)
    if len(values) < 2:
        return None
    sources = [s for s in values[:-1] if not s.startswith("<<")]
    if not sources:
        return None
    return sources, values[-1]


def copy_artifacts(ins: Instruction, scope: Scope) -> list[Artifact]:
    parts = copy_parts(ins)
    if parts is None:
        return []
    sources, dest_text = parts
    dest = scope.resolve(dest_text)
    if dest is None:
        return []
    # A destination that exists as a directory takes the source inside it whatever its
    # spelling: `ADD https://.../s6-overlay.tar.xz /tmp` writes /tmp/s6-overlay.tar.xz.
    into_dir = (
        dest_text.endswith("/")
        or len(sources) > 1
        or dest_text in (".", "..")
        or dest in _BROAD
        or dest == scope.workdir
    )
    is_add = ins.keyword == "ADD"
    out: list[Artifact] = []
    for src in sources:
        url = "://" in src or src.startswith("git@")
        name = basename(src.rstrip("/")) if not url else src.rstrip("/").rsplit("/", 1)[-1]
        if "$" in name:
            # `ADD .../s6-overlay-${S6_ARCH}.tar.xz /tmp/`: named as the RUN that uses it sees it.
            expanded, ok = substitute(name, scope.env)
            if ok and "$" not in expanded:
                name = expanded
        looks_dir = (
            src in (".", "./", "*", "./*")
            or src.endswith("/")
            or (not url and "." not in name and name.lower() not in _PLAIN_FILE_NAMES)
        )
        if is_add and not url and _ADD_EXTRACTS_RE.fullmatch(src) and ins.flag("from") is None:
            out.append(Artifact(dest, "copy", ins, tree=True, source=src))
            continue
        if any(c in name for c in _GLOB) or looks_dir:
            out.append(Artifact(dest, "copy", ins, tree=True, source=src))
            continue
        path = posixpath.join(dest, name) if into_dir else dest
        kind = "archive" if _ARCHIVE_RE.fullmatch(name) else "copy"
        out.append(Artifact(path, kind, ins, tree=False, source=src))
    return out


@lru_cache(maxsize=4096)
def _components(path: str) -> tuple[str, ...]:
    # Cached: every removal is compared with every earlier artifact of the image.
    return tuple(p for p in path.split("/") if p)


def removes(pattern: str, artifact: Artifact) -> bool:
    """Whether deleting ``pattern`` (a path, possibly with a glob) deletes some of ``artifact``."""
    pat = _components(pattern)
    art = _components(artifact.path)
    n = min(len(pat), len(art))
    for a, p in zip(art[:n], pat[:n], strict=True):
        if a != p and not (_GLOB & set(p) and fnmatchcase(a, p)):
            return False
    if len(art) >= len(pat):
        return True  # the artifact is the pattern or lies under it
    return artifact.tree and artifact.path not in _BROAD


def covers(pattern: str, artifact: Artifact) -> bool:
    """Whether deleting ``pattern`` deletes all of ``artifact``."""
    return removes(pattern, artifact) and len(_components(artifact.path)) >= len(
        _components(pattern)
    )


def _small(artifact: Artifact) -> bool:
    """A single script, text or configuration file: deleting or re-owning it wastes little."""
    return not artifact.tree and _SMALL_FILE_RE.fullmatch(basename(artifact.path)) is not None


def _is_archive(artifact: Artifact) -> bool:
    return artifact.kind == "archive" or (
        artifact.kind == "download" and _ARCHIVE_RE.fullmatch(basename(artifact.path)) is not None
    )


@dataclass(slots=True)
class Removal:
    command: Command
    word: Word | None
    path: str
    cwd: str
    written_here: bool = False  # an earlier command of the same RUN writes this path


@dataclass(slots=True)
class RunPaths:
    removals: list[Removal]
    created: list[Artifact]
    extracted: list[tuple[Command, str]]  # (tar/unzip command, archive path)


_RUN_PATHS: weakref.WeakKeyDictionary[CheckContext, dict[int, RunPaths]] = (
    weakref.WeakKeyDictionary()
)


def run_paths(ctx: CheckContext, run: RunStep, scope: Scope) -> RunPaths:
    """What a RUN deletes, downloads, clones and extracts, with paths made absolute (computed
    once per RUN: several rules walk the same final image)."""
    per_file = _RUN_PATHS.setdefault(ctx, {})
    cached = per_file.get(run.index)
    if cached is None:
        cached = per_file[run.index] = _run_paths(ctx, run, scope)
    return cached


def _run_paths(ctx: CheckContext, run: RunStep, scope: Scope) -> RunPaths:
    out = RunPaths([], [], [])
    cwd = scope.workdir
    written: list[str] = []
    for command in run.commands:
        words = command.unwrapped()
        if not words:
            continue
        prog = basename(words[0].text)
        args = words[1:]
        written += _written_paths(command, prog, args, scope, cwd)
        if prog == "cd" and args:
            target = scope.resolve(args[0].text, cwd) if not args[0].text.startswith("-") else None
            cwd = target if target is not None else _UNKNOWN_WORKDIR + "?"
        elif prog == "rm":
            end_of_options = False
            for w in args:
                if not end_of_options and w.text == "--":
                    end_of_options = True
                    continue
                if not end_of_options and w.text.startswith("-"):
                    continue
                path = scope.resolve(w.text, cwd)
                if path is not None and not run.cache_mounted(path):
                    here = any(path == p or path.startswith(p + "/") for p in written)
                    out.removals.append(Removal(command, w, path, cwd, here))
        elif prog in ("curl", "wget"):
            out.created += _downloads(run, command, prog, args, scope, cwd)
        elif prog == "git" and len(args) >= 2 and args[0].text == "clone":
            clone = _clone(run, command, args[1:], scope, cwd)
            if clone is not None:
                out.created.append(clone)
        elif prog in ("tar", "bsdtar"):
            archive = _tar_archive(args)
            if archive is not None:
                path = scope.resolve(archive, cwd)
                if path is not None:
                    out.extracted.append((command, path))
        elif prog in ("unzip", "7z", "7za", "gunzip", "bunzip2", "unxz", "unzstd"):
            target = _first_operand(args, skip=1 if prog.startswith("7z") else 0)
            if target is not None:
                path = scope.resolve(target, cwd)
                if path is not None:
                    out.extracted.append((command, path))
        out.removals += _cleans(command, prog, args, scope)
    out.created += _package_caches(ctx, run, scope, out.removals)
    return out


_WRITERS = frozenset({"mkdir", "touch", "ln", "cp", "mv", "install", "rsync", "tee"})
_CLEANERS = frozenset({"yum", "dnf", "microdnf", "apk", "npm"})


def _written_paths(
    command: Command, prog: str, args: list[Word], scope: Scope, cwd: str
) -> list[str]:
    """Paths a command creates or overwrites, for the common file commands."""
    texts: list[str] = [t for op, t in command.redirects if op in (">", ">>", ">|")]
    if prog not in _WRITERS:
        return [p for t in texts if (p := scope.resolve(t, cwd)) is not None] if texts else []
    operands = [w.text for w in args if not w.text.startswith("-")]
    if prog in ("mkdir", "touch"):
        texts += operands
    elif prog in ("ln", "cp", "mv", "install", "rsync") and len(operands) >= 2:
        texts.append(operands[-1])
    elif prog == "tee":
        texts += operands
    out = []
    for text in texts:
        path = scope.resolve(text, cwd)
        if path is not None:
            out.append(path)
    return out


def _first_operand(args: list[Word], skip: int = 0) -> str | None:
    operands = [w.text for w in args if not w.text.startswith("-")]
    return operands[skip] if len(operands) > skip else None


def _tar_archive(args: list[Word]) -> str | None:
    """The archive a ``tar`` extraction reads, if it names one."""
    texts = [w.text for w in args]
    if not texts:
        return None
    first = texts[0]
    extract = any(
        t in ("--extract", "--get") or (t.startswith("-") and not t.startswith("--") and "x" in t)
        for t in texts
    ) or (not first.startswith("-") and "x" in first and first.isalpha())
    if not extract:
        return None
    for i, t in enumerate(texts):
        if t.startswith("--file="):
            return t[len("--file=") :]
        if t == "--file" and i + 1 < len(texts):
            return texts[i + 1]
        cluster = t[1:] if t.startswith("-") and not t.startswith("--") else (t if i == 0 else "")
        if cluster and cluster.isalnum() and "f" in cluster:
            rest = cluster[cluster.index("f") + 1 :]
            if rest and t.startswith("-"):
                return rest
            if i + 1 < len(texts):
                return texts[i + 1]
    return None


def _downloads(
    run: RunStep, command: Command, prog: str, args: list[Word], scope: Scope, cwd: str
) -> list[Artifact]:
    curl = prog == "curl"
    long_values = _CURL_VALUE_OPTS if curl else _WGET_VALUE_OPTS
    short_values = _CURL_SHORT_VALUES if curl else _WGET_SHORT_VALUES
    output: str | None = None
    directory: str | None = None
    remote_name = not curl
    urls: list[str] = []
    i = 0
    while i < len(args):
        t = args[i].text
        nxt = args[i + 1].text if i + 1 < len(args) else None
        if t.startswith("--"):
            name, eq, value = t.partition("=")
            if not eq and name in _OUTPUT_LONG | _DIR_LONG | long_values:
                value, i = nxt or "", i + 1
            if name in _OUTPUT_LONG and (curl or name != "--output"):
                output = value
            elif name in _DIR_LONG:
                directory = value
            elif name == "--remote-name" and curl:
                remote_name = True
        elif t.startswith("-") and len(t) > 1 and not (not curl and t.startswith("-n")):
            for k, letter in enumerate(t[1:], start=1):
                if curl and letter == "O":
                    remote_name = True
                    continue
                if letter not in short_values:
                    continue
                value = t[k + 1 :]
                if not value:
                    value, i = nxt or "", i + 1
                if letter == ("o" if curl else "O"):
                    output = value
                elif not curl and letter == "P":
                    directory = value
                break
        elif "://" in t:
            urls.append(t)
        i += 1
    for op, target in command.redirects:
        if op in (">", ">|") and target:
            output = target
    if output in ("-", "/dev/null", "/dev/stdout", ""):
        return []
    base = cwd
    if directory is not None:
        resolved_dir = scope.resolve(directory, cwd)
        if resolved_dir is None:
            return []
        base = resolved_dir
    paths: list[str] = []
    if output is not None:
        resolved = scope.resolve(output, base)
        if resolved is not None:
            paths.append(resolved)
    elif remote_name:
        for url in urls:
            name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            if name and "$" not in name and "://" not in name:
                paths.append(posixpath.join(base, name))
    source = urls[0] if urls else ""
    return [
        Artifact(p, "download", run.instruction, tree=False, command=command, source=source)
        for p in paths
        if not run.cache_mounted(p)
    ]


def _clone(
    run: RunStep, command: Command, args: list[Word], scope: Scope, cwd: str
) -> Artifact | None:
    operands: list[str] = []
    i = 0
    while i < len(args):
        t = args[i].text
        if t in _GIT_CLONE_VALUE_OPTS:
            i += 2
            continue
        if not t.startswith("-"):
            operands.append(t)
        i += 1
    if not operands:
        return None
    url = operands[0]
    target = (
        operands[1] if len(operands) > 1 else url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    )
    target = target.removesuffix(".git")
    path = scope.resolve(target, cwd)
    if path is None or path in _BROAD or run.cache_mounted(path):
        return None
    return Artifact(path, "clone", run.instruction, tree=True, command=command, source=url)


# Package-manager caches a RUN leaves unless it cleans them: (path, kind).
def _package_caches(
    ctx: CheckContext, run: RunStep, scope: Scope, removed: list[Removal]
) -> list[Artifact]:
    wanted: list[tuple[str, str, Command]] = []
    home = scope.home()
    env = scope.env
    for op in run.ops:
        if op.manager == "apt" and op.action == "update":
            wanted.append(("/var/lib/apt/lists", "apt-lists", op.command))
        elif (
            op.manager == "apk" and op.action in ("update", "install") and not op.has("--no-cache")
        ):
            wanted.append(("/var/cache/apk", "apk-cache", op.command))
        elif op.manager == "dnf" and op.action in ("install", "update", "upgrade", "makecache"):
            wanted.append(
                (f"/var/cache/{'yum' if op.tool == 'yum' else 'dnf'}", "dnf-cache", op.command)
            )
        elif (
            op.manager == "pip"
            and op.action == "install"
            and home is not None
            and not op.has("--no-cache-dir")
            and env.get("PIP_NO_CACHE_DIR", "").lower()
            not in ("1", "true", "on", "yes", "off", "0")
            and op.tool not in ("uv pip", "poetry", "pipenv", "pipx")
        ):
            wanted.append((f"{home}/.cache/pip", "pip-cache", op.command))
        elif op.manager == "npm" and op.action in ("install", "ci") and home is not None:
            wanted.append((f"{home}/.npm", "npm-cache", op.command))
    out: list[Artifact] = []
    for path, kind, command in wanted:
        if run.cache_mounted(path) or any(path == a.path for a in out):
            continue
        artifact = Artifact(path, kind, run.instruction, tree=True, command=command)
        if any(removes(r.path, artifact) for r in removed):
            continue
        out.append(artifact)
    return out


def _cleans(command: Command, prog: str, args: list[Word], scope: Scope) -> list[Removal]:
    """Cache clean-up commands, as the paths they delete."""
    if prog not in _CLEANERS and not prog.startswith("pip"):
        return []
    texts = [w.text for w in args]
    home = scope.home()
    paths: list[str] = []
    if prog in ("yum", "dnf", "microdnf") and texts[:1] == ["clean"]:
        paths = ["/var/cache/yum", "/var/cache/dnf"]
    elif prog == "apk" and texts[:2] == ["cache", "clean"]:
        paths = ["/var/cache/apk"]
    elif prog == "npm" and texts[:2] == ["cache", "clean"] and home is not None:
        paths = [f"{home}/.npm"]
    elif re.fullmatch(r"pip3?(\.\d+)?", prog) and texts[:2] == ["cache", "purge"] and home:
        paths = [f"{home}/.cache/pip"]
    return [Removal(command, None, p, "/") for p in paths]


# --- The rules -------------------------------------------------------------------------


_UPDATE_HINTS = {
    "apt": "run `apt-get update && apt-get install -y ... && rm -rf /var/lib/apt/lists/*` in one RUN",
    "apk": "drop it and use `apk add --no-cache`, which fetches a fresh index without keeping it",
    "dnf": "refresh the metadata in the RUN that installs, followed by `{tool} clean all`",
    "zypper": "refresh in the RUN that installs, followed by `zypper clean --all`",
}


class UpdateAlone(Rule):
    """A package index update runs alone in its RUN, apart from the install that needs it.

    Why: ``RUN apt-get update`` on its own line is cached as a layer of its own. When a
    later ``RUN apt-get install`` changes, the build reuses the old, cached index: packages
    may be stale or fail to download. The index also stays in that layer even if a later RUN
    deletes it (about 19 MB for Debian bookworm). Update, install and clean up in one RUN.

    Catches: ``apt-get update`` (also ``apt``, ``aptitude``), ``apk update``, ``yum``/``dnf
    makecache`` and ``zypper refresh`` in a RUN with no install, upgrade or ``build-dep``
    by the same package manager, in any stage (the stale-cache problem is the same in build
    stages).

    Leaves alone: RUNs that also install or upgrade with that manager, and RUNs that run a
    script or pipe into a shell, which may install (``apt-get update && ./install.sh``,
    nodesource setup scripts).

    estimated_bytes: for apt in a stage that reaches the final image, the size of
    /var/lib/apt/lists after ``apt-get update`` in a debian:bookworm image, measured at
    19,003,596 bytes; otherwise unknown.
    """

    id = "SL601"
    name = "update-alone"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    refs = ("CIS-DI-0007", "DS-0017")
    fixable = True
    fix_priority = 10  # merged first: the cache rules then see the install's RUN

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            updates = [op for op in run.ops if _is_index_update(op)]
            if not updates or _runs_script(run):
                continue
            for op in updates:
                if any(
                    o.manager == op.manager and o.action in _USES_INDEX
                    for o in run.ops
                    if o is not op
                ):
                    continue
                estimate = None
                if op.manager == "apt" and ctx.in_final_image(run.stage):
                    estimate = APT_LISTS_BYTES
                # Options may come first: `apt-get -y update` reads as `apt-get update`.
                invoked = f"{op.tool} {op.raw_action}"
                hint = _UPDATE_HINTS[op.manager].format(tool=op.tool)
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`{invoked}` alone in its RUN: a later install reuses this cached, possibly"
                    f" stale index, and the index stays in this layer; {hint}",
                    estimated_bytes=estimate,
                )
                break

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """apt: the update moves into the next RUN of the stage that installs with apt (or is
        dropped when that RUN updates itself). apk and dnf fetch their index when they need
        it: the update is dropped (apk only when no later step reads a kept index)."""
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.packages import (
            describe,
            first_dependant,
            guard_branches,
            located_op,
        )
        from slimline.dockerfile.fixes.shell_edits import (
            command_text,
            editable_script,
            insert_before,
            remove_commands,
        )

        run, op = located_op(ctx, finding)
        if run.instruction.flags:
            raise Unfixable("the update's RUN has its own flags (--mount, --network...)")
        label = f"`{op.tool} {op.raw_action}`"
        reads = {"apt": reads_apt_lists, "apk": reads_apk_index}.get(op.manager)
        for command in commands_after(run, op.command):
            if reads is not None and reads(command, package_op(command)):
                raise Unfixable(f"{describe(run, command)} reads what {label} fetches")
        if op.manager == "zypper":
            raise Unfixable("zypper may not refresh repositories on its own; merge it by hand")
        if op.manager == "apk":
            dependant = first_dependant(ctx, run, reads_apk_index, refreshes_apk_index)
            if dependant is not None:
                raise Unfixable(f"{describe(*dependant)} uses the index it fetches")
        if op.manager in ("apk", "dnf"):
            dropped = [op.command]
            if op.manager == "apk":
                dropped += apk_cache_removals(ctx, run)
            edits = remove_commands(ctx, run, dropped)
            return FixResult.of(edits, f"dropped {label}: the install fetches the index itself")
        target = _next_apt_install(ctx, run)
        ops = target.ops_of("apt")
        first = next(o for o in ops if o.action in _USES_INDEX)
        edits = remove_commands(ctx, run, [op.command])
        if any(
            o.action == "update" and o.command.start < first.command.start
            for o in ops
            if o.command.script is first.command.script
        ):
            return FixResult.of(
                edits, f"dropped {label}: the RUN at line {target.instruction.line} updates itself"
            )
        editable_script(target)
        guard_branches(target, "apt")
        edits.append(insert_before(ctx, target, first.command, command_text(op.command)))
        return FixResult.of(edits, f"moved {label} into the RUN at line {target.instruction.line}")


_APT_CONFIG_ENV = frozenset({"http_proxy", "https_proxy", "no_proxy", "all_proxy", "apt_config"})


def _next_apt_install(ctx: FixContext, run: RunStep) -> RunStep:
    """The next RUN of the stage that installs with apt, when nothing between them may change
    what the update would see or how it runs."""
    from slimline.dockerfile.fixes import Unfixable

    inside = False
    for ins in run.stage.instructions:
        if ins is run.instruction:
            inside = True
            continue
        if not inside:
            continue
        where = f"{ins.keyword} at line {ins.line}"
        later = ctx.check.run_of(ins)
        if later is not None and any(
            o.manager == "apt" and o.action in _USES_INDEX for o in later.ops
        ):
            return later
        if ins.keyword in ("USER", "SHELL", "ONBUILD"):
            raise Unfixable(f"{where} sits between the update and the install")
        if ins.keyword in ("COPY", "ADD") and ins.values and ins.values[-1].startswith("/etc"):
            raise Unfixable(f"{where} may change apt's configuration")
        if ins.keyword in ("ENV", "ARG") and any(
            v.split("=", 1)[0].lower() in _APT_CONFIG_ENV for v in ins.values
        ):
            raise Unfixable(f"{where} may change how apt downloads")
        if later is not None and (
            _runs_script(later)
            or later.ops_of("apt")
            or any("/etc/apt" in s.text or "apt-key" in s.text for s in later.scripts)
        ):
            raise Unfixable(f"the RUN at line {ins.line} may change apt's sources")
    raise Unfixable("no later RUN of this stage installs with apt")


_USES_INDEX = frozenset(
    {"install", "upgrade", "dist-upgrade", "build-dep", "reinstall", "source", "download",
     "groupinstall", "group", "dup", "patch", "update-all"}
)  # fmt: skip


def _is_index_update(op: PackageOp) -> bool:
    if op.manager in ("apt", "apk"):
        return op.action == "update"
    if op.manager == "dnf":
        return op.action == "makecache"
    if op.manager == "zypper":
        return op.action in ("refresh", "ref")
    return False


_SCRIPT_RUNNERS = frozenset(
    {
        "sh",
        "bash",
        "dash",
        "ash",
        "zsh",
        "xargs",
        "source",
        ".",
        "make",
        "eval",
        "python",
        "python3",
    }
)
_PACKAGE_TOOLS = frozenset(
    {"apt-get", "apt", "aptitude", "apk", "yum", "dnf", "microdnf", "zypper"}
)


def _runs_script(run: RunStep) -> bool:
    """Whether the RUN runs a script or a program that may install packages itself."""
    for command in run.commands:
        words = command.unwrapped()
        if not words:
            continue
        prog = words[0].text
        name = basename(prog)
        if prog.startswith("./") or name.endswith(".sh") or name in _SCRIPT_RUNNERS:
            return True
        if "/" in prog and name not in _PACKAGE_TOOLS:
            return True
    return False


class DeletedInLaterLayer(Rule):
    """A file is deleted in a later RUN than the one (or the COPY/ADD) that put it in the image.

    Why: every instruction adds a layer and layers only add: deleting a file in a later RUN
    hides it but its bytes stay in the layer that added it, downloaded with every pull.
    Delete temporary files in the same RUN that creates them, keep them out of the image
    (``.dockerignore``, copying only what is needed, ``RUN --mount=type=bind``) or produce
    them in a build stage.

    Catches, in the stages whose layers make the final image: ``rm`` of a path that an
    earlier COPY or ADD added (or that lies in a directory it copied), that an earlier RUN
    downloaded (``curl -o``/``-O``, ``wget``) or cloned (``git clone``), and of package
    caches an earlier RUN left (apt lists, /var/cache/apk, yum/dnf caches, ~/.cache/pip,
    ~/.npm), including ``yum clean all``, ``npm cache clean`` and ``pip cache purge`` run in a
    later RUN. Paths are resolved against WORKDIR, ``cd`` and ENV/ARG values. One finding
    per deleted path.

    Leaves alone: deletions in the same RUN, and paths that the deleting RUN itself writes
    first (``ln -s``, ``mkdir``, ``cp``...); the scratch directories of a copied tree
    (``tmp/``, ``log/``, ``.cache/``) emptied after a build step of the same RUN
    (``rails assets:precompile && rm -rf tmp/* log/*``): what the step wrote there; build
    stages; paths in cache, tmpfs or bind mounts; files of the base image (the Dockerfile does not say what they are); single
    scripts, text and configuration files (``install.sh``, ``requirements.txt``, ``.npmrc``:
    little to gain); archives that are copied and extracted in a later RUN, which SL606 reports at the
    copy.

    estimated_bytes: for apt lists, 19,003,596 bytes measured after ``apt-get update`` on
    Debian bookworm (set up as the debian:bookworm image is), unless the lists came from an
    update that runs alone, which SL601 already counts; otherwise unknown.
    """

    id = "SL602"
    name = "deleted-in-later-layer"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    refs = ()

    fixable = True
    fix_priority = 20  # a moved clean-up also settles the cache rules' findings on its RUN

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for deletion in self._deletions(ctx):
            if deletion.finding is not None:
                yield deletion.finding

    def _deletions(self, ctx: CheckContext) -> Iterator[_Deletion]:
        """Every removal in the final image's RUNs, with what it deletes and the finding it
        makes (None for removals that are not reported)."""
        if not _has_removal(ctx):
            return
        runs = _runs_by_instruction(ctx)
        artifacts: list[Artifact] = []
        for ins, scope in walk(ctx, ctx.target_chain):
            if ins.keyword in ("COPY", "ADD"):
                artifacts += copy_artifacts(ins, scope)
                continue
            if ins.keyword != "RUN":
                continue
            run = runs.get(id(ins))
            if run is None:
                continue
            paths = run_paths(ctx, run, scope)
            extracted = {p for _, p in paths.extracted}
            for removal in paths.removals:
                if removal.written_here:
                    yield _Deletion(run, removal, None, None)
                    continue
                hit = next((a for a in reversed(artifacts) if removes(removal.path, a)), None)
                if hit is None:
                    yield _Deletion(run, removal, None, None)
                    continue
                artifacts = [a for a in artifacts if not covers(removal.path, a)]
                if (
                    (hit.path in extracted and _is_archive(hit))  # SL606 reports those
                    or _small(hit)
                    or _scratch_cleanup(run, removal, hit)
                ):
                    yield _Deletion(run, removal, hit, None)
                    continue
                finding = self.at_command(
                    ctx,
                    removal.command,
                    _deleted_message(removal, hit),
                    word=removal.word,
                    estimated_bytes=_deleted_estimate(ctx, hit),
                )
                yield _Deletion(run, removal, hit, finding)
            artifacts = [a for a in artifacts if not (_is_archive(a) and a.path in extracted)]
            artifacts += paths.created

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """Move the clean-up into the RUN that created the files, when both are in the same
        stage, the command deletes only what that RUN created (by absolute paths), and no
        step in between may read the files."""
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.shell_edits import (
            append_command,
            command_text,
            remove_commands,
        )

        deletions = list(self._deletions(ctx.check))
        current = next(
            (
                d
                for d in deletions
                if d.finding is not None
                and (d.finding.line, d.finding.column) == (finding.line, finding.column)
            ),
            None,
        )
        if current is None or current.hit is None:
            raise Unfixable("cannot find the deletion again")
        hit, command, later = current.hit, current.removal.command, current.run
        creator = ctx.check.run_of(hit.instruction)
        if creator is None:
            raise Unfixable(
                f"{hit.instruction.keyword} at line {hit.instruction.line} added the files: keep "
                "them out of the build context (.dockerignore) or copy only what is needed"
            )
        if creator.stage is not later.stage:
            raise Unfixable("the files come from the stage this one is built on")
        if any(
            d.removal.command is command
            and (d.finding is None or d.hit is None or d.hit.instruction is not hit.instruction)
            for d in deletions
        ):
            raise Unfixable(
                f"the command deletes more than what the RUN at line {hit.instruction.line} created"
            )
        if command.program == "rm":
            for word in command.unwrapped()[1:]:
                if word.text.startswith("-"):
                    continue
                if word.dynamic or not word.text.startswith("/"):
                    raise Unfixable(f"`{word.text}` is relative or uses a variable")
        _check_between(ctx, creator, later, current.removal.path, hit)
        text = command_text(command)
        edits = [*remove_commands(ctx, later, [command]), append_command(ctx, creator, text)]
        return FixResult.of(
            edits, f"moved `{text}` into the RUN at line {creator.instruction.line}"
        )


@dataclass(slots=True)
class _Deletion:
    run: RunStep
    removal: Removal
    hit: Artifact | None  # what it deletes, when an earlier step of the image created it
    finding: Finding | None


def _check_between(
    ctx: FixContext, creator: RunStep, later: RunStep, path: str, hit: Artifact
) -> None:
    """Refuse when an instruction between the two RUNs may read the deleted files."""
    from slimline.dockerfile.fixes import Unfixable

    inside = False
    name = basename(path.rstrip("/*")) or path
    for ins in creator.stage.instructions:
        if ins is creator.instruction:
            inside = True
            continue
        if ins is later.instruction:
            return
        if not inside:
            continue
        where = f"{ins.keyword} at line {ins.line}"
        if ins.keyword in ("VOLUME", "SHELL", "ONBUILD"):
            raise Unfixable(f"{where} sits between the two RUNs")
        if ins.keyword in ("COPY", "ADD"):
            if any(
                path.startswith(v.rstrip("/")) or v.rstrip("/").startswith(path.rstrip("/*"))
                for v in ins.values[-1:]
            ):
                raise Unfixable(f"{where} writes next to the deleted files")
            continue
        run = ctx.check.run_of(ins)
        if run is None:
            continue
        if _runs_script(run):
            raise Unfixable(f"the RUN at line {ins.line} runs a script that may read the files")
        if hit.kind == "apt-lists" and any(
            o.manager == "apt" and o.action in _USES_INDEX for o in run.ops
        ):
            raise Unfixable(f"the RUN at line {ins.line} installs with the apt lists")
        if hit.kind == "apk-cache" and any(
            o.manager == "apk" and not o.has("--no-cache") for o in run.ops
        ):
            raise Unfixable(f"the RUN at line {ins.line} uses the apk index")
        if hit.kind in ("download", "clone", "copy", "archive") and any(
            name in s.text for s in run.scripts
        ):
            raise Unfixable(f"the RUN at line {ins.line} uses {name}")


# Scratch directories of an application tree: build steps write there, contexts rarely
# hold them (.dockerignore).
_SCRATCH_DIRS = frozenset({"tmp", "log", "logs", ".cache"})
_NOT_BUILD_STEPS = frozenset({"rm", "cd", "set", "mkdir", "echo", "true", ":", "export"})


def _scratch_cleanup(run: RunStep, removal: Removal, hit: Artifact) -> bool:
    """``rails assets:precompile; rm -rf tmp/* log/*``: a build step empties the scratch
    directories it wrote to in a copied tree. The copy only *may* have put files there."""
    prefix = hit.path.rstrip("/") + "/"
    if not hit.tree or not removal.path.startswith(prefix) or covers(removal.path, hit):
        return False
    if removal.path[len(prefix) :].split("/", 1)[0] not in _SCRATCH_DIRS:
        return False
    for command in run.commands:
        if command is removal.command:
            return False
        if command.program and command.program not in _NOT_BUILD_STEPS:
            return True
    return False


def _deleted_estimate(ctx: CheckContext, hit: Artifact) -> int | None:
    if hit.kind != "apt-lists":
        return None
    creator = _runs_by_instruction(ctx).get(id(hit.instruction))
    if (
        creator is not None
        and any(_is_index_update(op) for op in creator.ops)
        and not any(is_install(op) for op in creator.ops)
    ):
        return None  # SL601 counts the lists of an update that runs alone
    return APT_LISTS_BYTES


def _has_removal(ctx: CheckContext) -> bool:
    for run in ctx.final_runs():
        for command in run.commands:
            prog = command.program
            if (
                prog == "rm"
                or prog in ("yum", "dnf", "microdnf", "apk", "npm")
                or prog.startswith("pip")
            ):
                return True
    return False


def _runs_by_instruction(ctx: CheckContext) -> dict[int, RunStep]:
    return {id(r.instruction): r for r in ctx.runs}


_CACHE_NAMES = {
    "apt-lists": "the apt package lists",
    "apk-cache": "the apk index cache",
    "dnf-cache": "the yum/dnf cache",
    "pip-cache": "pip's cache",
    "npm-cache": "npm's cache",
}


def _shown(path: str) -> str:
    return path.replace(_UNKNOWN_WORKDIR + "?", ".").replace(_UNKNOWN_WORKDIR, ".")


def _deleted_message(removal: Removal, hit: Artifact) -> str:
    line = hit.instruction.line
    what = "`" + " ".join(w.text for w in removal.command.unwrapped()[:2]) + "`"
    if hit.kind in _CACHE_NAMES:
        return (
            f"{what} deletes {_CACHE_NAMES[hit.kind]} left by the RUN at line {line}: they stay"
            " in that layer; clean up in the RUN that creates them (or use a cache mount)"
        )
    written = removal.word.text if removal.word is not None else removal.path
    shown = _shown(removal.path)
    target = f"`rm {written}`" + (f" ({shown})" if written.rstrip("/") != shown else "")
    if hit.kind in ("download", "clone"):
        verb = "cloned" if hit.kind == "clone" else "downloaded"
        return (
            f"{target} deletes what the RUN at line {line} {verb}: the bytes stay in that"
            " layer; fetch, use and delete it in one RUN, or fetch it in a build stage"
        )
    if removal.path == hit.path or not hit.tree or covers(removal.path, hit):
        added = f"files that {hit.instruction.keyword} at line {line} added"
    else:
        added = f"files that {hit.instruction.keyword} at line {line} may have added to {_shown(hit.path)}"
    return (
        f"{target} deletes {added}: the bytes stay in that layer; keep them out of the image"
        " (.dockerignore, copy only what is needed, or `RUN --mount=type=bind`)"
    )


class PackageRemovedInLaterLayer(Rule):
    """Packages are removed in a later RUN than the one that installed them.

    Why: ``apt-get purge``, ``apk del``, ``dnf remove`` or ``pip uninstall`` in a RUN of
    its own hides the package's files, but they stay in the layer of the RUN that installed
    it: the image does not get any smaller. Install, use and remove in one RUN (the
    ``apk add --virtual .build-deps`` ... ``apk del .build-deps`` idiom) or install the
    package only in a build stage.

    Catches: removals by name (or by ``apk --virtual`` name, or the same shell variable) of
    packages that an earlier RUN of the final image's stages installed; one finding per
    removal command, at the first such package.

    Leaves alone: packages installed and removed in the same RUN; removals of packages that
    came with the base image (removing them is about attack surface, and the Dockerfile does
    not say how big they are); bare ``apt-get autoremove``; build stages.

    estimated_bytes: for apt, the measured installed size of the removed packages and the
    dependencies they pull onto debian:bookworm-slim (the table of SL501), when known;
    otherwise unknown.
    """

    id = "SL603"
    name = "package-removed-in-later-layer"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        runs = ctx.final_runs()
        if not any(op.action == "remove" for run in runs for op in run.ops):
            return
        installed: dict[tuple[str, str], RunStep] = {}
        for run in runs:
            expander = Expander(ctx, run)
            yield from self._later_removals(ctx, run, expander, installed)
            same = removals(run, expander) if any(o.action == "remove" for o in run.ops) else None
            for op in run.ops:
                if not (is_install(op) or (op.manager == "pip" and op.action == "install")):
                    continue
                manager = op.manager
                virtual = virtual_name(op)
                for p in expander.packages(op):
                    if same is not None and same.removes(op.manager, p, virtual):
                        continue
                    installed[(manager, p.name)] = run
                    installed[(manager, "\x00" + p.raw)] = run
                if virtual is not None and not (same and virtual in same.names):
                    installed[(manager, virtual)] = run

    def _later_removals(
        self,
        ctx: CheckContext,
        run: RunStep,
        expander: Expander,
        installed: dict[tuple[str, str], RunStep],
    ) -> Iterator[Finding]:
        for op in run.ops:
            if op.action != "remove" or op.manager not in OS_MANAGERS | {"pip"}:
                continue
            hits: list[tuple[Package, RunStep]] = []
            for p in expander.packages(op):
                earlier = installed.get((op.manager, p.name)) or installed.get(
                    (op.manager, "\x00" + p.raw)
                )
                if earlier is not None and earlier is not run:
                    hits.append((p, earlier))
            if not hits:
                continue
            names = list(dict.fromkeys(p.name for p, _ in hits))
            lines = sorted({r.instruction.line for _, r in hits})
            at = ", ".join(str(n) for n in lines)
            estimate = None
            if op.manager == "apt" and base_has_toolchain(ctx) is False:
                estimate = estimate_debian_bytes(names)
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            yield self.at_command(
                ctx,
                op.command,
                f"`{op.tool} {op.raw_action}` of {shown}, installed by the RUN at line"
                f"{'s' if len(lines) > 1 else ''} {at}, does not shrink the image: the files stay"
                " in that layer; install, use and remove in one RUN, or install only in a build"
                " stage",
                word=hits[0][0].word,
                estimated_bytes=estimate,
            )


class ContextCopiedBeforeDependencies(Rule):
    """The whole build context is copied before the dependency install, so any source change reinstalls every dependency.

    Why: a layer is rebuilt when anything it depends on changes. After ``COPY . .``, the
    next ``RUN pip install -r requirements.txt`` (or ``npm ci``, ``go mod download``...)
    depends on every file of the project: editing one line of code throws away the
    dependency layer, downloads everything again and pushes a new, identical-looking
    layer of the same size. Copy the dependency manifests first, install, then copy the rest.

    Catches: in any stage, a COPY or ADD of the whole context (``.``, ``./``, ``*``) followed in
    the same stage by ``pip install -r``, ``npm ci``/``npm install``, ``yarn install``,
    ``pnpm install``, ``go mod download``, ``bundle install``, ``composer install``,
    ``poetry install``, ``pipenv install``, ``uv sync``, ``mix deps.get``,
    ``dotnet restore``, ``mvn dependency:go-offline``/``resolve`` or ``cargo fetch`` without
    package arguments. One finding at the COPY, naming the install and the manifests to copy
    first.

    Leaves alone: manifests copied and installed before the full copy; installs of named
    packages; installs that use a cache mount for that manager's cache (re-running them is
    cheap, which is what the author chose); ``pip install .`` (installing the project
    itself needs its sources).

    estimated_bytes: none (this costs build time, push and pull churn, not image size).
    """

    id = "SL604"
    name = "context-copied-before-dependencies"
    practice = Practice.LAYER_WASTE
    severity = Severity.INFO
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        runs = _runs_by_instruction(ctx)
        for stage in ctx.stages:
            if not any(
                i.keyword in ("COPY", "ADD") and _copies_whole_context(i)
                for i in stage.instructions
            ):
                continue
            copy: Instruction | None = None
            installed: set[str] = set()  # ecosystems installed before the full copy
            for ins in stage.instructions:
                if ins.keyword in ("COPY", "ADD") and copy is None and _copies_whole_context(ins):
                    copy = ins
                elif ins.keyword == "RUN":
                    run = runs.get(id(ins))
                    found = _dependency_install(run) if run is not None else None
                    if found is None:
                        continue
                    ecosystem, what, manifests, cached = found
                    if copy is None:
                        installed.add(ecosystem)
                        continue
                    if cached or ecosystem in installed:
                        continue
                    yield self.at_instruction(
                        ctx,
                        copy,
                        f"the whole build context is copied before `{what}` (line {ins.line}):"
                        " every source change reinstalls all dependencies; copy"
                        f" {manifests} first, run `{what}`, then copy the rest",
                    )
                    break


def _copies_whole_context(ins: Instruction) -> bool:
    if ins.flag("from") is not None:
        return False
    parts = copy_parts(ins)
    return parts is not None and any(s in (".", "./", "*", "./*") for s in parts[0])


def _dependency_install(run: RunStep) -> tuple[str, str, str, bool] | None:
    """(ecosystem, the install as written, the manifests to copy first, whether a cache mount
    holds that manager's cache) for a dependency install."""
    ops = {id(op.command): op for op in run.ops}
    for command in run.commands:
        words = command.unwrapped()
        if not words:
            continue
        prog = basename(words[0].text)
        args = [w.text for w in words[1:]]
        positional = [a for a in args if not a.startswith("-")]
        found: tuple[str, str, str] | None = None  # (ecosystem, text, manifests)
        if prog in ("mix",) and positional[:1] == ["deps.get"]:
            found = ("mix", "mix deps.get", _DEPENDENCY_MANIFESTS["mix"])
        elif prog == "dotnet" and positional[:1] == ["restore"]:
            found = ("dotnet", "dotnet restore", _DEPENDENCY_MANIFESTS["dotnet"])
        elif prog in ("mvn", "mvnw") and any(
            a.startswith(("dependency:go-offline", "dependency:resolve")) for a in positional
        ):
            found = ("mvn", f"{prog} dependency:go-offline", _DEPENDENCY_MANIFESTS["mvn"])
        elif prog == "cargo" and positional[:1] == ["fetch"]:
            found = ("cargo", "cargo fetch", _DEPENDENCY_MANIFESTS["cargo"])
        elif prog == "uv" and positional[:1] == ["sync"]:
            found = ("uv", "uv sync", _DEPENDENCY_MANIFESTS["uv"])
        elif prog in ("poetry", "pipenv") and positional == ["install"]:
            found = (prog, f"{prog} install", _DEPENDENCY_MANIFESTS[prog])
        if found is None:
            found = _package_manager_install(ops.get(id(command)))
        if found is None:
            continue
        ecosystem, text, manifests = found
        cached = any(_cache_mount_on(run, p) for p in _DEPENDENCY_CACHES.get(ecosystem, ()))
        return ecosystem, text, manifests, cached
    return None


def _cache_mount_on(run: RunStep, root: str) -> bool:
    """Whether a cache mount holds ``root`` or a directory inside it (``/root/.cache/uv``)."""
    for m in run.mounts:
        if m.type == "cache" and m.target:
            target = posixpath.normpath(m.target)
            if target == root or target.startswith(root + "/") or root.startswith(target + "/"):
                return True
    return False


def _package_manager_install(op: PackageOp | None) -> tuple[str, str, str] | None:
    if op is None:
        return None
    m = op.manager
    if m == "pip" and op.tool not in ("poetry", "pipenv", "pipx") and op.action == "install":
        reqs = op.values("-r") + op.values("--requirement")
        if reqs and not op.packages:
            return "pip", f"pip install -r {reqs[0]}", reqs[0]
        return None
    if m == "npm" and (op.action == "ci" or (op.action == "install" and not op.packages)):
        if op.has("-g", "--global"):
            return None
        return "npm", f"npm {op.raw_action}", _DEPENDENCY_MANIFESTS["npm"]
    if m == "yarn" and (op.action in ("", "install") and not op.packages):
        return "yarn", "yarn install", _DEPENDENCY_MANIFESTS["yarn"]
    if m == "pnpm" and op.action == "install" and not op.packages:
        return "pnpm", "pnpm install", _DEPENDENCY_MANIFESTS["pnpm"]
    if m == "go" and op.action == "mod-download":
        return "go", "go mod download", _DEPENDENCY_MANIFESTS["go"]
    if m == "bundle" and op.action == "install":
        return "bundle", "bundle install", _DEPENDENCY_MANIFESTS["bundle"]
    if m == "composer" and op.action == "install":
        return "composer", "composer install", _DEPENDENCY_MANIFESTS["composer"]
    return None


class RecursiveChownAfterCopy(Rule):
    """``chown -R`` or ``chmod -R`` in a RUN after the files were copied duplicates every file.

    Why: changing a file's owner or mode in a later layer copies the whole file into that
    layer (overlay filesystems copy up on any metadata change), so ``COPY . /app`` followed
    by ``RUN chown -R app:app /app`` stores the application twice. ``COPY --chown=app:app``
    and ``COPY --chmod=755`` set them while copying, at no cost.

    Catches: a recursive ``chown``/``chmod`` (``-R``, ``--recursive``) in a RUN of the final
    image's stages whose target is, contains or lies inside a path that an earlier COPY or
    ADD added, or that an earlier RUN downloaded or cloned.

    Leaves alone: chown/chmod in the same RUN that creates the files; targets nothing was
    copied into (``mkdir -p /data && chown -R app /data``) or only a single script or
    configuration file; files a ``COPY --chown``/``--chmod`` already gave that owner or mode
    (the RUN re-owns what it generated next to them); build stages.

    estimated_bytes: unknown (the size of the copied files is not in the Dockerfile).
    """

    id = "SL605"
    name = "recursive-chown-after-copy"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not any(
            c.program in ("chown", "chmod") for run in ctx.final_runs() for c in run.commands
        ):
            return
        runs = _runs_by_instruction(ctx)
        artifacts: list[Artifact] = []
        for ins, scope in walk(ctx, ctx.target_chain):
            if ins.keyword in ("COPY", "ADD"):
                artifacts += copy_artifacts(ins, scope)
                continue
            if ins.keyword != "RUN":
                continue
            run = runs.get(id(ins))
            if run is None:
                continue
            yield from self._check_run(ctx, run, scope, artifacts)
            artifacts += [
                a for a in run_paths(ctx, run, scope).created if a.kind in ("download", "clone")
            ]

    def _check_run(
        self, ctx: CheckContext, run: RunStep, scope: Scope, artifacts: list[Artifact]
    ) -> Iterator[Finding]:
        cwd = scope.workdir
        for command in run.commands:
            words = command.unwrapped()
            if not words:
                continue
            prog = basename(words[0].text)
            args = words[1:]
            if prog == "cd" and args:
                target = scope.resolve(args[0].text, cwd)
                cwd = target if target is not None else _UNKNOWN_WORKDIR + "?"
                continue
            if prog not in ("chown", "chmod") or not _recursive(args):
                continue
            operands = [w for w in args if not w.text.startswith("-")]
            setting = None
            if not any(w.text.startswith("--reference") for w in args) and operands:
                setting = operands[0].text  # the owner or the mode
                operands = operands[1:]
            for w in operands:
                path = scope.resolve(w.text, cwd)
                if path is None:
                    continue
                hit = next(
                    (
                        a
                        for a in artifacts
                        if _overlaps(path, a)
                        and not _small(a)
                        and not _already_set(a, prog, setting)
                    ),
                    None,
                )
                if hit is None:
                    continue
                flag = "--chown=..." if prog == "chown" else "--chmod=..."
                if hit.kind in ("download", "clone"):
                    fix = (
                        f"run `{prog}` in the RUN at line {hit.instruction.line} that fetches them"
                    )
                else:
                    fix = f"use `{hit.instruction.keyword} {flag}` at line {hit.instruction.line}"
                yield self.at_command(
                    ctx,
                    command,
                    f"`{prog} -R` of {_shown(path)} in a separate RUN copies every file that"
                    f" {hit.instruction.keyword if hit.kind not in ('download', 'clone') else 'RUN'}"
                    f" at line {hit.instruction.line} added into a new layer, doubling their"
                    f" size; {fix}",
                    word=w,
                )
                break


def _already_set(artifact: Artifact, prog: str, setting: str | None) -> bool:
    """``COPY --chown=app`` then ``chown -R app`` (for what the RUN itself writes there): the
    copied files already have that owner, so the advice to use ``--chown`` is taken."""
    if setting is None or artifact.instruction.keyword not in ("COPY", "ADD"):
        return False
    flag = artifact.instruction.flag("chown" if prog == "chown" else "chmod")
    if flag is None or not flag.value:
        return False
    if prog == "chmod":
        return flag.value.lstrip("0") == setting.lstrip("0")
    user, _, group = setting.replace(".", ":", 1).partition(":")
    copied_user, _, copied_group = flag.value.partition(":")
    return user == copied_user and (not group or not copied_group or group == copied_group)


def _recursive(args: list[Word]) -> bool:
    return any(
        w.text == "--recursive"
        or (w.text.startswith("-") and not w.text.startswith("--") and "R" in w.text)
        for w in args
    )


def _overlaps(path: str, artifact: Artifact) -> bool:
    if path == artifact.path or artifact.path.startswith(path.rstrip("/") + "/"):
        return True
    return artifact.tree and artifact.path not in _BROAD and path.startswith(artifact.path + "/")


class ArchiveCopiedThenExtracted(Rule):
    """An archive is copied or downloaded in one layer and extracted in a later RUN.

    Why: the archive itself stays in the layer that added it, next to its extracted
    content, even if a later RUN deletes it. ``ADD app.tar.gz /opt/`` extracts a local
    tarball in one step; for other archives, extract from a bind mount
    (``RUN --mount=type=bind,source=app.zip,target=/tmp/app.zip unzip /tmp/app.zip``), or
    download, extract and delete in one RUN (``curl -fsSL URL | tar -xz``).

    Catches: in the final image's stages, a COPY of a local archive, an ADD of a remote
    archive (ADD does not extract downloads) or a ``curl``/``wget`` download of an archive,
    then a later RUN that extracts that same path with ``tar -x``, ``unzip``, ``7z x``,
    ``gunzip``, ``bunzip2``, ``unxz`` or ``unzstd``. Reported at the COPY, ADD or download.

    Leaves alone: extraction in the same RUN as the download; ``ADD`` of a local tarball
    (already extracted by ADD); build stages (only their outputs ship).

    estimated_bytes: unknown (the archive's size is not in the Dockerfile).
    """

    id = "SL606"
    name = "archive-copied-then-extracted"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    refs = ("DL3010",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not any(
            c.program
            in ("tar", "bsdtar", "unzip", "7z", "7za", "gunzip", "bunzip2", "unxz", "unzstd")
            for run in ctx.final_runs()
            for c in run.commands
        ):
            return
        runs = _runs_by_instruction(ctx)
        archives: list[Artifact] = []
        for ins, scope in walk(ctx, ctx.target_chain):
            if ins.keyword in ("COPY", "ADD"):
                archives += [a for a in copy_artifacts(ins, scope) if a.kind == "archive"]
                continue
            if ins.keyword != "RUN":
                continue
            run = runs.get(id(ins))
            if run is None:
                continue
            paths = run_paths(ctx, run, scope)
            for command, path in paths.extracted:
                hit = next((a for a in archives if a.path == path), None)
                if hit is None:
                    continue
                archives.remove(hit)
                yield self._finding(ctx, hit, command, run)
            deleted = {r.path for r in paths.removals}
            extracted_here = {p for _, p in paths.extracted}
            archives += [
                a
                for a in paths.created
                if a.kind == "download"
                and _ARCHIVE_RE.fullmatch(basename(a.path))
                and a.path not in extracted_here
                and a.path not in deleted
            ]

    def _finding(self, ctx: CheckContext, hit: Artifact, command: Command, run: RunStep) -> Finding:
        tool = command.program
        line = run.instruction.line
        name = basename(hit.path)
        if hit.command is not None:
            return self.at_command(
                ctx,
                hit.command,
                f"{name} is downloaded here and extracted by `{tool}` in the RUN at line {line}:"
                " the archive stays in this layer; download, extract and delete it in one RUN"
                " (or stream it: `curl -fsSL URL | tar -xz`)",
            )
        ins = hit.instruction
        remote = "://" in hit.source
        origin = ins.flag("from")
        if remote:
            fix = "download, extract and delete it in one RUN (`curl -fsSL URL | tar -xz`)"
        elif origin is not None and origin.value:
            # ADD cannot read from another stage or image: extract there, or mount it.
            fix = (
                f"extract it in `{origin.value}` and copy the extracted files, or extract from a"
                f" bind mount (`RUN --mount=type=bind,from={origin.value},source={hit.source},"
                f"target=/tmp/{name} {tool} ...`)"
            )
        elif _ADD_EXTRACTS_RE.fullmatch(hit.source):
            fix = (
                f"use `ADD {hit.source} <dir>/`, which extracts it, or extract from a bind mount"
                f" (`RUN --mount=type=bind,source={hit.source},target=/tmp/{name} {tool} ...`)"
            )
        else:
            fix = (
                "extract it from a bind mount"
                f" (`RUN --mount=type=bind,source={hit.source},target=/tmp/{name} {tool} ...`)"
            )
        message = (
            f"{name} is copied by {ins.keyword} and extracted by `{tool}` in the RUN at line"
            f" {line}: the archive stays in this layer; {fix}"
        )
        start = ins.args.find(hit.source)
        if start >= 0:
            span = ins.args_span(start, start + len(hit.source))
            return self.at_offsets(ctx, span.offset, span.end_offset, message)
        return self.at_instruction(ctx, ins, message)


class UseraddHighUidLastlog(Rule):
    """``useradd`` with a high UID and without ``-l`` bloats the layer with lastlog and faillog records.

    Why: without ``-l`` (``--no-log-init``), useradd writes the new user's record at offset
    UID x 292 bytes in /var/log/lastlog and UID x 32 bytes in /var/log/faillog. On disk the
    files are sparse, but image layers store them in full: ``useradd -u 1000000`` adds about
    324 MB of zeros. ``-l`` skips those records; containers do not use them.

    Catches: ``useradd`` with ``-u``/``--uid`` of 30,864 or more (where the two files pass
    10 MB; hadolint's DL3046 uses six digits), a literal or an ENV/ARG value, in the final
    image's stages.

    Leaves alone: ``-l``/``--no-log-init`` (also inside a cluster such as ``-lm``); lower
    UIDs; UIDs from unknown variables; Alpine (busybox ``adduser``, and its images have no
    lastlog); build stages.

    estimated_bytes: (UID + 1) x 324 bytes: the size of struct lastlog (292 bytes on 64-bit
    glibc) plus struct faillog (32 bytes) times the number of records before and including
    the user's.
    """

    id = "SL607"
    name = "useradd-high-uid-lastlog"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    refs = ("DL3046",)
    fixable = False

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        runs = [r for r in ctx.final_runs() if any(c.program == "useradd" for c in r.commands)]
        if not runs or _alpine(ctx):
            return
        for run in runs:
            for command in run.commands:
                if command.program != "useradd":
                    continue
                found = _useradd_uid(command.unwrapped()[1:])
                if found is None:
                    continue
                word, text = found
                if "$" in text:
                    text, ok = substitute(text, _env(ctx, run))
                    if not ok:
                        continue
                if not text.isdigit():
                    continue
                uid = int(text)
                size = (uid + 1) * LASTLOG_RECORD_BYTES
                if size < LASTLOG_THRESHOLD_BYTES:
                    continue
                yield self.at_command(
                    ctx,
                    command,
                    f"`useradd` with UID {uid} and without `-l` writes about {size / 1e6:,.0f} MB"
                    " of sparse /var/log/lastlog and faillog records that the layer stores in"
                    " full; add `-l` (`--no-log-init`)",
                    word=word,
                    estimated_bytes=size,
                )


def _alpine(ctx: CheckContext) -> bool:
    if "alpine" in ctx.target_chain[0].base_resolved.lower():
        return True
    return any(op.manager == "apk" for run in ctx.final_runs() for op in run.ops)


def _env(ctx: CheckContext, run: RunStep) -> dict[str, str]:
    try:
        return ctx.env_before(run.instruction)
    except (KeyError, ValueError):
        return {}


def _useradd_uid(args: list[Word]) -> tuple[Word, str] | None:
    """(the word holding the UID, its text) unless -l is given."""
    uid: tuple[Word, str] | None = None
    i = 0
    while i < len(args):
        w = args[i]
        t = w.text
        if t in ("--no-log-init", "-l"):
            return None
        if t == "--uid" and i + 1 < len(args):
            uid = (args[i + 1], args[i + 1].text)
            i += 2
            continue
        if t.startswith("--uid="):
            uid = (w, t[len("--uid=") :])
        elif t.startswith("-") and not t.startswith("--"):
            for k, letter in enumerate(t[1:], start=1):
                if letter == "l":
                    return None
                if letter in _USERADD_VALUE_LETTERS:
                    value = t[k + 1 :]
                    if not value and i + 1 < len(args):
                        i += 1
                        value = args[i].text
                        holder = args[i]
                    else:
                        holder = w
                    if letter == "u":
                        uid = (holder, value)
                    break
        i += 1
    return uid


_PACKAGE_DB = {
    "apt": "/var/lib/dpkg/status and the debconf database",
    "apk": "/lib/apk/db/installed",
    "dnf": "the rpm database",
    "zypper": "the rpm database",
}


class SplitPackageInstalls(Rule):
    """Consecutive RUNs each install OS packages with the same package manager.

    Why: every install layer stores its own full copy of the package database the manager
    rewrites (/var/lib/dpkg/status and debconf for apt, /lib/apk/db/installed, the rpm
    database for dnf and zypper), repeats the index download, and adds a layer. Installing
    both sets of packages in one RUN stores the database once.

    Catches: two RUN instructions next to each other (nothing but comments between them) in a
    stage of the final image that both install packages with the same OS package manager;
    reported at the second install. This is the precise case of hadolint's DL3059, which
    flags any consecutive RUNs and is noisy.

    Leaves alone: RUNs separated by another instruction (an ENV, a COPY of a repository key:
    usually deliberate); installs with different managers; build stages. Opt-in, because
    splitting installs for cache reuse or readability is a legitimate choice (the official
    images do it) and the database copies are small next to the packages.

    estimated_bytes: unknown (the database size depends on the packages already installed).
    """

    id = "SL608"
    name = "split-package-installs"
    practice = Practice.LAYER_WASTE
    severity = Severity.INFO
    refs = ("DL3059",)
    default_enabled = False

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        runs = _runs_by_instruction(ctx)
        for stage in ctx.target_chain:
            previous: set[str] = set()
            previous_line = 0
            for ins in stage.instructions:
                run = runs.get(id(ins)) if ins.keyword == "RUN" else None
                if run is None:
                    previous = set()
                    continue
                installs = [op for op in run.ops if is_install(op)]
                managers = {op.manager for op in installs}
                for op in installs:
                    if op.manager in previous:
                        yield self.at_command(
                            ctx,
                            op.command,
                            f"`{op.tool} {op.raw_action}` in a RUN right after the one installing"
                            f" with {op.tool} at line {previous_line}: each layer stores its own"
                            f" copy of {_PACKAGE_DB[op.manager]}; install both sets in one RUN",
                        )
                        break
                previous = managers
                previous_line = ins.line
