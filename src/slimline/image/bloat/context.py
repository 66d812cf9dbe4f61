"""What every detector reads: the image's files, layers and packages, indexed in one pass.

An image can hold hundreds of thousands of files, so nothing here walks the whole tree more than
once. `FileIndex` makes the single pass: it remembers the directories and files whose base name
or extension some detector declared, the setuid and setgid files, and the hard-link groups.
Detectors that look at fixed places (/var/lib/apt/lists, /usr/share/doc) walk only those
subtrees, through the merged tree's parent-to-children index.

Bytes are counted as a rebuild without the files would save them: a file's bytes once, however
many hard links it has, and only when every one of its links is among the files removed.
"""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from slimline.image.files import ImageFiles
from slimline.image.filetree import FileRecord, LayerTree
from slimline.image.layers import EntryKind
from slimline.packages.base import OSRelease, Package

FILE, HARDLINK, DIR, SYMLINK = EntryKind.FILE, EntryKind.HARDLINK, EntryKind.DIR, EntryKind.SYMLINK
SPECIAL_BITS = 0o6000  # setuid | setgid
# ecosystems of distribution packages, whose Depends name other distribution packages
OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})

# (layer index, path of the file entry in that layer): one stored copy of a file's bytes
Inode = tuple[int, str]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Measured:
    bytes: int
    layers: tuple[int, ...]
    sizes: list[tuple[int, str]]  # (bytes, path) of every path, hard links at their file's size

    def largest(self, limit: int) -> tuple[str, ...]:
        """Up to `limit` paths, largest first (then by name), as absolute paths."""
        top = heapq.nlargest(limit, self.sizes)
        top.sort(key=lambda item: (-item[0], item[1]))
        return tuple("/" + path for _, path in top)


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """What the one pass over the merged tree should remember, by base name or extension."""

    dir_names: frozenset[str] = frozenset()
    file_names: frozenset[str] = frozenset()
    file_suffixes: frozenset[str] = frozenset()  # with the dot: ".a"


class FileIndex:
    """One pass over the merged tree (see the module docstring)."""

    __slots__ = ("dirs_by_name", "files_by_name", "files_by_suffix", "inode_of", "links", "special")

    def __init__(self, files: Mapping[str, FileRecord], spec: IndexSpec) -> None:
        self.dirs_by_name: dict[str, list[str]] = {}
        self.files_by_name: dict[str, list[str]] = {}
        self.files_by_suffix: dict[str, list[str]] = {}
        self.special: list[str] = []
        # inode -> every path of the final image that shares it (only inodes with hard links)
        self.links: dict[Inode, list[str]] = {}
        self.inode_of: dict[str, Inode] = {}
        self._scan(files, spec)

    def _scan(self, files: Mapping[str, FileRecord], spec: IndexSpec) -> None:
        dir_names, file_names, suffixes = spec.dir_names, spec.file_names, spec.file_suffixes
        # str.endswith over a tuple runs in C: the name is cut out only for likely matches
        dir_ends, name_ends, suffix_ends = tuple(dir_names), tuple(file_names), tuple(suffixes)
        dirs, named, suffixed = self.dirs_by_name, self.files_by_name, self.files_by_suffix
        special, links = self.special, self.links
        file, hardlink, directory, special_bits = FILE, HARDLINK, DIR, SPECIAL_BITS
        # the hot loop of the whole module: locals only, records unpacked, no calls but str's
        for path, (layer, _, kind, target, mode, _) in files.items():
            if kind is file:
                pass
            elif kind is directory:
                if path.endswith(dir_ends):
                    name = path[path.rfind("/") + 1 :]
                    if name in dir_names:
                        dirs.setdefault(name, []).append(path)
                continue
            elif kind is hardlink:
                links.setdefault((layer, target), []).append(path)
            else:
                continue
            if mode & special_bits:
                special.append(path)
            if path.endswith(suffix_ends):
                suffix = path[path.rfind(".") :]
                if suffix in suffixes:
                    suffixed.setdefault(suffix, []).append(path)
            if path.endswith(name_ends):
                name = path[path.rfind("/") + 1 :]
                if name in file_names:
                    named.setdefault(name, []).append(path)
        for inode, paths in links.items():
            layer, target = inode
            original = files.get(target)
            if original is not None and original.kind is FILE and original.layer == layer:
                paths.append(target)
            for path in paths:
                self.inode_of[path] = inode

    def dirs(self, name: str) -> list[str]:
        return self.dirs_by_name.get(name, [])

    def files_named(self, name: str) -> list[str]:
        return self.files_by_name.get(name, [])

    def files_with_suffix(self, suffix: str) -> list[str]:
        return self.files_by_suffix.get(suffix, [])


