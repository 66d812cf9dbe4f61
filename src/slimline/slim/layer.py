"""The slim image's one layer: exactly the kept paths with their final metadata.

The layer is written in one pass over the source's layers, top layer first. A path's final copy
is in the highest layer that has it, and layers as engines write them repeat every parent
directory of what they change, so reading from the top meets a directory's final copy before
the children that lower layers hold: parents go before their children without a second pass.
File data goes from the layer stream to the output as it passes, never held whole; only the
bytes of a file that a kept hard link needs but that is not written itself are kept aside
(in memory up to 16 MB, then on disk).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import posixpath
import tarfile
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, BinaryIO, NamedTuple, cast

from slimline.image.files import ImageFiles
from slimline.image.filetree import FileRecord
from slimline.image.layers import EntryData, EntryKind, LayerEntry
from slimline.image.sources.base import ImageSource, LayerRef
from slimline.image.tarstream import BLOCK_DEVICE, CHARACTER_DEVICE, FIFO
from slimline.slim.errors import SlimError

_BLOCK = tarfile.BLOCKSIZE
_END = bytes(2 * _BLOCK)
_CHUNK = 1 << 20
_SPOOL_IN_MEMORY = 16 << 20
_DEFAULT_DIR_MODE = 0o755
_DEFAULT_FILE_MODE = 0o644
_DEVICE_TYPES = {
    CHARACTER_DEVICE: tarfile.CHRTYPE,
    BLOCK_DEVICE: tarfile.BLKTYPE,
    FIFO: tarfile.FIFOTYPE,
}


@dataclass(frozen=True, slots=True)
class Replacement:
    """New bytes for a path of the slim image (a rewritten package database). None metadata
    means: as the image's copy had it, else a regular root-owned file, mode 0644, written now."""

    data: bytes
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    mtime: int | None = None


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """The written layer: its digest (it is uncompressed, so it is also its diff_id), its size in
    bytes, how many paths it holds, and the bytes of its regular files (hard links once)."""

    diff_id: str
    size: int
    files: int
    regular_bytes: int


class _Meta(NamedTuple):
    """The metadata a written entry carries."""

    mode: int
    uid: int
    gid: int
    mtime: int
    uname: str = ""
    gname: str = ""
    xattrs: tuple[tuple[str, bytes], ...] = ()
    devmajor: int = 0
    devminor: int = 0

    @classmethod
    def of(cls, entry: LayerEntry) -> _Meta:
        return cls(
            entry.mode,
            entry.uid,
            entry.gid,
            entry.mtime,
            entry.uname,
            entry.gname,
            entry.xattrs,
            entry.devmajor,
            entry.devminor,
        )


