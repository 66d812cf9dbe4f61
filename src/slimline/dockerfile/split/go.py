"""Go: build a static binary (``CGO_ENABLED=0``, the original flags and output path kept) in
the golang stage and copy it onto ``scratch``, with the CA bundle, time zones and passwd file
copied from the build stage only when the program needs them (or onto distroless static, which
carries them). A build that uses cgo makes a dynamic binary: it goes onto the slim Debian
release with the shared libraries ``ldd`` lists, as for C.

Deciding what a static program needs (documented choice): with the build context at hand, the
Go sources are read: TLS clients (``crypto/tls``, ``https://`` URLs, ``http.Get``/``http.Client``
...) or any third-party module need the CA bundle, ``time.LoadLocation`` needs the zone files
(unless ``time/tzdata`` is embedded), and a named USER needs ``/etc/passwd``. Without the
context, the CA bundle is copied (it costs ~200 KB, and a missing one fails only at run time)
and the zone files are not, and the notes say so.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from slimline.dockerfile.context import RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp
from slimline.dockerfile.rebase import Note, Refusal, default_release
from slimline.dockerfile.shell import basename
from slimline.dockerfile.split._base import (
    Output,
    Source,
    SplitOptions,
    Splitter,
    StageText,
    build_programs_of,
    build_stage_name,
    command_text,
    dev_text,
    from_line,
    install_line,
    is_apt_only,
    original_base,
    plan_packages,
    render,
    simple_words,
    strange_commands,
)
from slimline.dockerfile.split.native import STAGING, ldd_staging_run
from slimline.dockerfile.split.python import RUNTIME_ONLY

GOPATH = "/go"  # the golang images' GOPATH and WORKDIR
_BUILD_ENV = frozenset(
    {"CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GOFLAGS", "GOPATH", "GOPROXY",
     "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOSUMDB", "GO111MODULE", "GOCACHE", "GOMODCACHE",
     "GOBIN", "GOTOOLCHAIN", "GOWORK", "GOINSECURE"}
)  # fmt: skip
_USER_TOOLS = frozenset({"useradd", "adduser", "groupadd", "addgroup"})
_TLS = re.compile(
    r'"crypto/tls"|"crypto/x509"|https://|\bhttp\.(?:Get|Post|PostForm|Head|NewRequest'
    r"|NewRequestWithContext|DefaultClient|Client)\b|\"net/smtp\"|grpc/credentials"
)
_ZONES = re.compile(r"\btime\.LoadLocation\(")
_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
_ZONEINFO = "/usr/share/zoneinfo"


@dataclass(frozen=True, slots=True)
class _Binary:
    path: str  # absolute, in the build stage
    line: int


class GoSplitter(Splitter):
    language = "go"
    order = 30

    def detect(self, src: Source) -> bool:
        return src.family == "golang" and any(self._builds(r) for r in src.runs)

    @staticmethod
    def _builds(run: RunStep) -> list[PackageOp]:
        return [op for op in run.ops_of("go") if op.action in ("build", "install")]

    def split(self, src: Source, options: SplitOptions) -> Output:
        builds = [r for r in src.runs if self._builds(r)]
        binaries = [b for run in builds for b in self._outputs(src, run)]
        last = max(src.index(r.instruction) for r in builds)
        user_runs = self._check_runs(src, last)
        cgo, cgo_why = self._cgo(src, builds)
        program, entry = self._program(src, binaries)
        # Packages installed before the build serve the build; after it, the program.
        apt_runs = [r for r in src.runs if is_apt_only(r)]
        later = [r for r in apt_runs if src.index(r.instruction) > last]
        plan = plan_packages(src, apt_runs, [], release=None)
        after = plan_packages(src, later, [], release=None).runtime
        extra = [p for p in after if p.split("=")[0] not in ("ca-certificates", "tzdata")]
        if extra and not cgo:
            raise Refusal(
                f"the image installs {', '.join(extra)} after the build, for the program to"
                " run; the runtime stage cannot hold packages"
            )
        stage_name = build_stage_name(src)
        notes: list[Note] = []
        build = StageText(
            src,
            "Build stage: the Go toolchain compiles the program; it does not ship.",
            from_line(src, original_base(src), stage_name),
        )
        for ins in src.instructions[: last + 1]:
            if ins.keyword in RUNTIME_ONLY:
                continue
            if ins is builds[0].instruction and not cgo:
                build.add("ENV CGO_ENABLED=0", blank=src.leading(ins)[1])
            build.keep(ins)
        for run in user_runs:
            build.keep(run.instruction)
        if cgo:
            image = f"debian:{self._codename(src)}-slim"
            build.add(ldd_staging_run(src, [b.path for b in binaries]))
            comment = (
                "Runtime stage: the program and the shared libraries it links, on slim Debian."
            )
            copies = [f"COPY --from={stage_name} {STAGING}/ /"]
            notes.append(
                Note(
                    f"{cgo_why}: the binary is dynamic, so it runs on {image} with the shared"
                    " libraries ldd lists"
                )
            )
        else:
            needs = _Needs.of(src, plan.runtime)
            image, copies = self._static_files(src, options, needs, stage_name, notes)
            copies += [f"COPY --from={stage_name} {b.path} {b.path}" for b in binaries]
            if image == "scratch" and (user_runs or needs.passwd):
                copies.insert(0, f"COPY --from={stage_name} /etc/passwd /etc/group /etc/")
            comment = "Runtime stage: the static binary and the few files it reads, nothing else."
            notes.append(Note(f"the program is built static (CGO_ENABLED=0) and runs on {image}"))
        runtime = StageText(src, comment, from_line(src, image, src.stage.name))
        if cgo and after:
            runtime.add(install_line(src, after))
        for ins in src.instructions:
            if src.index(ins) <= last and ins.keyword in ("RUN", "COPY", "ADD"):
                if ins is src.instructions[last]:
                    runtime.add(copies[0], blank=src.leading(ins)[1])
                    for line in copies[1:]:
                        runtime.add(line)
                continue
            if ins.keyword == "RUN" or (ins.keyword == "ENV" and self._build_env_only(ins)):
                continue  # user creation moved to the build stage; Go settings stay there
            if ins is entry or ins.keyword == "HEALTHCHECK":
                runtime.keep(ins, self._exec_form(src, ins, program, notes, shell=cgo))
                continue
            runtime.keep(ins)
        notes.append(
            Note(
                "only the binary is copied: files it reads from the build context at run time"
                " (templates, static assets not embedded) must be copied too",
                entry.line,
            )
        )
        header = (
            "Development image: the single-stage build, with the Go toolchain.\n"
            "The production image is built by the multi-stage Dockerfile."
        )
        return Output(render(src, [build, runtime]), dev_text(src, header), notes)

    # -- what is built --------------------------------------------------------------------

    def _outputs(self, src: Source, run: RunStep) -> list[_Binary]:
        out = []
        for op in self._builds(run):
            where = src.where(run.instruction)
            if op.command.conditional:
                raise Refusal(f"{where} builds only on some paths")
            workdir = src.workdir(run.instruction, GOPATH)
            if workdir is None:
                raise Refusal(f"{where} runs in a WORKDIR named by an unknown variable")
            packages = [w.text for w in op.packages]
            if any("..." in p for p in packages) or len(packages) > 1:
                raise Refusal(f"{where} builds several packages: which binary runs is unknown")
            if op.action == "install":
                env = src.ctx.env_before(run.instruction)
                directory = env.get("GOBIN") or posixpath.join(env.get("GOPATH", GOPATH), "bin")
                name = self._package_name(src, packages[0] if packages else ".", where)
                out.append(_Binary(posixpath.join(directory, name), run.instruction.line))
                continue
            output = op.value("-o")
            if output is not None:
                if "$" in output or output.endswith("/"):
                    raise Refusal(f"{where} names its output with a variable or a directory")
                out.append(
                    _Binary(
                        posixpath.normpath(posixpath.join(workdir, output)), run.instruction.line
                    )
                )
                continue
            name = self._package_name(src, packages[0] if packages else ".", where)
            out.append(_Binary(posixpath.join(workdir, name), run.instruction.line))
        return out

    @staticmethod
    def _package_name(src: Source, package: str, where: str) -> str:
        """The binary name `go build` gives a main package: its last path element, or the
        module's for ``.``, read from go.mod in the build context."""
        if package not in (".", "./"):
            if "@" in package:
                package = package.split("@", 1)[0]
            parts = [p for p in package.rstrip("/").split("/") if p not in (".", "")]
            if parts and re.fullmatch(r"v\d+", parts[-1]) and len(parts) > 1:
                parts.pop()
            if parts:
                return parts[-1]
        module = _module_path(src.context)
        if module is None:
            raise Refusal(
                f"{where} builds without -o: the binary is named after the module in go.mod,"
                " which slimline has not read (give the build context, or add -o)"
            )
        parts = module.split("/")
        if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
            parts.pop()
        return parts[-1]

    @staticmethod
    def _cgo(src: Source, builds: list[RunStep]) -> tuple[bool, str]:
        for run in builds:
            env = src.ctx.env_before(run.instruction)
            if env.get("CGO_ENABLED") == "1":
                return True, f"ENV CGO_ENABLED=1 before line {run.instruction.line}"
            for op in GoSplitter._builds(run):
                if ("CGO_ENABLED", "1") in op.command.assignments:
                    return True, f"CGO_ENABLED=1 at line {run.instruction.line}"
                flags = " ".join(op.options)
                if op.has("-race") or "linkmode=external" in flags or "linkmode external" in flags:
                    return (
                        True,
                        f"the build at line {run.instruction.line} links with the C toolchain",
                    )
        if src.context is not None and _uses_cgo(src.context):
            return True, 'the sources import "C"'
        return False, ""

    def _program(self, src: Source, binaries: list[_Binary]) -> tuple[_Binary, Instruction]:
        """The binary CMD or ENTRYPOINT starts: Refusal when it is not one that was built."""
        starts = [i for i in src.instructions if i.keyword in ("ENTRYPOINT", "CMD")]
        if not starts:
            raise Refusal("no CMD or ENTRYPOINT: which program the image runs is unknown")
        entry = next((i for i in reversed(starts) if i.keyword == "ENTRYPOINT"), None) or starts[-1]
        words = list(entry.values) if entry.json else simple_words(entry.args)
        if not words:
            raise Refusal(
                f"{src.where(entry)} needs a shell, which the runtime stage does not have"
            )
        first = words[0]
        for binary in binaries:
            if _names(src, entry, first, binary):
                return binary, entry
        raise Refusal(
            f"{src.where(entry)} runs {first}, not a binary the Dockerfile builds"
            " (`go run` needs the toolchain at run time)"
        )

    @staticmethod
    def _check_runs(src: Source, last: int) -> list[RunStep]:
        """Refusal for RUN steps whose results the runtime stage would miss; the user-creation
        steps after the build, which move to the build stage (its passwd file is copied)."""
        users: list[RunStep] = []
        for run in src.runs:
            where = src.where(run.instruction)
            if is_apt_only(run):
                continue
            if src.index(run.instruction) <= last:
                strange = strange_commands(
                    run, lambda c: c.program == "go" or c.program in build_programs_of(c)
                )
                if strange:
                    raise Refusal(
                        f"{where} runs `{command_text(strange[0])}`, whose"
                        " results would stay in the build stage; move it after the build"
                    )
                continue
            if run.commands and all(c.program in _USER_TOOLS for c in run.commands):
                users.append(run)
                continue
            raise Refusal(
                f"{where} would run in the runtime stage, which has no shell; move it before"
                " the build or drop it"
            )
        return users

    @staticmethod
    def _build_env_only(ins: Instruction) -> bool:
        names = ins.values[::2]
        return bool(names) and all(n in _BUILD_ENV for n in names)

    @staticmethod
    def _codename(src: Source) -> str:
        info = src.info
        return info.codename if info is not None and info.codename else default_release()

    # -- the runtime stage ----------------------------------------------------------------

    @staticmethod
    def _static_files(
        src: Source, options: SplitOptions, needs: _Needs, stage: str, notes: list[Note]
    ) -> tuple[str, list[str]]:
        if options.static_runtime == "distroless":
            image = (src.info.runtime if src.info else None) or "gcr.io/distroless/static-debian12"
            notes.append(Note(f"{image} carries CA certificates, time zones and a passwd file"))
            return image, []
        copies: list[str] = []
        if needs.certificates:
            copies.append(f"COPY --from={stage} {_CA_FILE} {_CA_FILE}")
        if needs.zones:
            copies.append(f"COPY --from={stage} {_ZONEINFO} {_ZONEINFO}")
        notes += needs.notes
        return "scratch", copies

    @staticmethod
    def _exec_form(
        src: Source, ins: Instruction, program: _Binary, notes: list[Note], *, shell: bool
    ) -> str:
        """CMD/ENTRYPOINT/HEALTHCHECK in exec form, naming the binary by its absolute path (the
        runtime stage has no shell for the shell form, and /go/bin is on no default PATH)."""
        original = src.node(ins).raw.rstrip("\r\n")
        args_start = ins.source_offset(ins.args_offset)
        values = list(ins.values)
        if ins.keyword == "HEALTHCHECK":
            if not values or values[0].upper() == "NONE":
                return original
            prefix = src.doc.text[ins.span.offset : args_start + 3] + " "
            values = values[1:]
        else:
            prefix = src.doc.text[ins.span.offset : args_start]
        words = values if ins.json else simple_words(values[0] if values else "")
        if not words:
            if shell:
                return original
            raise Refusal(f"{src.where(ins)} needs a shell, which the runtime stage does not have")
        if not _names(src, ins, words[0], program):
            if shell:
                return original
            raise Refusal(
                f"{src.where(ins)} runs {words[0]}, which the runtime stage does not have"
            )
        words[0] = program.path
        if not ins.json:
            signals = "" if ins.keyword == "HEALTHCHECK" else ": the program receives signals"
            notes.append(
                Note(
                    f"{ins.keyword} became exec form{signals}"
                    + ("" if shell else " (the runtime stage has no shell)"),
                    ins.line,
                )
            )
        return prefix + json.dumps(words)


