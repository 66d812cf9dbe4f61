"""The merged filesystem of an image as catalogers and detectors read it: records and contents.

Only files that some reader asked for while the layers streamed past have contents (see
`LayerRef.entries(capture=...)`); every other file has its record (size, kind, mode, layer) only.
Links are followed inside the image, never on the host.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping

from slimline.image.filetree import FileRecord, MergedTree
from slimline.image.layers import EntryKind

_MAX_LINK_HOPS = 40


class ImageFiles:
    """Read-only view of the final filesystem. Paths are root-relative: "etc/os-release"."""

    __slots__ = ("_contents", "tree")

    def __init__(
        self, tree: MergedTree, contents: Mapping[int, Mapping[str, bytes]] | None = None
    ) -> None:
        self.tree = tree
        # layer index -> path -> bytes captured from that layer
        self._contents: Mapping[int, Mapping[str, bytes]] = contents or {}

    @property
    def files(self) -> Mapping[str, FileRecord]:
        return self.tree.files

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and _clean(path) in self.tree.files

    def __iter__(self) -> Iterator[str]:
        return iter(self.tree.files)

    def __len__(self) -> int:
        return len(self.tree.files)

    def record(self, path: str) -> FileRecord | None:
        return self.tree.files.get(_clean(path))

    def children(self, directory: str) -> set[str]:
        """Full paths of the direct children of `directory` ("" is the root)."""
        return self.tree.children(_clean(directory))

    def walk(self, directory: str = "") -> Iterator[tuple[str, FileRecord]]:
        """Every path below `directory` (not following links), with its record, in no order."""
        stack = [_clean(directory)]
        while stack:
            current = stack.pop()
            for child in self.tree.children(current):
                record = self.tree.files.get(child)
                if record is None:
                    continue
                yield child, record
                if record.kind is EntryKind.DIR:
                    stack.append(child)

    def resolve(self, path: str) -> str | None:
        """The path that `path` names once every symlink on the way is followed, or None when it
        does not exist or the links loop. Absolute link targets are taken from the image root."""
        return self._follow(path, None)

    def link_chain(self, path: str) -> list[str]:
        """Every path the kernel visits to reach `path`: each symbolic link on the way, then
        the path it resolves to; empty when it does not exist or the links loop."""
        links: list[str] = []
        final = self._follow(path, links)
        if final is None:
            return []
        return [*links, final] if final else links

    def _follow(self, path: str, links: list[str] | None) -> str | None:
        parts = [part for part in _clean(path).split("/") if part]
        resolved: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/".join([*resolved, part])
            record = self.tree.files.get(candidate)
            if record is None:
                return None
            if record.kind is EntryKind.SYMLINK:
                hops += 1
                if hops > _MAX_LINK_HOPS:
                    return None
                if links is not None:
                    links.append(candidate)
                target = record.link_target
                if target.startswith("/"):
                    resolved = []
                parts = [p for p in target.split("/") if p] + parts
                continue
            resolved.append(part)
        return "/".join(resolved)

    def size(self, path: str) -> int:
        record = self.record(path)
        return record.size if record is not None else 0

    def read(self, path: str) -> bytes | None:
        """The bytes of the regular file at `path` (links followed), if they were captured."""
        direct = self.tree.files.get(path)
        if direct is not None and direct.kind is EntryKind.FILE:
            # the common case: a clean path to a regular file, no link on the way
            return self._contents.get(direct.layer, {}).get(path)
        real = self.resolve(path)
        if real is None:
            return None
        record = self.tree.files.get(real)
        if record is None:
            return None
        layer = self._contents.get(record.layer, {})
        if record.kind is EntryKind.HARDLINK:
            return layer.get(record.link_target)
        if record.kind is not EntryKind.FILE:
            return None
        return layer.get(real)

    def layer_contents(self) -> Mapping[int, Mapping[str, bytes]]:
        """Captured bytes by layer, also of files that a later layer overwrote or deleted:
        a secret removed in a later layer still ships in the layer that added it."""
        return self._contents

    def captured(self) -> Iterator[str]:
        """The paths of the final filesystem whose bytes were captured."""
        for layer, contents in self._contents.items():
            for path in contents:
                record = self.tree.files.get(path)
                if record is not None and record.layer == layer:
                    yield path

    def read_text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8", "replace")


def _clean(path: str) -> str:
    path = path.strip("/")
    if not path or path == ".":
        return ""
    normal = posixpath.normpath(path)
    return "" if normal == "." else normal