class _TarWriter:
    """A tar written to `out` front to back, its sha256 and size computed as it goes."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._hash = hashlib.sha256()
        self.size = 0

    def _write(self, data: bytes | memoryview) -> None:
        self._out.write(data)
        self._hash.update(data)
        self.size += len(data)

    def add(
        self,
        name: str,
        kind: bytes,
        meta: _Meta,
        *,
        size: int = 0,
        linkname: str = "",
        chunks: Iterable[bytes | memoryview] = (),
    ) -> None:
        header = _ustar_header(name, kind, meta, size, linkname)
        if header is None:
            header = _pax_header(name, kind, meta, size, linkname)
        self._write(header)
        if not size:
            return
        written = 0
        for chunk in chunks:
            self._write(chunk)
            written += len(chunk)
        if written != size:
            raise SlimError(f"/{name}: {written} bytes where {size} were expected")
        if size % _BLOCK:
            self._write(bytes(_BLOCK - size % _BLOCK))

    def close(self) -> str:
        self._write(_END)
        return f"sha256:{self._hash.hexdigest()}"


_SMALL = 8**7  # what an 8-byte octal field holds
_LARGE = 8**11  # and a 12-byte one


def _ustar_header(name: str, kind: bytes, meta: _Meta, size: int, linkname: str) -> bytes | None:
    """The header of the common entry (short ASCII names, no extended attributes, numbers that
    fit), built directly: tarfile's general path costs ten times as much per entry."""
    if kind == tarfile.DIRTYPE:
        name += "/"
    device = kind in (tarfile.CHRTYPE, tarfile.BLKTYPE)
    if (
        meta.xattrs
        or len(name) > 100
        or len(linkname) > 100
        or len(meta.uname) > 32
        or len(meta.gname) > 32
        or not (name.isascii() and linkname.isascii())
        or not (meta.uname.isascii() and meta.gname.isascii())
        or not (0 <= meta.uid < _SMALL and 0 <= meta.gid < _SMALL)
        or not (0 <= size < _LARGE and 0 <= meta.mtime < _LARGE)
        or not (0 <= meta.devmajor < _SMALL and 0 <= meta.devminor < _SMALL)
    ):
        return None
    header = bytearray(
        b"".join(
            (
                name.encode().ljust(100, b"\0"),
                b"%07o\0" % (meta.mode & 0o7777),
                b"%07o\0" % meta.uid,
                b"%07o\0" % meta.gid,
                b"%011o\0" % size,
                b"%011o\0" % meta.mtime,
                b"        ",
                kind,
                linkname.encode().ljust(100, b"\0"),
                b"ustar\x0000",
                meta.uname.encode().ljust(32, b"\0"),
                meta.gname.encode().ljust(32, b"\0"),
                b"%07o\0%07o\0" % (meta.devmajor, meta.devminor) if device else bytes(16),
                bytes(167),
            )
        )
    )
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)