def _names(src: Source, ins: Instruction, word: str, binary: _Binary) -> bool:
    """Whether ``word`` (a CMD's program) names the binary: its path, its file name (looked up
    on PATH), or a path relative to the WORKDIR."""
    if word in (binary.path, basename(binary.path)):
        return True
    if word.startswith("/") or "/" not in word:
        return False
    workdir = src.workdir(ins, GOPATH)
    return workdir is not None and posixpath.normpath(posixpath.join(workdir, word)) == binary.path


@dataclass(slots=True)
class _Needs:
    certificates: bool
    zones: bool
    passwd: bool
    notes: list[Note]

    @staticmethod
    def of(src: Source, packages: list[str]) -> _Needs:
        notes: list[Note] = []
        installed = {p.split("=")[0] for p in packages}
        user = next(
            (i.values[0] for i in reversed(src.instructions) if i.keyword == "USER" and i.values),
            None,
        )
        passwd = user is not None and not user.split(":")[0].isdigit()
        tz_env = any("TZ" in src.ctx.env_before(i) for i in src.instructions[-1:])
        if src.context is None:
            notes.append(
                Note(
                    "the CA bundle is copied because the sources were not read (give the build"
                    " context to decide); time zone files are not: add"
                    f" {_ZONEINFO} if the program calls time.LoadLocation"
                )
            )
            return _Needs(True, tz_env or "tzdata" in installed, passwd, notes)
        sources = _go_sources(src.context)
        certificates = "ca-certificates" in installed or bool(_TLS.search(sources))
        third_party = _requires_modules(src.context)
        if third_party and not certificates:
            certificates = True
            notes.append(
                Note("the CA bundle is copied: third-party modules may open TLS connections")
            )
        zones = (
            tz_env or "tzdata" in installed or bool(_ZONES.search(sources))
        ) and '"time/tzdata"' not in sources
        if not third_party:
            notes.append(
                Note(
                    "the CA bundle is copied: the program opens TLS connections"
                    if certificates
                    else "no CA bundle: the sources make no TLS connections"
                )
            )
        notes.append(
            Note(
                "time zone files are copied: the program loads time zones"
                if zones
                else "no time zone files: the sources load no time zone"
            )
        )
        return _Needs(certificates, zones, passwd, notes)


def _go_sources(context: Path) -> str:
    texts = []
    for path in sorted(context.rglob("*.go")):
        if path.name.endswith("_test.go") or "testdata" in path.parts:
            continue
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return "\n".join(texts)


def _uses_cgo(context: Path) -> bool:
    return bool(re.search(r'(?m)^\s*import\s+"C"|^\s*"C"\s*$', _go_sources(context)))


def _module_path(context: Path | None) -> str | None:
    if context is None or not (context / "go.mod").is_file():
        return None
    m = re.search(r"(?m)^module\s+(\S+)", (context / "go.mod").read_text(encoding="utf-8"))
    return m.group(1).strip('"') if m else None


def _requires_modules(context: Path) -> bool:
    path = context / "go.mod"
    if not path.is_file():
        return False
    return bool(re.search(r"(?m)^require\b", path.read_text(encoding="utf-8")))
