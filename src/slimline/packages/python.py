"""Python distributions installed anywhere in the image: site-packages, Debian's dist-packages,
virtualenvs under /app or /opt, ~/.local.

Three layouts: `*.dist-info/` (pip and every modern installer: METADATA, RECORD lists the
files), `*.egg-info/` directories (setuptools and Debian's packages: PKG-INFO, then
installed-files.txt, top_level.txt or SOURCES.txt for the files) and single-file `*.egg-info`
(distutils). Vendored copies (setuptools/_vendor/*.dist-info) are real code in the image, so they
are reported too, at their own location.
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections.abc import Sequence

from slimline.image.files import ImageFiles
from slimline.image.layers import EntryKind
from slimline.packages._owned import Ownership, text_of
from slimline.packages._purl import purl
from slimline.packages.base import Package

_DIST_INFO_FILES = frozenset({"METADATA", "RECORD", "INSTALLER", "top_level.txt"})
_EGG_INFO_FILES = frozenset(
    {"PKG-INFO", "installed-files.txt", "top_level.txt", "SOURCES.txt", "requires.txt"}
)
# one C-level test that rejects almost every path before any string is split
_WANTED_ENDINGS = (".egg-info", *(f"/{name}" for name in _DIST_INFO_FILES | _EGG_INFO_FILES))
_METADATA_ENDINGS = (".dist-info/METADATA", ".egg-info/PKG-INFO", ".egg-info")
_NAME_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MAX_LICENSE_FIELD = 120


def normalize_name(name: str) -> str:
    """PEP 503: runs of "-", "_" and "." become one "-", lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_metadata(text: str) -> dict[str, list[str]]:
    """The header fields of METADATA/PKG-INFO (RFC 822 style), lower-cased names, every value of
    a repeated field; the description body after the first blank line is not read."""
    head = text.replace("\r\n", "\n").partition("\n\n")[0]
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in head.split("\n"):
        if not line:
            break
        if line[0] in " \t":
            if last:
                last[-1] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            last = None
            continue
        last = fields.setdefault(key.strip().lower(), [])
        last.append(value.strip())
    return fields


def licenses_of(fields: dict[str, list[str]]) -> tuple[str, ...]:
    """License-Expression, else a short License field, else the licence classifiers."""
    for value in fields.get("license-expression", []):
        if value.strip():
            return (value.strip(),)
    for value in fields.get("license", []):
        value = value.strip()
        # the field often holds a whole licence text: only a name is a licence name
        short = value and "\n" not in value and len(value) <= _MAX_LICENSE_FIELD
        if short and value.upper() not in ("UNKNOWN", "NONE"):
            return (value,)
    found: dict[str, None] = {}
    for classifier in fields.get("classifier", []):
        parts = [part.strip() for part in classifier.split("::")]
        if len(parts) >= 2 and parts[0] == "License" and parts[-1] != "OSI Approved":
            found[parts[-1]] = None
    return tuple(found)


def requirement_names(fields: dict[str, list[str]]) -> tuple[str, ...]:
    """The distributions that Requires-Dist names, without those needed only for an extra."""
    names: dict[str, None] = {}
    for requirement in fields.get("requires-dist", []):
        marker = requirement.partition(";")[2]
        if "extra" in marker:
            continue
        match = _NAME_PREFIX.match(requirement.strip())
        if match:
            names[match.group()] = None
    return tuple(names)


class PythonCataloger:
    name = "python"

    def wants(self, path: str) -> bool:
        if not path.endswith(_WANTED_ENDINGS):
            return False
        if path.endswith(".egg-info"):
            return True
        head, _, base = path.rpartition("/")
        if base in _DIST_INFO_FILES and head.endswith(".dist-info"):
            return True
        return base in _EGG_INFO_FILES and head.endswith(".egg-info")

    def catalog(self, files: ImageFiles) -> Sequence[Package]:
        tree = files.files
        ownership = Ownership(files)
        packages: list[Package] = []
        for path in [p for p in tree if p.endswith(_METADATA_ENDINGS)]:
            record = tree[path]
            if record.kind is not EntryKind.FILE and record.kind is not EntryKind.HARDLINK:
                continue
            try:
                package = _package(files, ownership, path, record.layer)
            except Exception:
                continue
            if package is not None:
                packages.append(package)
        return sorted(packages, key=lambda p: (p.name.lower(), p.version, p.location))


