"""pinning: a specific version: no ``latest``, no missing tag; digests and package versions
where asked (both opt-in)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from slimline.dockerfile.base_images import ImageRef, classify, latest_known_tag, parse_image_ref
from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.rules.base_image import image_of
from slimline.dockerfile.shell import Word
from slimline.findings import Finding, Practice, Severity

if TYPE_CHECKING:
    from slimline.dockerfile.fixes import FixContext, FixResult
    from slimline.dockerfile.fixes.images import ImageResolver


def _external_images(ctx: CheckContext) -> Iterator[tuple[Instruction, str, ImageRef]]:
    """Every external image the build pulls: FROM bases and ``COPY --from=<image>``."""
    for stage in ctx.stages:
        ref = image_of(stage)
        if ref is not None:
            yield stage.from_instruction, stage.base, ref
        for ins in stage.instructions:
            if ins.keyword not in ("COPY", "ADD"):
                continue
            for value in ins.flag_values("from"):
                if ctx.graph.find(value) is not None or "$" in value or value.isdigit():
                    continue
                try:
                    yield ins, value, parse_image_ref(value)
                except ValueError:
                    continue


def _word_offsets(ins: Instruction, word: str) -> tuple[int, int]:
    for flag in ins.flags:
        if flag.value == word:
            return flag.span.offset, flag.span.end_offset
    index = ins.args.find(word)
    if index < 0:
        return ins.span.offset, ins.span.offset + len(ins.keyword)
    span = ins.args_span(index, index + len(word))
    return span.offset, span.end_offset


def _suggestion(ref: ImageRef) -> str:
    info = classify(ImageRef(ref.registry, ref.repository, None, None))
    family = info.family if info is not None else ref.repository
    tag = latest_known_tag(family)
    return f" such as {ref.name}:{tag}" if tag else ""


def _image_word(ctx: FixContext, finding: Finding) -> tuple[int, int, str, ImageRef]:
    """Where the image reference a finding points at is written: (start, end, text, ref)."""
    from slimline.dockerfile.fixes import Unfixable
    from slimline.dockerfile.fixes.locate import finding_offset, instruction_at

    offset = finding_offset(ctx, finding)
    ins = instruction_at(ctx, offset)
    text = ctx.text
    end = offset
    while end < len(text) and not text[end].isspace():
        end += 1
    word = text[offset:end]
    if word.lower().startswith("--from="):
        offset += len("--from=")
        word = word[len("--from=") :]
    if not word or any(ch in word for ch in "\"'`"):
        raise Unfixable("the image reference is quoted or escaped")
    if "$" in word:
        raise Unfixable("a build argument names the image; change its default instead")
    if ins.keyword not in ("FROM", "COPY", "ADD"):
        raise Unfixable("the finding does not point at an image reference")
    try:
        ref = parse_image_ref(word)
    except ValueError as exc:
        raise Unfixable(f"cannot read the image reference: {exc}") from None
    return offset, end, word, ref


def resolver_of(ctx: FixContext) -> ImageResolver:
    from slimline.dockerfile.fixes.images import ImageResolver

    return ctx.options.resolver or ImageResolver(online=ctx.options.online)


def _pin_tag(ctx: FixContext, finding: Finding) -> FixResult:
    from slimline.dockerfile.edits import Edit
    from slimline.dockerfile.fixes import FixResult, Unfixable

    start, end, word, ref = _image_word(ctx, finding)
    tag, source = resolver_of(ctx).concrete_tag(ref)
    if tag is None:
        raise Unfixable(f"no concrete tag known for {ref.name}: {source}")
    if ref.tag is None:
        new = word + ":" + tag
    elif word.endswith(":" + ref.tag):
        new = word[: -len(ref.tag)] + tag
    else:
        raise Unfixable("cannot find the tag in the image reference")
    return FixResult.of([Edit(start, end, new)], f"{word} -> {new} (from {source})")


class UntaggedBaseImage(Rule):
    """A base image without a tag or digest.

    Why: an untagged image means ``latest``, which moves: the same Dockerfile builds a
    different image next month, and a new major version can break the build or the app.

    Catches: ``FROM image`` and ``COPY --from=image`` with neither tag nor digest.

    Leaves alone: ``scratch``, references to build stages, images pinned by digest, and
    images named through a build argument whose value is unknown.
    """

    id = "SL201"
    name = "untagged-base-image"
    practice = Practice.PINNING
    severity = Severity.WARNING
    refs = ("DL3006",)
    fixable = True
    fix_priority = 40

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins, word, ref in _external_images(ctx):
            if ref.tag is None and ref.digest is None:
                yield self.at_offsets(
                    ctx,
                    *_word_offsets(ins, word),
                    f"{ref.name} has no tag, so it means 'latest' and changes under you; pin a version{_suggestion(ref)}",
                )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        return _pin_tag(ctx, finding)


class LatestTag(Rule):
    """A base image tagged ``latest``.

    Why: ``latest`` is whatever was pushed last. Builds stop being reproducible and a new
    major version arrives unannounced.

    Catches: ``FROM image:latest`` and ``COPY --from=image:latest`` without a digest.

    Leaves alone: ``latest`` pinned by digest (``image:latest@sha256:...``), stages, and
    build arguments whose value is unknown.
    """

    id = "SL202"
    name = "latest-tag"
    practice = Practice.PINNING
    severity = Severity.WARNING
    refs = ("DL3007", "DKL-DI-0006", "DS-0001")
    fixable = True
    fix_priority = 40

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins, word, ref in _external_images(ctx):
            if ref.tag == "latest" and ref.digest is None:
                yield self.at_offsets(
                    ctx,
                    *_word_offsets(ins, word),
                    f"{ref} changes with every release; pin a version{_suggestion(ref)}",
                )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        return _pin_tag(ctx, finding)


class BaseImageWithoutDigest(Rule):
    """A base image not pinned by digest (opt-in: option ``pin-digests``).

    Why: a tag can be re-pushed; only a digest names exactly one image. Pinning digests
    makes builds reproducible and tamper-evident, at the cost of updating the digest (with
    a bot such as Renovate or Dependabot) to receive security fixes.

    Catches: ``FROM`` and ``COPY --from`` images without ``@sha256:...``.
    """

    id = "SL203"
    name = "base-image-digest"
    practice = Practice.PINNING
    severity = Severity.INFO
    refs = ()
    default_enabled = False
    fixable = True
    fix_priority = 45

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins, word, ref in _external_images(ctx):
            if ref.digest is None:
                yield self.at_offsets(
                    ctx,
                    *_word_offsets(ins, word),
                    f"{ref} is not pinned by digest; append @sha256:<digest> of the image you tested",
                )

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """``image:tag@sha256:...`` with the digest from the local engine or, with --online,
        the registry (only when asked: ``slimline fix --pin-digest``)."""
        from slimline.dockerfile.edits import Edit
        from slimline.dockerfile.fixes import FixResult, Unfixable

        if not ctx.options.pin_digests:
            raise Unfixable("pinning digests is asked for with --pin-digest")
        start, end, word, ref = _image_word(ctx, finding)
        digest, source = resolver_of(ctx).digest(ref)
        if digest is None:
            raise Unfixable(f"no digest for {ref}: {source}")
        new = f"{word}@{digest}"
        return FixResult.of([Edit(start, end, new)], f"pinned {word} to {digest} (from {source})")


_PINNED = {
    "apt": re.compile(r"^[^=]+=.+$"),
    "apk": re.compile(r"^[^=<>~]+(=|~|>=|<=|<|>).+$"),
    "dnf": re.compile(r"^.+-\d[\w.+~^]*(-[\w.+~^]+)?$"),
    "zypper": re.compile(r"^[^=<>]+(=|>=|<=|<|>).+$"),
    "pip": re.compile(r"(==|~=|===|>=|<=|<|>|@)"),
    "npm": re.compile(r"^(@[^/]+/)?[^@]+@.+$"),
    "gem": re.compile(r":"),
}
_SKIP_PACKAGE = re.compile(r"^(\.|/|\$|-|https?:|git\+|file:)|\.(whl|tar\.gz|zip|deb|rpm|apk|tgz)$")


def _unpinned(op: PackageOp) -> list[Word]:
    pattern = _PINNED.get(op.manager)
    if pattern is None or op.action not in ("install", "add"):
        return []
    if op.manager == "npm" and op.raw_action not in ("install", "i", "add"):
        return []
    if op.manager == "npm" and not op.packages:
        return []  # npm install from package.json: the lock file pins
    if op.manager == "gem" and (op.has("-v") or op.has("--version")):
        return []
    if op.manager == "pip" and (
        op.has("-r") or op.has("--requirement") or op.has("-c") or op.has("--constraint")
    ):
        packages = op.packages
    else:
        packages = op.packages
    out = []
    for word in packages:
        text = word.text
        if word.dynamic or _SKIP_PACKAGE.search(text) or not text:
            continue
        if not pattern.search(text):
            out.append(word)
    return out


class UnpinnedPackages(Rule):
    """Packages installed without a version (opt-in: option ``pin-packages``).

    Why: without versions, two builds of the same Dockerfile can install different packages.
    Off by default: pinning distribution packages (hadolint's DL3008, its most disputed rule)
    breaks builds as soon as the archive drops the old version, and the base image tag
    already fixes the distribution release. Turn it on where reproducibility matters more.

    Catches: apt, apk, dnf/yum, zypper, pip, npm and gem installs naming a package without
    a version (``curl`` rather than ``curl=7.88.1-10+deb12u5``, ``flask`` rather than
    ``flask==3.0.3``).

    Leaves alone: installs from requirement or lock files, local paths, URLs, archives, and
    names built from variables.
    """

    id = "SL204"
    name = "unpinned-packages"
    practice = Practice.PINNING
    severity = Severity.INFO
    refs = ("DL3008", "DL3013", "DL3016", "DL3018", "DL3028", "DL3033", "DL3037", "DL3041")
    default_enabled = False

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            for op in run.ops:
                words = _unpinned(op)
                if words:
                    names = ", ".join(w.text for w in words[:5]) + (
                        " ..." if len(words) > 5 else ""
                    )
                    yield self.at_command(
                        ctx,
                        op.command,
                        f"{op.tool} installs {names} without a version",
                        word=words[0],
                    )