@dataclass(eq=False)
class BloatContext:
    """The image as the detectors see it.

    `files` is the merged filesystem (with the bytes that the capture predicate asked for),
    `layers` the per-layer trees in order, `packages` what the catalogers found (may be empty)
    and `os` the distribution (may be None). The rest is derived on first use and shared by the
    detectors of one run: the file index, the paths already counted by an earlier finding, and
    memoised results that several detectors need.
    """

    files: ImageFiles
    layers: Sequence[LayerTree]
    packages: Sequence[Package] = ()
    os: OSRelease | None = None
    # what the pass over the tree remembers; None: what every registered detector declares
    index_spec: IndexSpec | None = None
    claimed: set[str] = field(default_factory=set, init=False, repr=False)
    _memo: dict[str, object] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def index(self) -> FileIndex:
        spec = self.index_spec
        if spec is None:
            from slimline.image.bloat import index_spec

            spec = index_spec()
        return FileIndex(self.files.files, spec)

    @cached_property
    def layer_by_index(self) -> dict[int, LayerTree]:
        return {layer.index: layer for layer in self.layers}

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per context: results that more than one detector needs."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    # ---- files ---------------------------------------------------------------------------

    def record(self, path: str) -> FileRecord | None:
        return self.files.files.get(path)

    def is_regular(self, path: str) -> bool:
        record = self.files.files.get(path)
        return record is not None and record.kind in (FILE, HARDLINK)

    def files_under(self, directory: str) -> list[str]:
        """The regular files (hard links included) below `directory`, not following links."""
        return [
            path
            for path, record in self.files.walk(directory)
            if record.kind is FILE or record.kind is HARDLINK
        ]

    def glob(self, pattern: str) -> list[str]:
        """Paths matching `pattern`, whose components may hold `*` (never matching `/`)."""
        matches = [""]
        for component in pattern.split("/"):
            found = []
            for base in matches:
                if "*" not in component:
                    candidate = f"{base}/{component}" if base else component
                    if candidate in self.files.files:
                        found.append(candidate)
                    continue
                for child in self.files.children(base):
                    if fnmatch.fnmatchcase(child[child.rfind("/") + 1 :], component):
                        found.append(child)
            matches = found
        return sorted(matches)

    def inode_size(self, inode: Inode) -> int:
        layer = self.layer_by_index.get(inode[0])
        record = layer.files.get(inode[1]) if layer is not None else None
        return record.size if record is not None and record.kind is FILE else 0

    def take(self, paths: Iterable[str], *, claim: bool = True) -> list[str]:
        """The regular files among `paths` that hold bytes and that no earlier finding counted,
        now counted (unless `claim` is false): bytes are reported once, and empty files (apt's
        `lists/lock`) cost nothing.
        """
        files, inode_of, claimed = self.files.files, self.index.inode_of, self.claimed
        seen: set[str] = set()
        fresh = []
        for path in paths:
            if path in claimed or path in seen:
                continue
            record = files.get(path)
            if record is None:
                continue
            if record.kind is FILE:
                if not record.size:
                    continue
            elif record.kind is not HARDLINK or path not in inode_of:
                continue
            seen.add(path)
            fresh.append(path)
        if claim:
            claimed.update(fresh)
        return fresh

    def measure(self, paths: Sequence[str]) -> Measured:
        """What removing every one of `paths` from the final image saves, and where they are.

        Each stored copy counts once; a hard-linked one only when all its links are in `paths`.
        """
        files, inode_of = self.files.files, self.index.inode_of
        total = 0
        layers: set[int] = set()
        sizes: list[tuple[int, str]] = []
        linked: set[Inode] = set()
        for path in paths:
            record = files.get(path)
            if record is None:
                continue
            layers.add(record.layer)
            inode = inode_of.get(path)
            if inode is None:
                size = record.size if record.kind is FILE else 0
                total += size
            else:
                linked.add(inode)
                size = self.inode_size(inode)
            sizes.append((size, path))
        if linked:
            chosen = set(paths)
            links = self.index.links
            for inode in linked:
                if all(other in chosen for other in links[inode]):
                    total += self.inode_size(inode)
        return Measured(total, tuple(sorted(layers)), sizes)

    def layers_of(self, paths: Iterable[str]) -> tuple[int, ...]:
        files = self.files.files
        return tuple(sorted({record.layer for p in paths if (record := files.get(p)) is not None}))

    # ---- packages --------------------------------------------------------------------------

    @cached_property
    def packages_by_name(self) -> dict[str, Package]:
        """Distribution packages by name (the ones Depends fields name)."""
        return {p.name: p for p in self.packages if p.ecosystem in OS_ECOSYSTEMS}

    @cached_property
    def _top_links(self) -> dict[str, str]:
        # usr-merged systems: bin -> usr/bin and the like, the links nearly every package
        # file list goes through
        links = {}
        for name in self.files.children(""):
            record = self.files.files.get(name)
            if record is not None and record.kind is SYMLINK:
                resolved = self.files.resolve(name)
                if resolved is not None:
                    links[name] = resolved
        return links

    def canonical(self, path: str) -> str | None:
        """The path of the final image that a package's file list names, or None if absent."""
        path = path.strip("/")
        files = self.files.files
        if path in files:
            return path
        top, sep, rest = path.partition("/")
        target = self._top_links.get(top)
        if target is not None and sep:
            moved = f"{target}/{rest}" if target else rest
            if moved in files:
                return moved
        return self.files.resolve(path)

    def package_files(self, package: Package) -> list[str]:
        """The regular files of the final image that `package` lists."""
        cache: dict[str, list[str]] = self.memo("package-files", dict)
        key = f"{package.ecosystem}/{package.name}/{package.arch}/{package.location}"
        found = cache.get(key)
        if found is None:
            files = self.files.files
            found = []
            for listed in package.files:
                record = files.get(listed)
                if record is None:
                    # catalogers list paths as the image holds them; others may not
                    path = self.canonical(listed)
                    record = files.get(path) if path is not None else None
                    if path is None or record is None:
                        continue
                    listed = path
                if record.kind is FILE or record.kind is HARDLINK:
                    found.append(listed)
            cache[key] = found
        return found

    @cached_property
    def owned(self) -> frozenset[str]:
        """Every path that some package lists: shipped by a publisher, not made by the build.
        (Catalogers list paths as the image holds them, so no lookup is needed.)"""
        return frozenset().union(*(package.files for package in self.packages))
