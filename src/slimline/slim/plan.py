"""What a slim image keeps, decided from the image's tree, its packages and what the traced
runs touched.

- static: everything except caches, package indexes, documentation, man pages, translations,
  headers and static libraries (the image detectors find them; no tracing).
- packages: every package owning a file the runs touched, with the closure of its declared
  runtime dependencies, plus touched files no package owns, plus the safety set.
- files: the touched files, the interpreters and shared libraries they need (from `#!` lines and
  ELF headers), plus the safety set.

Paths are root-relative. Every kept path brings the symbolic links on its way (`/bin` to
`usr/bin` on merged-/usr systems, `python3` to `python3.11`), because the app named the link.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from slimline.image.bloat.attack_surface import PackageManagers
from slimline.image.files import ImageFiles
from slimline.image.filetree import FileRecord
from slimline.image.layers import EntryKind
from slimline.image.sources.base import ImageConfig
from slimline.packages.base import Package
from slimline.slim import elf
from slimline.slim.safety import safety_set, speaks_tls

PACKAGE_DB_PATHS = ("var/lib/dpkg/status", "lib/apk/db/installed")
DPKG_INFO = "var/lib/dpkg/info/"
SCANNED_INFO = (".list", ".md5sums", ".conffiles")


# Package managers and the configuration front end their maintainer scripts use.
INSTALL_TIME = PackageManagers.package_names | {
    ("deb", "debconf"),
    ("deb", "debconf-2.0"),
    ("deb", "cdebconf"),
}


class Mode(StrEnum):
    STATIC = "static"
    PACKAGES = "packages"
    FILES = "files"


# A path's bytes, when the reader captured them.
Reader = Callable[[str], bytes | None]


@dataclass(frozen=True)
class Plan:
    """The decision: the paths to keep and why the image is as small as it is.

    `traced` is the smallest runnable set the runs showed (touched files, the links on their
    way, their interpreters); `closure_bytes` what the package closure weighs (packages mode:
    its packages' files plus the touched files no package owns).
    """

    mode: Mode
    keep: frozenset[str]
    kept_packages: frozenset[str] = frozenset()  # purls
    traced: frozenset[str] = frozenset()
    traced_bytes: int = 0
    closure_bytes: int = 0
    closure_packages: int = 0
    # paths kept for a reason other than the trace, by reason ("safety", "library", ...)
    reasons: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """The user's --include/--exclude patterns: an absolute path keeps or drops itself and
    everything below it; a pattern with `*`, `?` or `[` is matched against whole paths."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def included(self, files: ImageFiles) -> set[str]:
        found: set[str] = set()
        for pattern in self.include:
            for path, record in _matching(files, pattern):
                found.add(path)
                if record.kind is EntryKind.DIR:
                    found.update(p for p, _ in files.walk(path))
        return found

    def unmatched(self, files: ImageFiles) -> list[str]:
        """The --include patterns that name nothing in the image."""
        return [pattern for pattern in self.include if not _matching(files, pattern)]

    def excludes(self, path: str) -> bool:
        return any(_matches(pattern, path) for pattern in self.exclude)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _matches(pattern: str, path: str) -> bool:
    if _is_glob(pattern):
        return fnmatch.fnmatchcase("/" + path, "/" + pattern.strip("/"))
    clean = posixpath.normpath(pattern).strip("/")
    return path == clean or path.startswith(clean + "/")


def _matching(files: ImageFiles, pattern: str) -> Iterable[tuple[str, FileRecord]]:
    if not _is_glob(pattern):
        clean = posixpath.normpath(pattern).strip("/")
        record = files.record(clean)
        return [(clean, record)] if record is not None else []
    return [(p, r) for p, r in files.files.items() if _matches(pattern, p)]


# ---- links -------------------------------------------------------------------------------


def link_chain(files: ImageFiles, path: str) -> list[str]:
    """Every path the kernel visits to reach `path`: each symbolic link on the way and the
    final path; empty when it does not exist in the image (or the links loop)."""
    return files.link_chain(posixpath.normpath("/" + path))


def with_links(files: ImageFiles, paths: Iterable[str]) -> set[str]:
    """`paths` that exist, each with the links on its way (hard-link targets included)."""
    found: set[str] = set()
    for path in paths:
        chain = link_chain(files, path)
        found.update(chain)
        if chain:
            record = files.files.get(chain[-1])
            if record is not None and record.kind is EntryKind.HARDLINK:
                found.add(record.link_target)
    return found


# ---- executables -----------------------------------------------------------------------


def wants_headers(files: ImageFiles, path: str) -> bool:
    """Whether `path`'s first bytes can name an interpreter or libraries: executables and
    shared objects."""
    record = files.files.get(path)
    if record is None or record.kind not in (EntryKind.FILE, EntryKind.HARDLINK):
        return False
    name = path.rpartition("/")[2]
    return bool(record.mode & 0o111) or ".so" in name


def executable_closure(
    files: ImageFiles,
    start: Iterable[str],
    read: Reader,
    env_path: Sequence[str] = (),
    executed: Iterable[str] = (),
) -> tuple[set[str], set[str]]:
    """The interpreters and shared libraries that the executables and libraries in `start`
    (and every file in `executed`, whatever its mode) need, each with its links; and the paths
    whose bytes were needed but not available (read them, then call again)."""
    configured = elf.ld_so_conf_dirs(
        read, lambda d: [c.rpartition("/")[2] for c in files.children(d)]
    )
    multiarch = _multiarch(files)
    found: set[str] = set()
    unread: set[str] = set()
    queue = [p for p in start if wants_headers(files, p)]
    queue.extend(p for p in executed if _is_regular(files, p))
    seen = set(queue)
    while queue:
        path = queue.pop()
        data = read(path)
        if data is None:
            unread.add(path)
            continue
        needs = elf.needs(data)
        new: list[str] = []
        if needs.interpreter:
            new.extend(link_chain(files, needs.interpreter))
        program = elf.env_program(data)
        if program:
            for directory in env_path:
                chain = link_chain(files, f"{directory}/{program}")
                if chain:
                    new.extend(chain)
                    break
        if needs.libraries:
            dirs = elf.search_dirs(path, needs, configured, multiarch)
            for library in needs.libraries:
                new.extend(_find_library(files, library, dirs))
        for candidate in new:
            found.add(candidate)
            if candidate not in seen and wants_headers(files, candidate):
                seen.add(candidate)
                queue.append(candidate)
    return found, unread


def _find_library(files: ImageFiles, name: str, dirs: Sequence[str]) -> list[str]:
    if "/" in name:
        return link_chain(files, name)
    for directory in dirs:
        chain = link_chain(files, f"{directory}/{name}")
        if chain:
            return chain
    return []


def _multiarch(files: ImageFiles) -> list[str]:
    names: list[str] = []
    for base in ("lib", "usr/lib"):
        for child in files.children(base):
            name = child.rpartition("/")[2]
            if "-linux-" in name and name not in names:
                names.append(name)
    return names


def env_path(config: ImageConfig) -> list[str]:
    for variable in config.env:
        name, _, value = variable.partition("=")
        if name == "PATH":
            return [d.strip("/") for d in value.split(":") if d]
    return ["usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin"]


# ---- packages ----------------------------------------------------------------------------


def owners(packages: Sequence[Package], files: ImageFiles) -> dict[str, list[Package]]:
    """Path -> the packages that own it, for files and links only: every package owns /usr."""
    owned: dict[str, list[Package]] = {}
    for package in packages:
        for path in package.files:
            if _is_leaf(files, path):
                owned.setdefault(path, []).append(package)
    return owned


def dependency_closure(seed: Iterable[Package], packages: Sequence[Package]) -> list[Package]:
    """`seed` and every installed package their declared dependencies reach, within each
    ecosystem (a virtual name reaches every package that provides it).

    A dependency on a package manager (or debconf) is what the package's maintainer scripts
    need at install time, not what it needs to run: it is not followed. The package manager
    stays only when the runs used it."""
    by_name: dict[tuple[str, str], list[Package]] = {}
    for package in packages:
        by_name.setdefault((package.ecosystem, _norm(package.ecosystem, package.name)), []).append(
            package
        )
        for provided in package.metadata.get("provides", "").split(","):
            name = provided.strip().split(" ")[0]
            if name:
                key = (package.ecosystem, _norm(package.ecosystem, name))
                by_name.setdefault(key, []).append(package)
    kept: dict[str, Package] = {}
    queue = list(seed)
    while queue:
        package = queue.pop()
        if package.purl in kept:
            continue
        kept[package.purl] = package
        for dependency in package.depends:
            key = (package.ecosystem, _norm(package.ecosystem, dependency))
            if key in INSTALL_TIME:
                continue
            queue.extend(t for t in by_name.get(key, ()) if t.purl not in kept)
        if package.installed_by:
            queue.extend(p for p in packages if p.purl == package.installed_by)
    return list(kept.values())


def _norm(ecosystem: str, name: str) -> str:
    name = name.split(":")[0]  # dpkg's name:arch
    if ecosystem == "pypi":
        return name.lower().replace("_", "-").replace(".", "-")
    return name


def package_db_paths(files: ImageFiles, kept: Iterable[Package]) -> set[str]:
    """The package-manager files that describe `kept` (dpkg info files and status.d entries,
    dist-info directories, package.json files) and the shared databases themselves, rewritten
    later to list only what remains: a scanner must see every package whose files stay."""
    from slimline.slim.pkgdb import metadata_paths

    found = {path for path in PACKAGE_DB_PATHS if path in files}
    # without dpkg nothing runs maintainer scripts or reads templates and symbols files:
    # scanners read the status file and the file lists
    dpkg_kept = any(p.ecosystem == "deb" and p.name == "dpkg" for p in kept)
    for package in kept:
        for path in metadata_paths(files, package):
            if dpkg_kept or not path.startswith(DPKG_INFO) or path.endswith(SCANNED_INFO):
                found.add(path)
    return found


# ---- the plan ----------------------------------------------------------------------------


def plan_static(files: ImageFiles, removable: Collection[str], selection: Selection) -> Plan:
    """Everything but `removable` (the bloat the detectors claimed) and the exclusions."""
    drop = set(removable)
    keep = {p for p in files if p not in drop and not selection.excludes(p)}
    keep |= selection.included(files)
    return Plan(Mode.STATIC, frozenset(keep))


def plan_traced(
    mode: Mode,
    files: ImageFiles,
    config: ImageConfig,
    packages: Sequence[Package],
    touched: Iterable[str],
    executed: Iterable[str],
    read: Reader,
    selection: Selection,
) -> tuple[Plan, set[str]]:
    """The packages or files plan from what the runs touched. Also returns the paths whose
    bytes `read` lacked (their interpreters and libraries are then unknown: read them and plan
    again)."""
    traced = with_links(files, touched) | _existing_parents(files, touched)
    search = env_path(config)
    ran = with_links(files, executed)
    needed, unread = executable_closure(files, traced | ran, read, search, ran)
    # the runnable minimum: touched files plus what the kernel loaded without a system call
    # the trace could see (the interpreters of executed files)
    interpreters = _interpreters(files, ran, read)
    minimum = traced | interpreters
    # packages mode keeps whole TLS libraries that a dependency brought, used or not
    tls = mode is Mode.PACKAGES or speaks_tls(
        traced, (data for p in needed | minimum if (data := read(p)) is not None)
    )
    safety = with_links(files, safety_set(files, config, traced, tls=tls))
    included = with_links(files, selection.included(files))
    reasons: dict[str, frozenset[str]] = {
        "library": frozenset(needed - minimum),
        "safety": frozenset(safety - minimum),
        "include": frozenset(included),
    }
    closure_packages: list[Package] = []
    closure_bytes = 0
    if mode is Mode.FILES:
        keep = minimum | needed | safety | included
    else:
        owned = owners(packages, files)
        seed = [pkg for path in minimum | needed for pkg in owned.get(path, ())]
        closure_packages = dependency_closure(seed, packages)
        package_files = {f for p in closure_packages for f in p.files if f in files}
        unowned = {p for p in minimum | needed if p not in owned}
        closure = with_links(files, package_files) | unowned
        closure_bytes = regular_bytes(files, closure)
        reasons["package"] = frozenset(closure - minimum)
        keep = closure | safety | included | minimum | needed
    keep = {p for p in keep if not selection.excludes(p)}
    # every package with a file left is listed (a partly kept one with the files it still has):
    # a scanner must see what remains
    whole = {p.purl for p in closure_packages}
    kept_packages = closure_packages + [
        p
        for p in packages
        if p.purl not in whole and any(f in keep and _is_leaf(files, f) for f in p.files)
    ]
    keep |= package_db_paths(files, kept_packages)
    keep = {p for p in keep if not selection.excludes(p)}
    plan = Plan(
        mode,
        frozenset(keep),
        frozenset(p.purl for p in kept_packages),
        frozenset(minimum),
        regular_bytes(files, minimum),
        closure_bytes,
        len(closure_packages),
        reasons,
    )
    return plan, unread


def _existing_parents(files: ImageFiles, paths: Iterable[str]) -> set[str]:
    """For each path the image does not have (a file the app created, a lookup that failed),
    the nearest directory above it that the image has, with its links: an app that writes
    /var/log/app/out.log needs /var/log/app, even if nothing in it is kept."""
    found: set[str] = set()
    for path in paths:
        if link_chain(files, path):
            continue
        parent = posixpath.dirname(posixpath.normpath("/" + path)).strip("/")
        while parent:
            chain = link_chain(files, parent)
            if chain:
                found.update(chain)
                break
            parent = posixpath.dirname(parent)
    return found


def _is_regular(files: ImageFiles, path: str) -> bool:
    record = files.files.get(path)
    return record is not None and record.kind in (EntryKind.FILE, EntryKind.HARDLINK)


def _is_leaf(files: ImageFiles, path: str) -> bool:
    """A file or a link to one. A link to a directory counts as the directory: every package
    that lists /lib "owns" the merged-/usr link lib -> usr/lib."""
    record = files.files.get(path)
    if record is None or record.kind is EntryKind.DIR:
        return False
    if record.kind is EntryKind.SYMLINK:
        target = files.resolve(path)
        target_record = files.files.get(target) if target else None
        return target_record is None or target_record.kind is not EntryKind.DIR
    return True


def _interpreters(files: ImageFiles, executed: Iterable[str], read: Reader) -> set[str]:
    found: set[str] = set()
    for path in executed:
        data = read(path)
        if data is None:
            continue
        interpreter = elf.needs(data).interpreter
        if interpreter:
            found.update(link_chain(files, interpreter))
    return found


def regular_bytes(files: ImageFiles, paths: Iterable[str]) -> int:
    """The bytes of the regular files among `paths` (a hard link's bytes count once, at its
    target)."""
    total = 0
    for path in paths:
        record = files.files.get(path)
        if record is not None and record.kind is EntryKind.FILE:
            total += record.size
    return total
