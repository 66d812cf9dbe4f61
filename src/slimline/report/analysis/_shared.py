"""Helpers shared by the analysis formats (not a format: it declares no NAME)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from slimline.findings import Severity
from slimline.image.model import ImageAnalysis, ImageFinding, LayerSummary
from slimline.packages.base import Package

REDACTED = "***"

# `|2 A=1 B=2 /bin/sh -c ...`: the classic builder's record of the build arguments a RUN saw;
# BuildKit writes the same after `RUN `. Their values are as secret as an ENV value can be.
_BUILD_ARGS = re.compile(r"^(RUN\s+)?\|(\d+)\s+")
_NOP = re.compile(r"^(?:\S*/)?(?:ba|da)?sh\s+-c\s+#\(nop\)\s*")
# `/bin/sh -c `, `/bin/bash -o pipefail -c `, `/bin/bash -euxo pipefail -c `
_SHELL = re.compile(r"^(?:\S*/)?(?:ba|da)?sh\s+(?:-[a-zA-Z]*o\s+\S+\s+|-[a-zA-Z]+\s+)*?-c\s+")
_BUILDKIT_MARK = re.compile(r"\s*#\s*buildkit\s*$")


def redact_build_args(created_by: str) -> str:
    """`created_by` with the values of the recorded build arguments replaced by REDACTED.

    A value containing spaces cannot be told apart from the command that follows it; only its
    first word is replaced then (the builders record such values unquoted).
    """
    match = _BUILD_ARGS.match(created_by)
    if match is None:
        return created_by
    count = int(match.group(2))
    pieces = created_by[match.end() :].split(" ", count)
    names = [
        arg.split("=", 1)[0] + "=" + REDACTED if "=" in arg else REDACTED for arg in pieces[:count]
    ]
    rest = pieces[count:]
    return match.group(0) + " ".join(names + rest)


def instruction_of(created_by: str) -> str:
    """The instruction a history entry records, on one line, as a Dockerfile would say it:
    `RUN apt-get update`, `COPY . /app`; build arguments and shell prefixes left out."""
    text = " ".join(created_by.split())
    text = _BUILDKIT_MARK.sub("", text)
    nop = _NOP.match(text)
    if nop is not None:
        return text[nop.end() :]
    is_run = text.startswith("RUN ")
    if is_run:
        text = text[4:]
    args = _BUILD_ARGS.match(text)
    if args is not None:
        pieces = text[args.end() :].split(" ", int(args.group(2)))
        text = pieces[-1] if len(pieces) > int(args.group(2)) else ""
        is_run = True
    shell = _SHELL.match(text)
    if shell is not None:
        return "RUN " + text[shell.end() :]
    return "RUN " + text if is_run else text


def layer_source(layer: LayerSummary, dockerfile: str | None) -> str:
    """`Dockerfile:12` when the layer was mapped to a line of the Dockerfile, else ""."""
    if layer.dockerfile_line is None:
        return ""
    return f"{dockerfile or 'Dockerfile'}:{layer.dockerfile_line}"


def platform_of(analysis: ImageAnalysis) -> str:
    """`os/arch[/variant]`, or "" when the image does not say (a config without os and
    architecture gives "/")."""
    parts = analysis.platform.split("/")
    return analysis.platform if all(parts[:2]) and len(parts) >= 2 else ""


def image_path(path: str) -> str:
    """A path of the image's filesystem, absolute: the models keep some root-relative."""
    return "/" + path.lstrip("/")


def short_id(digest: str | None) -> str:
    """`sha256:0123456789ab...` as engines show an image ID: the first 12 hex digits."""
    if not digest:
        return ""
    algorithm, _, value = digest.partition(":")
    return value[:12] if value and algorithm == "sha256" else digest


def ordered_findings(findings: Iterable[ImageFinding]) -> list[ImageFinding]:
    """Most severe first, then the most bytes, then by rule and title (stable output)."""
    return sorted(findings, key=lambda f: (-f.severity.rank, -f.bytes, f.rule, f.title, f.paths))


def ordered_packages(packages: Iterable[Package]) -> list[Package]:
    """By ecosystem, name, version and location: the same order on every run."""
    return sorted(packages, key=lambda p: (p.ecosystem, p.name, p.version, p.location, p.purl))


def biggest_packages(packages: Iterable[Package], count: int) -> list[Package]:
    return sorted(packages, key=lambda p: (-p.size_bytes, p.ecosystem, p.name, p.version))[:count]


def severity_counts(findings: Iterable[ImageFinding]) -> dict[Severity, int]:
    counts = Counter(f.severity for f in findings)
    return {severity: counts[severity] for severity in Severity}


def ecosystem_counts(packages: Iterable[Package]) -> dict[str, int]:
    """Packages per ecosystem, the most common first, then by name."""
    counts = Counter(p.ecosystem for p in packages)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def installers(packages: Iterable[Package]) -> dict[str, Package]:
    """purl -> package, to name the package an `installed_by` purl points at."""
    found: dict[str, Package] = {}
    for package in packages:
        found.setdefault(package.purl, package)
    return found