def _pax_header(name: str, kind: bytes, meta: _Meta, size: int, linkname: str) -> bytes:
    """Any other entry's header, pax records included, as tarfile writes it."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = meta.mode & 0o7777
    info.uid, info.gid = meta.uid, meta.gid
    info.uname, info.gname = meta.uname, meta.gname
    info.mtime = meta.mtime
    info.size = size
    info.linkname = linkname
    info.devmajor, info.devminor = meta.devmajor, meta.devminor
    if meta.xattrs:
        # pax values are text; tarfile writes them back as the original bytes, marking the
        # header BINARY when they are not UTF-8 (file capabilities never are)
        info.pax_headers = {
            f"SCHILY.xattr.{key}": value.decode("utf-8", "surrogateescape")
            for key, value in meta.xattrs
        }
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


class _Selection:
    """What to write from which layer, decided from the final filesystem before reading."""

    def __init__(
        self, files: ImageFiles, keep: Collection[str], replacements: Mapping[str, Replacement]
    ) -> None:
        tree = files.files
        self.tree = tree
        self.replacements = {_clean(path): value for path, value in replacements.items()}
        self.keep = {
            path
            for path in map(_clean, keep)
            if path and path in tree and path not in self.replacements
        }
        needed = self.keep | set(self.replacements)
        # every ancestor of a written path is written too, with its own metadata
        climbed: set[str] = set()
        for path in list(needed):
            parent = posixpath.dirname(path)
            while parent and parent not in climbed:
                climbed.add(parent)
                parent = posixpath.dirname(parent)
        needed |= {path for path in climbed if path in tree}
        self.by_layer: dict[int, set[str]] = {}
        for path in needed:
            record = tree.get(path)
            if record is not None:
                self.by_layer.setdefault(record.layer, set()).add(path)
        # files whose bytes a kept hard link needs although they are not written from its layer
        self.link_sources: dict[int, set[str]] = {}
        for path in self.keep:
            record = tree[path]
            if record.kind is EntryKind.HARDLINK and not self._written_alongside(record):
                self.link_sources.setdefault(record.layer, set()).add(record.link_target)

    def _written_alongside(self, link: FileRecord) -> bool:
        target = link.link_target
        record = self.tree.get(target)
        return (
            target in self.keep
            and record is not None
            and record.kind is EntryKind.FILE
            and record.layer == link.layer
        )


class _LayerBuilder:
    def __init__(self, selection: _Selection, writer: _TarWriter) -> None:
        self.selection = selection
        self.writer = writer
        # path -> written with its final metadata (False: a stand-in parent directory so far)
        self.written: dict[str, bool] = {}
        self.regular: dict[str, int] = {}
        # what the image had at the replaced paths, for the metadata of their replacements
        self.replaced: dict[str, LayerEntry] = {}

    def write(self, source: ImageSource) -> None:
        data = EntryData()
        selection = self.selection
        for ref in reversed(source.layers):
            wanted = selection.by_layer.get(ref.index, set())
            sources = selection.link_sources.get(ref.index, set())
            if wanted or sources:
                with contextlib.ExitStack() as stack:
                    self._layer(ref, wanted, sources, data, stack)
        self._rest()

    def _layer(
        self,
        ref: LayerRef,
        wanted: set[str],
        sources: set[str],
        data: EntryData,
        stack: contextlib.ExitStack,
    ) -> None:
        tree = self.selection.tree
        # paths written from this layer's bytes -> their name in the output (hard link targets)
        copies: dict[str, str] = {}
        kept_aside: dict[str, IO[bytes]] = {}
        for entry in ref.entries(details=True, data=data):
            path = entry.path
            if path in sources and entry.kind is EntryKind.FILE:
                kept_aside[path] = _spool(data.chunks(), stack)
            if path not in wanted:
                continue
            record = tree.get(path)
            if (
                record is None
                or record.kind is not entry.kind
                or (entry.kind is EntryKind.FILE and entry.size != record.size)
            ):
                # an earlier copy of a path this same layer writes again
                continue
            if path in self.selection.replacements:
                self.replaced[path] = entry
                continue
            if entry.kind is EntryKind.HARDLINK:
                self._hardlink(entry, copies, kept_aside)
                continue
            chunks = _replay(kept_aside[path]) if path in kept_aside else data.chunks()
            if self._entry(entry, chunks):
                copies[path] = path

    def _entry(self, entry: LayerEntry, chunks: Iterable[bytes | memoryview]) -> bool:
        """Write a directory, file, symlink or device; whether it was written as a file."""
        path, kind, meta = entry.path, entry.kind, _Meta.of(entry)
        if kind is EntryKind.DIR:
            if self.written.get(path):
                return False
            self._parents(path)
            self.writer.add(path, tarfile.DIRTYPE, meta)
        elif kind is EntryKind.FILE:
            self._parents(path)
            self.writer.add(path, tarfile.REGTYPE, meta, size=entry.size, chunks=chunks)
            self.regular[path] = entry.size
        elif kind is EntryKind.SYMLINK:
            self._parents(path)
            self.writer.add(path, tarfile.SYMTYPE, meta, linkname=entry.link_target)
        else:
            device = _DEVICE_TYPES.get(entry.typeflag)
            if device is None:
                # sockets and unknown types have no place in an image
                return False
            self._parents(path)
            self.writer.add(path, device, meta)
        self.written[path] = True
        return kind is EntryKind.FILE

    def _hardlink(
        self, entry: LayerEntry, copies: dict[str, str], kept_aside: Mapping[str, IO[bytes]]
    ) -> None:
        path, target, meta = entry.path, entry.link_target, _Meta.of(entry)
        self._parents(path)
        if target in copies:
            self.writer.add(path, tarfile.LNKTYPE, meta, linkname=copies[target])
            self.regular.setdefault(path, 0)
        elif target in kept_aside:
            spool = kept_aside[target]
            size = spool.seek(0, io.SEEK_END)
            self.writer.add(path, tarfile.REGTYPE, meta, size=size, chunks=_replay(spool))
            self.regular[path] = size
            # further links to the same file link to this copy
            copies[target] = path
        else:
            raise SlimError(f"/{path} is a hard link to /{target}, which its layer does not hold")
        self.written[path] = True

    def _parents(self, path: str) -> None:
        missing = []
        parent = posixpath.dirname(path)
        while parent and parent not in self.written:
            missing.append(parent)
            parent = posixpath.dirname(parent)
        for directory in reversed(missing):
            self._stand_in(directory)
            self.written[directory] = False

    def _stand_in(self, directory: str) -> None:
        """A directory whose own entry is not (yet) met: what the tree recorded of it, else
        0755 and root's. Its real entry, when a lower layer holds it, is written again later."""
        record = self.selection.tree.get(directory)
        mode, uid = _DEFAULT_DIR_MODE, 0
        if record is not None and record.kind is EntryKind.DIR and record.mode:
            mode, uid = record.mode, record.uid
        self.writer.add(directory, tarfile.DIRTYPE, _Meta(mode, uid, 0, 0))

    def _rest(self) -> None:
        tree = self.selection.tree
        for path in sorted(self.selection.keep - self.written.keys()):
            record = tree[path]
            if record.kind is not EntryKind.DIR:
                raise SlimError(f"/{path}: layer {record.layer} does not hold its final copy")
            # a directory only ever implied by its children's paths
            self._parents(path)
            self._stand_in(path)
            self.written[path] = True
        for path, replacement in sorted(self.selection.replacements.items()):
            self._parents(path)
            original = self.replaced.get(path)
            meta = _replacement_meta(replacement, original)
            self.writer.add(
                path, tarfile.REGTYPE, meta, size=len(replacement.data), chunks=[replacement.data]
            )
            self.written[path] = True
            self.regular[path] = len(replacement.data)


