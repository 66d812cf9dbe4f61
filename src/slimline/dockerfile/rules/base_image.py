"""base-image: small, official parent images; a slimmer variant of the same image exists."""

from __future__ import annotations

from collections.abc import Iterator

from slimline.dockerfile.base_images import (
    Classification,
    ImageRef,
    classify,
    is_trusted_publisher,
    parse_image_ref,
)
from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.stages import Stage
from slimline.findings import Finding, Practice, Severity

# Commands that compile a program with the toolchain the image ships.
_BUILD_COMMANDS = {
    "go": {"build", "install"},
    "cargo": {"build", "install"},
    "mvn": {"package", "install", "verify", "compile"},
    "mvnw": {"package", "install", "verify", "compile"},
    "gradle": {"build", "assemble", "bootjar", "jar", "installdist", "shadowjar"},
    "gradlew": {"build", "assemble", "bootjar", "jar", "installdist", "shadowjar"},
    "dotnet": {"publish", "build"},
    "make": set(),
    "gcc": set(),
    "g++": set(),
    "cc": set(),
    "c++": set(),
    "clang": set(),
    "cmake": set(),
    "ghc": set(),
    "cabal": {"build", "install"},
    "stack": {"build", "install"},
    "swift": {"build"},
}


def _mb(n: int | None) -> str:
    return "unknown size" if n is None else f"~{n / 1e6:,.0f} MB"


def image_of(stage: Stage) -> ImageRef | None:
    """The external image a stage starts from, or None (a stage, scratch, unresolved ARG)."""
    if stage.parent is not None or stage.is_scratch or not stage.resolved:
        return None
    try:
        return parse_image_ref(stage.base_resolved)
    except ValueError:
        return None


def root_stage(ctx: CheckContext) -> Stage:
    """The stage whose base image the final image is built on."""
    return ctx.target_chain[0]


class SlimmerVariantAvailable(Rule):
    """The final image is built on a full official image where a slimmer variant of the same image exists.

    Why: the full variants of official images (``python:3.12``, ``node:20``, ``ruby:3.3``,
    ``debian:bookworm``...) carry compilers, headers, VCS clients and hundreds of libraries
    that an application rarely needs at runtime. The ``-slim`` variant has the same language
    runtime on the same C library (glibc) and distribution, so switching is usually a one-word
    change; add back the few packages the app really needs.

    Catches: the base of the final image (the first ``FROM`` of the stages the final stage is
    built on) when the variants data file knows a slimmer variant with the same C library.

    Leaves alone: build stages (their base does not ship), builder base images that carry
    ``ONBUILD`` triggers (they exist to compile what is built on them), images that are already slim,
    images whose only smaller variant uses another C library (alpine/musl: a behavioural
    change, suggested only by ``slimline fix --rebase`` with a warning), shell-less variants
    (Ubuntu chiseled) when the final image's own steps need a shell (a RUN, a shell-form CMD,
    ENTRYPOINT or HEALTHCHECK), releases a variant was never published for (chiseled .NET
    before 8.0), unknown images, and tags hidden behind unresolved build arguments.

    estimated_bytes: the uncompressed size of the current variant minus that of the
    suggested one, from ``slimline/data/base_images.toml`` (linux/amd64 figures, each with its
    source and date).
    """

    id = "SL101"
    name = "slimmer-base-variant"
    practice = Practice.BASE_IMAGE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        stage = root_stage(ctx)
        ref = image_of(stage)
        if ref is None or any(
            i.keyword == "ONBUILD" for s in ctx.target_chain for i in s.instructions
        ):
            return
        info = classify(ref)
        if info is None or info.toolchain:
            return
        needs_shell = _needs_shell(ctx)
        same_libc = [
            o for o in info.slimmer if not o.changes_libc and (o.variant.shell or not needs_shell)
        ]
        if not same_libc:
            return
        best = same_libc[0]
        ins = stage.from_instruction
        yield (
            self.at_offsets(
                ctx,
                *_base_offsets(ctx, stage),
                f"{ref} is the {info.variant.name} variant ({_mb(info.variant.uncompressed_bytes)}); "
                f"{best.image} is the same release on the same C library ({_mb(best.variant.uncompressed_bytes)})",
                estimated_bytes=best.saving_bytes,
            )
            if ins.values
            else self.at_instruction(ctx, ins, "slimmer variant available")
        )


def _needs_shell(ctx: CheckContext) -> bool:
    """Whether the final image's own steps run /bin/sh: a RUN, or a shell-form CMD,
    ENTRYPOINT or HEALTHCHECK. A shell-less base (Ubuntu chiseled) cannot build or run them."""
    for stage in ctx.target_chain:
        for ins in stage.instructions:
            if ins.keyword == "RUN":
                return True
            if ins.keyword in ("CMD", "ENTRYPOINT") and ins.args and not ins.json:
                return True
            if ins.keyword == "HEALTHCHECK" and ins.args.upper().startswith("CMD") and not ins.json:
                return True
    return False


