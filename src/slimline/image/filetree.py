"""Per-layer trees and the merged view of an image's filesystem.

Both are flat dicts keyed by root-relative path ("usr/bin/env"): an image can hold hundreds of
thousands of files, and a tuple per path is far cheaper than a node object with parent and child
pointers. The merged view keeps a parent-to-children index only so that deleting a directory does
not have to scan every path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from slimline.image.layers import AUFS_META_PREFIX, EntryKind, LayerEntry


class FileRecord(NamedTuple):
    """One copy of a path: which layer wrote it, its declared size, its kind and mode bits."""

    layer: int
    size: int
    kind: EntryKind
    link_target: str = ""
    mode: int = 0
    uid: int = 0


class ShadowedCopy(NamedTuple):
    """A copy that a later layer overwrote or deleted: its bytes stay in the image for nothing."""

    path: str
    layer: int
    size: int
    by_layer: int


@dataclass(slots=True)
class LayerTree:
    """What one layer says, before it is applied to the layers below it."""

    index: int
    files: dict[str, FileRecord] = field(default_factory=dict)
    # deleted path -> declared size of the whiteout entry itself (dive counts it in layer size)
    whiteouts: dict[str, int] = field(default_factory=dict)
    opaque_dirs: set[str] = field(default_factory=set)
    # directories holding any `.wh..wh.` entry: dive keeps them as empty nodes of the layer
    marker_dirs: set[str] = field(default_factory=set)
    size_bytes: int = 0
    entry_count: int = 0
    # entries that a later entry for the same path in this same layer replaced
    duplicates: list[ShadowedCopy] = field(default_factory=list)

    @classmethod
    def from_entries(cls, index: int, entries: Iterable[LayerEntry]) -> LayerTree:
        tree = cls(index)
        for entry in entries:
            tree.add(entry)
        return tree

    def add(self, entry: LayerEntry) -> None:
        self.entry_count += 1
        self.size_bytes += entry.size
        base = entry.path.rpartition("/")[2]
        if entry.is_opaque:
            self.opaque_dirs.add(entry.whiteout_target)
            self.marker_dirs.add(entry.whiteout_target)
            return
        if base.startswith(AUFS_META_PREFIX):
            self.marker_dirs.add(dirname(entry.path))
            return
        if entry.is_whiteout:
            self.whiteouts[entry.whiteout_target] = entry.size
            return
        previous = self.files.get(entry.path)
        if previous is not None:
            if previous.size:
                self.duplicates.append(
                    ShadowedCopy(entry.path, self.index, previous.size, self.index)
                )
            # the merged view applies entries in archive order, so the last copy moves to the end
            del self.files[entry.path]
        self.files[entry.path] = FileRecord(
            self.index, entry.size, entry.kind, entry.link_target, entry.mode, entry.uid
        )


def dirname(path: str) -> str:
    """posixpath.dirname for normalised paths, several times faster on large images."""
    return path.rpartition("/")[0]


class MergedTree:
    """The filesystem a container would see, built by applying layers bottom to top."""

    __slots__ = ("_children", "files", "shadowed")

    def __init__(self) -> None:
        self.files: dict[str, FileRecord] = {}
        self.shadowed: list[ShadowedCopy] = []
        self._children: dict[str, set[str]] = {}

    @property
    def reclaimable_bytes(self) -> int:
        return sum(copy.size for copy in self.shadowed)

    def children(self, path: str) -> set[str]:
        return set(self._children.get(path, ()))

    def apply(self, layer: LayerTree) -> None:
        # whiteouts and opaque markers hide only what lies below this layer, so they go first
        for target in layer.whiteouts:
            self._remove(target, layer.index)
        for directory in layer.opaque_dirs:
            for child in list(self._children.get(directory, ())):
                self._remove(child, layer.index)
        self.shadowed.extend(layer.duplicates)
        # archive order decides whether a file or a directory wins when a layer writes both
        for path, record in layer.files.items():
            self._put(path, record, layer.index)

    def _put(self, path: str, record: FileRecord, by_layer: int) -> None:
        # every path's ancestors are directories, so the walk up stops at the first one found
        missing = []
        parent = dirname(path)
        while parent:
            existing = self.files.get(parent)
            if existing is not None and existing.kind is EntryKind.DIR:
                break
            missing.append(parent)
            parent = dirname(parent)
        for parent in reversed(missing):
            if parent in self.files:
                self._remove(parent, by_layer)
            self._link(parent)
            self.files[parent] = FileRecord(by_layer, 0, EntryKind.DIR)
        existing = self.files.get(path)
        if existing is not None:
            if existing.kind is EntryKind.DIR and record.kind is EntryKind.DIR:
                self.files[path] = record
                return
            self._remove(path, by_layer)
        self._link(path)
        self.files[path] = record

    def _link(self, path: str) -> None:
        self._children.setdefault(dirname(path), set()).add(path)

    def _remove(self, path: str, by_layer: int) -> None:
        if path not in self.files:
            return
        siblings = self._children.get(dirname(path))
        if siblings is not None:
            siblings.discard(path)
        stack = [path]
        while stack:
            current = stack.pop()
            record = self.files.pop(current)
            if record.size:
                self.shadowed.append(ShadowedCopy(current, record.layer, record.size, by_layer))
            stack.extend(self._children.pop(current, ()))


@dataclass(frozen=True, slots=True)
class LayerChanges:
    """What one layer does to the filesystem below it; bytes are those of regular files."""

    added_files: int = 0
    added_bytes: int = 0
    changed_files: int = 0
    changed_bytes: int = 0
    removed_files: int = 0
    removed_bytes: int = 0


def layer_changes(merged: MergedTree, layer: LayerTree) -> LayerChanges:
    """Compare `layer` with `merged`, the filesystem below it; call before applying it.

    Directories are not counted (a layer repeats every parent directory of what it writes). A
    removed directory counts every path beneath it; a path that the same layer removes and
    writes again counts as changed.
    """
    removed: dict[str, FileRecord] = {}
    for target in layer.whiteouts:
        _collect(merged, target, removed, include_self=True)
    for directory in layer.opaque_dirs:
        _collect(merged, directory, removed, include_self=False)
    added = added_bytes = changed = changed_bytes = 0
    for path, record in layer.files.items():
        if record.kind is EntryKind.DIR:
            continue
        below = merged.files.get(path)
        if below is not None and below.kind is not EntryKind.DIR:
            changed += 1
            changed_bytes += record.size
            removed.pop(path, None)
        else:
            added += 1
            added_bytes += record.size
    gone = [record for record in removed.values() if record.kind is not EntryKind.DIR]
    return LayerChanges(
        added_files=added,
        added_bytes=added_bytes,
        changed_files=changed,
        changed_bytes=changed_bytes,
        removed_files=len(gone),
        removed_bytes=sum(record.size for record in gone if record.kind is EntryKind.FILE),
    )


def _collect(
    merged: MergedTree, path: str, into: dict[str, FileRecord], *, include_self: bool
) -> None:
    stack = [path] if include_self else list(merged.children(path))
    while stack:
        current = stack.pop()
        record = merged.files.get(current)
        if record is None:
            continue
        into[current] = record
        if record.kind is EntryKind.DIR:
            stack.extend(merged.children(current))


def merge_layers(layers: Iterable[LayerTree]) -> MergedTree:
    merged = MergedTree()
    for layer in layers:
        merged.apply(layer)
    return merged
