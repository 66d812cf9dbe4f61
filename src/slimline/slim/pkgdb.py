"""The package databases of a slim image, rewritten to list exactly what remains.

dpkg's status (and the per-package status.d of distroless images) and apk's installed database
keep the paragraphs of the kept packages, copied verbatim. The file lists of kept packages
(dpkg's info/<pkg>.list and .md5sums, apk's F:/R: lines) lose the paths that existed in the
original and are not in the slim image; a path that was listed but already absent stays listed,
as the original had it. The info files of removed packages go. Language packages (Python's
dist-info and egg-info, npm's package.json) have no shared database: a removed one is removed
with its metadata, which `metadata_paths` names.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from slimline.image.files import ImageFiles
from slimline.packages._owned import Ownership
from slimline.packages.base import Package
from slimline.slim.layer import Replacement

DPKG_STATUS = "var/lib/dpkg/status"
DPKG_STATUS_D = "var/lib/dpkg/status.d"
DPKG_INFO = "var/lib/dpkg/info"
APK_INSTALLED = "lib/apk/db/installed"

_DPKG_PREFIX = "var/lib/dpkg/"
_STATUS_D_PREFIX = DPKG_STATUS_D + "/"
_INFO_PREFIX = DPKG_INFO + "/"
_FILE_LISTS = (".list", ".md5sums")
_DIST_INFO_FILES = ("/METADATA", "/PKG-INFO")
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass
class DatabaseEdit:
    """New bytes for database files, and paths to leave out of the slim image."""

    replacements: dict[str, Replacement] = field(default_factory=dict)
    drop: set[str] = field(default_factory=set)


def capture_predicate() -> Callable[[str], bool]:
    """The files whose bytes `rewrite_databases` reads: to be captured while layers stream."""

    def wants(path: str) -> bool:
        if path.startswith(_DPKG_PREFIX):
            return (
                path == DPKG_STATUS
                or path.startswith(_STATUS_D_PREFIX)
                or (path.startswith(_INFO_PREFIX) and path.endswith(_FILE_LISTS))
            )
        return path == APK_INSTALLED

    return wants


def rewrite_databases(
    files: ImageFiles,
    packages: Sequence[Package],
    kept_packages: Collection[str],
    keep: Collection[str],
) -> DatabaseEdit:
    """What makes the databases of the image that keeps `keep` (paths of `files`) list exactly
    the packages whose purls are `kept_packages`. Databases that `keep` leaves out stay out."""
    kept = [p for p in packages if p.purl in kept_packages]
    removed = [p for p in packages if p.purl not in kept_packages]
    remaining = _with_parents(keep)
    edit = DatabaseEdit()
    lists = _Lists(files, remaining)
    _dpkg(files, kept, keep, lists, edit)
    _apk(files, kept, keep, lists, edit)
    kept_locations = {p.location for p in kept}
    for package in removed:
        # metadata that a kept distribution package installed stays with it
        if package.ecosystem in ("pypi", "npm") and package.installed_by not in kept_packages:
            edit.drop |= metadata_paths(files, package) - kept_locations
    edit.drop &= set(keep)
    return edit


def metadata_paths(files: ImageFiles, package: Package) -> set[str]:
    """The paths that describe `package` (not its code): a Python distribution's dist-info or
    egg-info, an npm package's package.json, a Debian package's info files and status.d entry.
    apk packages have none of their own: the shared database describes them."""
    location = package.location
    if package.ecosystem == "pypi":
        root = posixpath.dirname(location) if location.endswith(_DIST_INFO_FILES) else location
        return {root, *(path for path, _ in files.walk(root))} if root in files else set()
    if package.ecosystem == "npm":
        return {location} if location in files else set()
    if package.ecosystem == "deb":
        owners = {(package.name, ""), (package.name, package.arch)}
        found = {
            path
            for path in files.children(DPKG_INFO)
            if _info_owner(path.rpartition("/")[2]) in owners
        }
        if location.startswith(_STATUS_D_PREFIX):
            found |= {location, location + ".md5sums"} & set(files.files)
        return found
    return set()


def _with_parents(paths: Iterable[str]) -> set[str]:
    found = set(paths)
    for path in list(found):
        parent = posixpath.dirname(path)
        while parent and parent not in found:
            found.add(parent)
            parent = posixpath.dirname(parent)
    return found


class _Lists:
    """Decides which listed paths a rewritten file list keeps: those that are in the slim image,
    and those that the original image did not have either."""

    def __init__(self, files: ImageFiles, remaining: set[str]) -> None:
        self._ownership = Ownership(files)
        self._remaining = remaining

    def keeps(self, listed: str) -> bool:
        path = listed.strip().lstrip("/")
        if not path or path == ".":
            return True
        located = self._ownership.locate(path)
        return located is None or located in self._remaining


# ---- dpkg --------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[list[str]]:
    """The paragraphs of a deb822 or apk database, each as its lines, exactly as written."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    # split on newlines only: str.splitlines also splits on form feeds and other separators
    # that a description may hold
    for line in text.split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def _join(paragraphs: Sequence[Sequence[str]]) -> str:
    """Paragraphs as dpkg and apk write them: each followed by a blank line."""
    return "".join("\n".join(lines) + "\n\n" for lines in paragraphs)


