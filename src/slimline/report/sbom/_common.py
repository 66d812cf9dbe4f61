"""What both SBOM formats derive from an analysis (not a format: it declares no NAME).

- a unique reference per package (the purl, made unique when one purl was found twice);
- the dependency graph: the distribution package that installed a language package, and the
  `depends` of every package resolved to the packages found in the same ecosystem;
- licences as valid SPDX expressions where they can be, and the rest kept as names;
- the image's name and version, and a creation time and document id that are reproducible
  when the options or SOURCE_DATE_EPOCH fix the time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from slimline.image.model import ImageAnalysis
from slimline.packages.base import Package
from slimline.report.analysis._shared import ordered_packages
from slimline.report.sbom.options import SbomOptions

# purl types of the packages a distribution installs: they belong to the operating system
DISTRO_ECOSYSTEMS = frozenset({"deb", "apk", "rpm", "alpm"})
# the namespace of the document ids slimline derives (uuid5)
_NAMESPACE = uuid.UUID("6f6b3a58-3f8e-5a8b-9a55-3c6d1b2e9f10")


@dataclass(frozen=True, slots=True)
class Catalog:
    """The packages in document order, with their references and the edges between them
    (by index into `packages`, sorted, never a package to itself)."""

    packages: tuple[Package, ...]
    refs: tuple[str, ...]
    # the packages each one's metadata depends on, resolved by name in its ecosystem
    depends: dict[int, tuple[int, ...]]
    # the language packages each distribution package installed
    installs: dict[int, tuple[int, ...]]

    def is_distro(self, index: int) -> bool:
        return self.packages[index].ecosystem in DISTRO_ECOSYSTEMS

    @property
    def installed(self) -> frozenset[int]:
        return frozenset(i for targets in self.installs.values() for i in targets)

    def edges(self, index: int) -> tuple[int, ...]:
        return tuple(sorted({*self.depends[index], *self.installs[index]}))


def catalog(analysis: ImageAnalysis) -> Catalog:
    packages = tuple(ordered_packages(analysis.packages))
    by_purl: dict[str, int] = {}
    by_name: dict[tuple[str, str], int] = {}
    for index, package in enumerate(packages):
        by_purl.setdefault(package.purl, index)
        by_name.setdefault((package.ecosystem, normal_name(package.ecosystem, package.name)), index)
    depends: dict[int, set[int]] = {index: set() for index in range(len(packages))}
    installs: dict[int, set[int]] = {index: set() for index in range(len(packages))}
    for index, package in enumerate(packages):
        for alternatives in dependency_names(package):
            for name in alternatives:
                target = by_name.get((package.ecosystem, name))
                if target is not None:
                    if target != index:
                        depends[index].add(target)
                    break
        owner = by_purl.get(package.installed_by) if package.installed_by else None
        if owner is not None and owner != index:
            installs[owner].add(index)
    return Catalog(
        packages=packages,
        refs=_unique_refs(packages),
        depends={index: tuple(sorted(targets)) for index, targets in depends.items()},
        installs={index: tuple(sorted(targets)) for index, targets in installs.items()},
    )


def _unique_refs(packages: Sequence[Package]) -> tuple[str, ...]:
    """The purl of each package; one found more than once gets a `package-id` qualifier made
    from where it was found, the way syft tells such packages apart."""
    counts = Counter(package.purl for package in packages)
    refs: list[str] = []
    taken: set[str] = set()
    for package in packages:
        ref = package.purl
        if counts[ref] > 1:
            seed = f"{package.location}\x00{package.name}\x00{package.version}"
            digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:16]
            ref = f"{ref}{'&' if '?' in ref else '?'}package-id={digest}"
        base, n = ref, 1
        while ref in taken:
            n += 1
            ref = f"{base}-{n}"
        taken.add(ref)
        refs.append(ref)
    return tuple(refs)


_DEB_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9+.-]*)")
_PEP508_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_GENERIC_NAME = re.compile(r"^([^\s<>=!~^(,;\[]+)")


def normal_name(ecosystem: str, name: str) -> str:
    """The form two spellings of one package name share: PEP 503 for Python, lower case for
    the distributions (whose names are lower case by policy), the name itself elsewhere."""
    if ecosystem == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    if ecosystem in DISTRO_ECOSYSTEMS:
        return name.lower()
    return name


def dependency_names(package: Package) -> list[list[str]]:
    """For each `depends` entry, the names it accepts (several for Debian's `a | b`), in the
    form normal_name gives. Virtual requirements (apk's `so:`, `cmd:`, `pc:`) are left out:
    only the package index knows who provides them."""
    found: list[list[str]] = []
    for entry in package.depends:
        alternatives = entry.split("|") if package.ecosystem in DISTRO_ECOSYSTEMS else [entry]
        names = []
        for alternative in alternatives:
            name = _dependency_name(package.ecosystem, alternative.strip())
            if name:
                names.append(normal_name(package.ecosystem, name))
        if names:
            found.append(names)
    return found


def _dependency_name(ecosystem: str, text: str) -> str | None:
    if ecosystem == "apk" and (text.startswith("!") or re.match(r"^[a-z]+:", text)):
        return None  # a conflict, or a virtual requirement
    if ecosystem == "npm":
        # `name@range`; a scoped name starts with its own @
        at = text.find("@", 1)
        return (text[:at] if at > 0 else text).strip() or None
    pattern = {"deb": _DEB_NAME, "pypi": _PEP508_NAME}.get(ecosystem, _GENERIC_NAME)
    match = pattern.match(text)
    return match.group(1) if match else None


# Licences: what the package metadata says, as valid SPDX expressions where it can be.

_OPERATORS = {"AND", "OR", "WITH"}
# Debian's short names for the GNU licences (copyright-format 1.0): GPL-2, GPL-2+, LGPL-2.1+
_GNU_SHORT = re.compile(r"^(A?GPL|LGPL|GFDL)-(\d)(?:\.(\d))?(\+)?$", re.IGNORECASE)
_ALIASES = {"expat": "MIT"}


@lru_cache(maxsize=4096)
def spdx_expression(text: str) -> str | None:
    """`text` as a valid SPDX licence expression with canonical ids, or None when it is not
    one. Debian's short names for the GNU licences and `Expat` are translated."""
    from cyclonedx.spdx import fixup_id, is_expression

    tokens = re.findall(r"\(|\)|[^\s()]+", text)
    if not tokens:
        return None
    canonical: list[str] = []
    for position, token in enumerate(tokens):
        upper = token.upper()
        if upper in _OPERATORS:
            canonical.append(upper)
            continue
        if token in "()":
            canonical.append(token)
            continue
        after_with = position > 0 and tokens[position - 1].upper() == "WITH"
        # Debian's names first: `LGPL-2.1+` is also a deprecated SPDX id, for the same licence
        known = (None if after_with else _translated(token)) or fixup_id(token)
        if known is None:
            return None
        canonical.append(known)
    result = " ".join(canonical).replace("( ", "(").replace(" )", ")")
    return result if is_expression(result) else None


def _translated(token: str) -> str | None:
    from cyclonedx.spdx import fixup_id

    alias = _ALIASES.get(token.lower())
    if alias is not None:
        return alias
    gnu = _GNU_SHORT.match(token)
    if gnu is None:
        return None
    family, major, minor, plus = gnu.groups()
    candidate = f"{family.upper()}-{major}.{minor or '0'}-{'or-later' if plus else 'only'}"
    return fixup_id(candidate)


def is_compound(expression: str) -> bool:
    return any(f" {operator} " in f" {expression} " for operator in _OPERATORS)


def conjunction(expressions: Sequence[str]) -> str:
    """Several licences that all apply, as one expression."""
    if len(expressions) == 1:
        return expressions[0]
    return " AND ".join(f"({e})" if is_compound(e) else e for e in expressions)


# The image, the time and the document id.


def image_name_and_version(analysis: ImageAnalysis) -> tuple[str, str]:
    """`registry/repo:tag` -> (`registry/repo`, `tag`); with a digest, the digest is the
    version. Without either, the version is the manifest digest or the image ID when known."""
    name = analysis.name
    if "@" in name:
        repository, _, digest = name.partition("@")
        return _without_tag(repository), digest
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash and colon > 0:
        return name[:colon], name[colon + 1 :]
    return name, manifest_digest(analysis) or analysis.image_id or ""


def _without_tag(repository: str) -> str:
    slash, colon = repository.rfind("/"), repository.rfind(":")
    return repository[:colon] if colon > slash and colon > 0 else repository


def manifest_digest(analysis: ImageAnalysis) -> str | None:
    for reference in analysis.repo_digests:
        _, _, digest = reference.rpartition("@")
        if digest:
            return digest
    return None


def image_purl(analysis: ImageAnalysis) -> str | None:
    """pkg:oci/NAME@DIGEST?repository_url=...&tag=...: only for a known manifest digest."""
    from packageurl import PackageURL

    if not analysis.repo_digests:
        return None
    repository, _, digest = analysis.repo_digests[0].rpartition("@")
    if not repository or not digest:
        return None
    _, tag = image_name_and_version(analysis)
    qualifiers = {"repository_url": repository.lower()}
    if tag and tag != digest and not tag.startswith("sha256:"):
        qualifiers["tag"] = tag
    arch = analysis.config.architecture
    if arch:
        qualifiers["arch"] = arch
    name = repository.rsplit("/", 1)[-1].lower()
    return str(PackageURL(type="oci", name=name, version=digest, qualifiers=qualifiers))


def creation_time(options: SbomOptions) -> datetime:
    """The options' time, else SOURCE_DATE_EPOCH's, else now; UTC, whole seconds.

    ValueError when SOURCE_DATE_EPOCH is set to something else than a number of seconds.
    """
    created = options.created
    if created is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch:
            if not epoch.isdigit():
                raise ValueError(f"SOURCE_DATE_EPOCH is not a number of seconds: {epoch!r}")
            created = datetime.fromtimestamp(int(epoch), UTC)
        else:
            created = datetime.now(UTC)
    elif created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(UTC).replace(microsecond=0)


def document_id(
    options: SbomOptions, kind: str, analysis: ImageAnalysis, refs: Sequence[str], created: datetime
) -> uuid.UUID:
    """The options' serial, else a UUID derived from what the document says and when."""
    if options.serial is not None:
        return options.serial
    key = json.dumps(
        [
            kind,
            options.tool_version,
            created.isoformat(),
            analysis.name,
            analysis.image_id,
            list(analysis.repo_digests),
            list(refs),
        ]
    )
    return uuid.uuid5(_NAMESPACE, key)
