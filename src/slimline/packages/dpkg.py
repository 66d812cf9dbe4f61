"""Debian packages: dpkg's status database, and the per-package status.d of distroless images.

Files come from var/lib/dpkg/info/<name>[:<arch>].list (or status.d/<name>.md5sums, which is all
distroless keeps); licences from /usr/share/doc/<name>/copyright when it is machine-readable
(DEP-5), because dpkg itself records none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from slimline.image.files import ImageFiles
from slimline.image.layers import EntryKind
from slimline.packages._deb822 import paragraphs, relation_names
from slimline.packages._owned import Ownership, rooted, text_of
from slimline.packages._purl import distro, purl
from slimline.packages.base import Package
from slimline.packages.os_release import read_os_release

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d"
INFO = "var/lib/dpkg/info"
DOC = "usr/share/doc"

_DPKG_PREFIX = "var/lib/dpkg/"
_STATUS_D_PREFIX = STATUS_D + "/"
_INFO_PREFIX = INFO + "/"
_DOC_PREFIX = DOC + "/"
_LICENSE_FIELD = re.compile(r"^license:[ \t]*(\S[^\n]*)", re.MULTILINE | re.IGNORECASE)
# the states in which dpkg keeps no files of the package: it is gone, or only its conffiles are
_GONE = frozenset({"not-installed", "config-files"})


@dataclass(frozen=True, slots=True)
class _Stanza:
    fields: dict[str, str]
    location: str
    # status.d keeps each package's md5sums beside its stanza; None means info/<name>.list
    md5sums: str | None


class DpkgCataloger:
    name = "dpkg"

    def wants(self, path: str) -> bool:
        if path.startswith(_DPKG_PREFIX):
            return (
                path == STATUS
                or path.startswith(_STATUS_D_PREFIX)
                or (path.startswith(_INFO_PREFIX) and path.endswith(".list"))
            )
        return path.endswith("/copyright") and path.startswith(_DOC_PREFIX) and path.count("/") == 4

    def catalog(self, files: ImageFiles) -> Sequence[Package]:
        context = _Context(files)
        found: dict[tuple[str, str], Package] = {}
        for stanza in _stanzas(files):
            try:
                package = context.package(stanza)
            except Exception:
                # one hostile or corrupt stanza never costs the others
                continue
            if package is not None:
                found.setdefault((package.name, package.arch), package)
        return sorted(found.values(), key=lambda p: (p.name, p.arch, p.version))


def _stanzas(files: ImageFiles) -> list[_Stanza]:
    stanzas: list[_Stanza] = []
    text = text_of(files, STATUS)
    if text is not None:
        stanzas.extend(_Stanza(fields, STATUS, None) for fields in paragraphs(text))
    for path in sorted(files.children(STATUS_D)):
        if path.endswith(".md5sums"):
            continue
        text = text_of(files, path)
        if text is not None:
            stanzas.extend(_Stanza(fields, path, path + ".md5sums") for fields in paragraphs(text))
    return stanzas


class _Context:
    """What every package of one image shares: the distro, file lookups, parsed licences."""

    def __init__(self, files: ImageFiles) -> None:
        self.files = files
        os = read_os_release(files)
        self.namespace = os.id if os is not None and os.id else "debian"
        self.distro = distro(os)
        self.ownership = Ownership(files)
        self._licenses: dict[str, tuple[str, ...]] = {}

    def package(self, stanza: _Stanza) -> Package | None:
        fields = stanza.fields
        name = fields.get("package", "")
        version = fields.get("version", "")
        if not name or not version:
            return None
        state = _state(fields.get("status", ""))
        if state in _GONE:
            return None
        arch = fields.get("architecture", "")
        source_name, source_version = _source(fields.get("source", ""), name, version)
        depends = relation_names(
            ", ".join(v for v in (fields.get("pre-depends"), fields.get("depends")) if v)
        )
        listing, layer_path = self._listing(stanza, name, arch)
        owned, size = self.ownership.collect(listing)
        record = self.files.record(layer_path) or self.files.record(stanza.location)
        metadata: dict[str, str] = {}
        if state != "installed":
            metadata["status"] = state
        installed_kib = fields.get("installed-size", "")
        if installed_kib.isascii() and installed_kib.isdigit() and len(installed_kib) < 16:
            metadata["installed_size"] = str(int(installed_kib) * 1024)
        # what removing a package would also remove depends on these relations (apt keeps
        # recommended and suggested packages that are installed)
        for key in ("recommends", "suggests", "provides", "essential", "priority"):
            value = fields.get(key)
            if value:
                metadata[key] = value
        return Package(
            name=name,
            version=version,
            ecosystem="deb",
            purl=purl(
                "deb",
                name,
                version,
                namespace=self.namespace,
                qualifiers={"arch": arch, "distro": self.distro},
            ),
            location=stanza.location,
            cataloger=DpkgCataloger.name,
            arch=arch,
            source_name=source_name,
            source_version=source_version,
            licenses=self._copyright_licenses(name),
            depends=depends,
            files=owned,
            size_bytes=size,
            layer=record.layer if record is not None else None,
            metadata=metadata,
        )

    def _listing(self, stanza: _Stanza, name: str, arch: str) -> tuple[list[str], str]:
        """The package's listed paths and the file they came from."""
        if stanza.md5sums is not None:
            for path in (stanza.md5sums, f"{_STATUS_D_PREFIX}{name}.md5sums"):
                text = text_of(self.files, path)
                if text is not None:
                    return _md5sums_paths(text), path
            return [], stanza.location
        # Multi-Arch: same packages have arch-qualified file names; the others usually do not
        for path in (f"{_INFO_PREFIX}{name}:{arch}.list", f"{_INFO_PREFIX}{name}.list"):
            # most packages have one of the two: a lookup is cheaper than a failed read
            if path not in self.files.files:
                continue
            text = text_of(self.files, path)
            if text is not None:
                return rooted(text), path
        return [], stanza.location

    def _copyright_licenses(self, name: str) -> tuple[str, ...]:
        # doc directories of one source are often links to a sibling's: parse each file once
        listed = f"{_DOC_PREFIX}{name}/copyright"
        record = self.files.files.get(listed)
        path = listed if record is not None and record.kind is EntryKind.FILE else None
        if path is None:
            path = self.files.resolve(listed)
        if path is None:
            return ()
        cached = self._licenses.get(path)
        if cached is None:
            text = text_of(self.files, path)
            cached = dep5_licenses(text) if text is not None else ()
            self._licenses[path] = cached
        return cached


def _state(status: str) -> str:
    """The package state, the third word of "want flag state"; a missing field (status.d)
    means installed."""
    words = status.split()
    return words[2] if len(words) == 3 else "installed"


def _source(value: str, name: str, version: str) -> tuple[str, str]:
    """Source package name and version, defaulting to the binary's as dpkg-query's
    ${source:Package} and ${source:Version} do: "glibc (2.36-9)" gives ("glibc", "2.36-9")."""
    source, _, rest = value.strip().partition(" ")
    source_version = rest.strip()
    if source_version.startswith("(") and source_version.endswith(")"):
        source_version = source_version[1:-1].strip()
    else:
        source_version = ""
    return source or name, source_version or version


def _md5sums_paths(text: str) -> list[str]:
    paths = []
    for line in text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            paths.append(parts[1].strip().lstrip("/"))
    return paths


def dep5_licenses(text: str) -> tuple[str, ...]:
    """The short licence names of a machine-readable debian/copyright, in order of appearance;
    () for a free-form one, whose `License:` lines may be any prose."""
    if text.lstrip()[:7].lower() != "format:":
        return ()
    return tuple(dict.fromkeys(match.strip() for match in _LICENSE_FIELD.findall(text)))


CATALOGER = DpkgCataloger()