class ToolchainInFinalImage(Rule):
    """A compiled program is built in a single stage that ships the whole toolchain.

    Why: toolchain images (``golang``, ``rust``, ``gcc``, ``maven``, ``gradle``,
    ``eclipse-temurin`` JDK, ``mcr.microsoft.com/dotnet/sdk``) weigh hundreds of MB to
    GB. When the final image is built on one and compiles the app in place, the compiler,
    its caches and the sources all ship. A multi-stage build compiles in a builder stage
    and copies only the result onto a runtime image (distroless, ``scratch``, a JRE, the
    .NET runtime).

    Catches: a final image whose base is a toolchain image and whose stages run a build
    command of that toolchain (``go build``, ``cargo build``, ``mvn package``,
    ``gradle build``, ``dotnet publish``, ``make``/``gcc``...).

    Leaves alone: toolchain images used in build stages; final images on a toolchain base
    that build nothing (development images, CI runners).

    estimated_bytes: the toolchain image's uncompressed size minus the recommended runtime
    image's, when both are in the variants data file; otherwise unknown.
    """

    id = "SL102"
    name = "toolchain-in-final-image"
    practice = Practice.BASE_IMAGE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        stage = root_stage(ctx)
        ref = image_of(stage)
        if ref is None:
            return
        info = classify(ref)
        if info is None or not info.toolchain:
            return
        build = self._build_command(ctx)
        if build is None:
            return
        runtime = info.runtime
        saving = _saving(info, runtime)
        hint = (
            f"copy the result onto {runtime}" if runtime else "copy the result onto a runtime image"
        )
        yield self.at_offsets(
            ctx,
            *_base_offsets(ctx, stage),
            f"the final image is built on the {ref} toolchain ({_mb(info.variant.uncompressed_bytes)}) "
            f"and compiles in place (`{build}`); build in a separate stage and {hint}",
            estimated_bytes=saving,
        )

    @staticmethod
    def _build_command(ctx: CheckContext) -> str | None:
        for run in ctx.final_runs():
            for command in run.commands:
                words = command.unwrapped()
                if not words:
                    continue
                prog = command.program.removeprefix("./")
                actions = _BUILD_COMMANDS.get(prog)
                if actions is None:
                    continue
                args = [w.text.lower() for w in words[1:] if not w.text.startswith("-")]
                if not actions or (args and args[0] in actions):
                    return " ".join(w.text for w in words[:2])
        return None


class UnknownPublisher(Rule):
    """A base image from an unknown publisher on Docker Hub.

    Why: anyone can push to a Docker Hub user namespace. Official images (``python``,
    ``debian``...) and images of known publishers (Docker's verified publishers, distroless,
    Chainguard, Microsoft, Red Hat, Bitnami...) are rebuilt for security fixes and documented;
    an image from ``someuser/python-tools`` may be stale, unmaintained or malicious.

    Catches: ``FROM user/repo`` on Docker Hub when the namespace is not a known publisher.

    Leaves alone: official and known-publisher images, images from any other registry (a
    company registry is its own publisher), stages, ``scratch``, and unresolved build
    arguments. Extra namespaces or registries can be trusted with the option
    ``trusted-registries`` (a list of prefixes such as ``"myorg/"``).
    """

    id = "SL103"
    name = "unknown-publisher"
    practice = Practice.BASE_IMAGE
    severity = Severity.INFO
    refs = ("DL3026",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        extra = ctx.options.get("trusted-registries", [])
        trusted = [str(x).rstrip("/") for x in extra] if isinstance(extra, list) else []
        for stage in ctx.stages:
            ref = image_of(stage)
            if ref is None or ref.registry is not None or "/" not in ref.repository:
                continue
            if is_trusted_publisher(ref):
                continue
            if any(ref.name == t or ref.name.startswith(t + "/") for t in trusted):
                continue
            namespace = ref.repository.split("/", 1)[0]
            yield self.at_offsets(
                ctx,
                *_base_offsets(ctx, stage),
                f"{ref.name} is published by '{namespace}', not an official image or a known publisher; "
                "prefer an official base or build your own from one",
            )


class DeprecatedBaseImage(Rule):
    """A base image whose official repository is deprecated.

    Why: deprecated official images (``openjdk``, ``centos``...) receive no more security
    updates; their maintained successors are named in the variants data file
    (``eclipse-temurin`` for ``openjdk``).

    Leaves alone: everything the variants data file does not mark deprecated.
    """

    id = "SL104"
    name = "deprecated-base-image"
    practice = Practice.BASE_IMAGE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for stage in ctx.stages:
            ref = image_of(stage)
            if ref is None:
                continue
            info = classify(ref)
            if info is None or not info.deprecated:
                continue
            successor = f"; use {info.replaced_by}" if info.replaced_by else ""
            yield self.at_offsets(
                ctx,
                *_base_offsets(ctx, stage),
                f"the {info.family} image is deprecated and no longer updated{successor}",
            )


def _saving(info: Classification, runtime: str | None) -> int | None:
    if runtime is None or info.variant.uncompressed_bytes is None:
        return None
    try:
        target = classify(parse_image_ref(runtime))
    except ValueError:
        return None
    if target is None or target.variant.uncompressed_bytes is None:
        return None
    return max(0, info.variant.uncompressed_bytes - target.variant.uncompressed_bytes)


def _base_offsets(ctx: CheckContext, stage: Stage) -> tuple[int, int]:
    """Source offsets of the image word of a FROM line."""
    ins = stage.from_instruction
    word = stage.base
    index = ins.args.find(word)
    if index < 0:
        return ins.span.offset, ins.span.offset + len(ins.keyword)
    span = ins.args_span(index, index + len(word))
    return span.offset, span.end_offset
