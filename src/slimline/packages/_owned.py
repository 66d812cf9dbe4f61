"""The files a package database lists, matched to what the image really holds.

Databases name files as the package installed them, which is not always where they are now: on a
merged-/usr system dpkg lists /bin/bash and /lib/x86_64-linux-gnu/libc.so.6, while the image has
`bin` and `lib` as links into usr/. A listed path that is missing is looked up again through its
real parent directory, so ownership and sizes refer to the paths the image actually holds.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from slimline.image.files import ImageFiles
from slimline.image.filetree import FileRecord
from slimline.image.layers import EntryKind

_UNRESOLVED = "\x00"


class Ownership:
    """Locates listed paths in one image; caches how each parent directory resolves."""

    __slots__ = ("_files", "_real_dirs", "_tree")

    def __init__(self, files: ImageFiles) -> None:
        self._files = files
        self._tree = files.files
        self._real_dirs: dict[str, str | None] = {}

    def locate(self, listed: str) -> str | None:
        """The root-relative path in the image that `listed` names, or None if it is not there.

        The last component is not followed: a listed symlink is the symlink itself.
        """
        path = listed.strip("/")
        if "./" in path or path.endswith("/.") or path in (".", ".."):
            path = posixpath.normpath(path)
            if path.startswith("..") or path == ".":
                return None
        if not path:
            return None
        if path in self._tree:
            return path
        parent, _, base = path.rpartition("/")
        if not parent:
            return None
        real = self._real_dirs.get(parent, _UNRESOLVED)
        if real == _UNRESOLVED:
            real = self._files.resolve(parent)
            self._real_dirs[parent] = real
        if real is None or real == parent:
            return None
        candidate = f"{real}/{base}" if real else base
        return candidate if candidate in self._tree else None

    def collect(self, listed: Iterable[str]) -> tuple[tuple[str, ...], int]:
        """The listed paths that exist and are not directories, in listed order without repeats,
        and the bytes of their regular files, each hard-linked file counted once.

        `listed` holds root-relative paths ("usr/bin/env", no leading slash). A listed path that
        another listed path lies under was a directory when the package was installed (dpkg
        lists /lib in libc6) even if the image now has a symlink there.
        """
        paths = listed if isinstance(listed, list) else list(listed)
        tree = self._tree
        get = tree.get
        directory, symlink = EntryKind.DIR, EntryKind.SYMLINK
        # this loop runs once per file of every package: keep it to dict lookups
        located: dict[str, FileRecord] = {}
        links: list[str] = []
        for path in paths:
            record = get(path)
            if record is None:
                real = self.locate(path)
                if real is None:
                    continue
                path, record = real, tree[real]
            kind = record.kind
            if kind is directory:
                continue
            if kind is symlink:
                links.append(path)
            located[path] = record
        if links:
            # only a link can stand where the package had a directory: find the parents only then
            parents = {path.rpartition("/")[0] for path in paths}
            for path in links:
                if path in parents:
                    del located[path]
        regular = EntryKind.FILE
        total = sum(record.size for record in located.values() if record.kind is regular)
        linked_targets: set[str] = set()
        for record in located.values():
            if record.kind is EntryKind.HARDLINK:
                target = record.link_target
                if target in linked_targets or target in located:
                    continue
                linked_targets.add(target)
                linked = get(target)
                total += linked.size if linked is not None and linked.kind is regular else 0
        return tuple(located), total


def rooted(text: str) -> list[str]:
    """The lines of a file list written with absolute paths ("/usr/bin/env"), root-relative."""
    return text.lstrip("/").replace("\n/", "\n").splitlines()


def text_of(files: ImageFiles, path: str) -> str | None:
    """A captured file as text; undecodable bytes are replaced, never fatal."""
    data = files.read(path)
    if data is None:
        return None
    return data.decode("utf-8", "replace")