def _replacement_meta(replacement: Replacement, original: LayerEntry | None) -> _Meta:
    def pick(value: int | None, fallback: int) -> int:
        return fallback if value is None else value

    if original is None:
        now = int(datetime.datetime.now(datetime.UTC).timestamp())
        return _Meta(
            pick(replacement.mode, _DEFAULT_FILE_MODE),
            pick(replacement.uid, 0),
            pick(replacement.gid, 0),
            pick(replacement.mtime, now),
        )
    same_owner = replacement.uid is None and replacement.gid is None
    return _Meta(
        pick(replacement.mode, original.mode),
        pick(replacement.uid, original.uid),
        pick(replacement.gid, original.gid),
        pick(replacement.mtime, original.mtime),
        original.uname if same_owner else "",
        original.gname if same_owner else "",
    )


def _spool(chunks: Iterable[bytes | memoryview], stack: contextlib.ExitStack) -> IO[bytes]:
    # closed with the layer's other spools, when the layer is done
    spool = cast(IO[bytes], tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY))  # noqa: SIM115
    stack.callback(spool.close)
    for chunk in chunks:
        spool.write(chunk)
    return spool


def _replay(spool: IO[bytes]) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(_CHUNK):
        yield chunk


def _clean(path: str) -> str:
    path = path.strip("/")
    return posixpath.normpath(path) if path and path != "." else ""


def write_layer(
    source: ImageSource,
    files: ImageFiles,
    keep: Collection[str],
    replacements: Mapping[str, Replacement],
    out: BinaryIO,
) -> LayerInfo:
    """Write one uncompressed layer holding exactly `keep` (root-relative paths of `files`, the
    source's final filesystem) with their final metadata, plus `replacements`, to `out`.

    Parents of kept paths are written too; a hard link stays a link when its target is written
    from the same copy, else it becomes a file with the target's bytes. Kept paths that the
    image does not have are ignored. SlimError when the layers do not hold what `files` says;
    ImageError when a layer is corrupt.
    """
    selection = _Selection(files, keep, replacements)
    writer = _TarWriter(out)
    builder = _LayerBuilder(selection, writer)
    builder.write(source)
    diff_id = writer.close()
    return LayerInfo(
        diff_id=diff_id,
        size=writer.size,
        files=len(builder.written),
        regular_bytes=sum(builder.regular.values()),
    )