def _field(lines: Sequence[str], name: str) -> str:
    prefix = name.lower() + ":"
    for line in lines:
        if line[:1] not in (" ", "\t") and line.lower().startswith(prefix):
            return line[len(prefix) :].strip()
    return ""


def _info_owner(base: str) -> tuple[str, str] | None:
    """(package, arch or "") of an info file name like `libc6:amd64.list`; None for dpkg's own
    files there (`format`)."""
    stem, dot, _ = base.rpartition(".")
    if not dot or not stem:
        return None
    name, _, arch = stem.partition(":")
    return name, arch


def _text(files: ImageFiles, path: str) -> str | None:
    data = files.read(path)
    return None if data is None else data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _dpkg(
    files: ImageFiles,
    kept: Sequence[Package],
    keep: Collection[str],
    lists: _Lists,
    edit: DatabaseEdit,
) -> None:
    kept_deb = [p for p in kept if p.ecosystem == "deb"]
    wanted = {(p.name, p.arch) for p in kept_deb}
    known: set[str] = set()
    status = _text(files, DPKG_STATUS)
    if status is not None:
        paragraphs = _paragraphs(status)
        known |= {_field(lines, "Package") for lines in paragraphs}
        chosen = [
            lines
            for lines in paragraphs
            if (_field(lines, "Package"), _field(lines, "Architecture")) in wanted
        ]
        _replace(edit, keep, DPKG_STATUS, status, _join(chosen))
    for path in sorted(files.children(DPKG_STATUS_D)):
        if path.endswith(".md5sums"):
            continue
        text = _text(files, path)
        if text is None:
            continue
        paragraphs = _paragraphs(text)
        known |= {_field(lines, "Package") for lines in paragraphs}
        chosen = [
            lines
            for lines in paragraphs
            if (_field(lines, "Package"), _field(lines, "Architecture")) in wanted
        ]
        if chosen:
            _replace(edit, keep, path, text, _join(chosen))
            _filter_list(files, keep, lists, edit, path + ".md5sums", md5sums=True)
        else:
            edit.drop |= {path, path + ".md5sums"}
    kept_names = {name for name, _ in wanted}
    for path in files.children(DPKG_INFO):
        owner = _info_owner(path.rpartition("/")[2])
        if owner is None or owner[0] not in known:
            continue
        name, arch = owner
        if name not in kept_names or (arch and (name, arch) not in wanted):
            edit.drop.add(path)
        elif path.endswith(".list"):
            _filter_list(files, keep, lists, edit, path, md5sums=False)
        elif path.endswith(".md5sums"):
            _filter_list(files, keep, lists, edit, path, md5sums=True)


def _filter_list(
    files: ImageFiles,
    keep: Collection[str],
    lists: _Lists,
    edit: DatabaseEdit,
    path: str,
    *,
    md5sums: bool,
) -> None:
    text = _text(files, path)
    if text is None:
        return
    lines = _LINE.findall(text)
    chosen = [
        line
        for line in lines
        if not line.strip() or lists.keeps(line.split(None, 1)[-1] if md5sums else line)
    ]
    _replace(edit, keep, path, text, "".join(chosen))


def _replace(edit: DatabaseEdit, keep: Collection[str], path: str, old: str, new: str) -> None:
    if new != old and path in keep:
        edit.replacements[path] = Replacement(_encode(new))


# ---- apk ---------------------------------------------------------------------------------


def _apk(
    files: ImageFiles,
    kept: Sequence[Package],
    keep: Collection[str],
    lists: _Lists,
    edit: DatabaseEdit,
) -> None:
    text = _text(files, APK_INSTALLED)
    if text is None:
        return
    wanted = {(p.name, p.arch) for p in kept if p.ecosystem == "apk"}
    chosen = []
    for lines in _paragraphs(text):
        if (_field(lines, "P"), _field(lines, "A")) in wanted:
            chosen.append(list(_apk_files(lines, lists)))
    _replace(edit, keep, APK_INSTALLED, text, _join(chosen))


def _apk_files(lines: Sequence[str], lists: _Lists) -> Iterator[str]:
    """A package paragraph without the F: directories and R: files that were removed. Each F:
    and R: line takes the attribute lines after it (M:, a:, Z:) along."""
    segments: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        if line.startswith(("F:", "R:")):
            segments.append((line[:1], [line]))
        else:
            segments[-1][1].append(line)
    yield from segments[0][1]
    directory: list[str] | None = None
    directory_kept = True
    files_kept: list[str] = []
    current = ""
    for kind, segment in segments[1:]:
        if kind == "F":
            if directory is not None and (directory_kept or files_kept):
                yield from directory
                yield from files_kept
            current = segment[0][2:].strip("/")
            directory, directory_kept, files_kept = segment, lists.keeps(current), []
        else:
            name = segment[0][2:]
            if lists.keeps(f"{current}/{name}" if current else name):
                if directory is None:
                    yield from segment
                else:
                    files_kept.extend(segment)
    if directory is not None and (directory_kept or files_kept):
        yield from directory
        yield from files_kept