def _package(files: ImageFiles, ownership: Ownership, path: str, layer: int) -> Package | None:
    text = text_of(files, path)
    if text is None:
        return None
    fields = parse_metadata(text)
    name = (fields.get("name") or [""])[0].strip()
    version = (fields.get("version") or [""])[0].strip()
    if not name or not version:
        return None
    metadata: dict[str, str] = {}
    if path.endswith("/METADATA"):
        info_dir = posixpath.dirname(path)
        listed = _dist_info_files(files, info_dir)
        installer = text_of(files, f"{info_dir}/INSTALLER")
        if installer and installer.strip():
            metadata["installer"] = installer.strip().splitlines()[0][:100]
    elif path.endswith("/PKG-INFO"):
        info_dir = posixpath.dirname(path)
        listed = _egg_info_files(files, info_dir)
        requires = text_of(files, f"{info_dir}/requires.txt")
        if requires is not None and "requires-dist" not in fields:
            fields["requires-dist"] = _requires_txt(requires)
    else:
        listed = [path]
    owned, size = ownership.collect(listed)
    return Package(
        name=name,
        version=version,
        ecosystem="pypi",
        purl=purl("pypi", normalize_name(name), version),
        location=path,
        cataloger=PythonCataloger.name,
        licenses=licenses_of(fields),
        depends=requirement_names(fields),
        files=owned,
        size_bytes=size,
        layer=layer,
        metadata=metadata,
    )


def _requires_txt(text: str) -> list[str]:
    """An egg-info's requires.txt as Requires-Dist values: the lines before the first
    `[extra]` or `[:marker]` section, which are the unconditional requirements."""
    requirements = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            break
        if line and not line.startswith("#"):
            requirements.append(line)
    return requirements


def _dist_info_files(files: ImageFiles, info_dir: str) -> list[str]:
    """RECORD's paths (relative to the directory that holds the .dist-info, possibly with ../ or
    absolute), plus the .dist-info's own files, which RECORD may leave out."""
    site = posixpath.dirname(info_dir)
    listed = _own_files(files, info_dir)
    record = text_of(files, f"{info_dir}/RECORD")
    if record is not None:
        listed.extend(_under(site, path) for path in _record_paths(record))
    else:
        listed.extend(_top_level_files(files, info_dir, site))
    return listed


def _record_paths(text: str) -> list[str]:
    """The first column of RECORD (CSV: paths with commas are quoted); a malformed row ends
    the list rather than losing the package."""
    paths = []
    try:
        for row in csv.reader(text.splitlines()):
            if row and row[0]:
                paths.append(row[0])
    except csv.Error:
        pass
    return paths


def _egg_info_files(files: ImageFiles, info_dir: str) -> list[str]:
    site = posixpath.dirname(info_dir)
    listed = _own_files(files, info_dir)
    installed = text_of(files, f"{info_dir}/installed-files.txt")
    if installed is not None:
        # relative to the .egg-info directory itself
        listed.extend(_under(info_dir, line.strip()) for line in installed.splitlines())
        return listed
    listed.extend(_top_level_files(files, info_dir, site))
    sources = text_of(files, f"{info_dir}/SOURCES.txt")
    if sources is not None:
        for line in sources.splitlines():
            source = line.strip()
            # sources are relative to the project, often with its code under src/
            for candidate in (source, source.removeprefix("src/")):
                if candidate and f"{site}/{candidate}" in files:
                    listed.append(f"{site}/{candidate}")
    return listed


def _top_level_files(files: ImageFiles, info_dir: str, site: str) -> list[str]:
    """The files of the modules and packages named in top_level.txt."""
    text = text_of(files, f"{info_dir}/top_level.txt")
    if text is None:
        return []
    names = {line.strip() for line in text.splitlines() if line.strip()}
    if not names:
        return []
    listed: list[str] = []
    for child in files.children(site):
        base = child.rpartition("/")[2]
        module = base.partition(".")[0]
        if module not in names:
            continue
        record = files.record(child)
        if record is None:
            continue
        if record.kind is EntryKind.DIR:
            if base == module:
                listed.extend(path for path, _ in files.walk(child))
        elif base == f"{module}.py" or base.endswith(".so") or base.endswith(".pyd"):
            listed.append(child)
    return listed


def _own_files(files: ImageFiles, info_dir: str) -> list[str]:
    return [path for path, _ in files.walk(info_dir)]


def _under(directory: str, relative: str) -> str:
    """`relative` joined to `directory` and normalised; absolute paths are taken from the root."""
    if relative.startswith("/"):
        return posixpath.normpath(relative).lstrip("/")
    return posixpath.normpath(f"{directory}/{relative}")


CATALOGER = PythonCataloger()
