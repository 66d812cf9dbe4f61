"""Reading one layer tar as a stream of entries, without extracting anything to disk.

A layer may be plain, gzip- or zstd-compressed; the compression is detected from the magic bytes,
never from a media type, because registries and `docker save` archives do not always agree with
the bytes they serve. Digests are checked over the bytes as they stream past, so a layer is read
once and never held in memory.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import io
import mmap
import os
import posixpath
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import IO, Any, Literal, NamedTuple, Protocol, cast

from slimline.image.tarstream import (
    DIRECTORY,
    HARDLINK,
    REGULAR,
    SYMLINK,
    BufferTarStream,
    Member,
    TarFormatError,
    TarStream,
    details,
)

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
AUFS_META_PREFIX = ".wh..wh."

DEFAULT_MAX_ENTRIES = 5_000_000
DEFAULT_MAX_TOTAL_SIZE = 64 * 1024**3
DEFAULT_MAX_CAPTURE_SIZE = 32 * 1024**2
_CHUNK = 1 << 20


class LayerError(Exception):
    """A layer that cannot be read safely: corrupt, truncated, hostile or with a wrong digest."""


class EntryKind(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"


class Compression(StrEnum):
    NONE = "none"
    GZIP = "gzip"
    ZSTD = "zstd"


DigestOf = Literal["compressed", "uncompressed"]


class LayerEntry(NamedTuple):
    """One tar member. `path` is relative to the image root, without a leading `./` or `/`.

    A named tuple rather than a frozen dataclass: an image has hundreds of thousands of entries,
    and a tuple is built several times faster.
    """

    path: str
    kind: EntryKind
    size: int
    mode: int
    uid: int
    gid: int
    link_target: str
    is_whiteout: bool = False
    whiteout_target: str = ""
    is_opaque: bool = False
    # the bytes of a regular file that the reader was asked to capture, else None
    content: bytes | None = None
    # the tar type flag (b"3"[0] for a character device...), which tells apart what OTHER covers
    typeflag: int = 0
    # read only when the reader is asked for `details` (writing a layer again needs them)
    mtime: int = 0
    uname: str = ""
    gname: str = ""
    devmajor: int = 0
    devminor: int = 0
    # extended attributes, from pax `SCHILY.xattr.<name>` records: file capabilities, ACLs
    xattrs: tuple[tuple[str, bytes], ...] = ()


class EntryData:
    """The data of the regular file that a layer reader has just yielded, for a reader that
    copies files out without holding them in memory: pass one to `read_layer` (or
    `LayerRef.entries`) and iterate `chunks()` before asking for the next entry."""

    __slots__ = ("_tar",)

    def __init__(self) -> None:
        self._tar: TarStream | None = None

    def chunks(self) -> Iterator[bytes | memoryview]:
        """The current entry's bytes; each chunk is valid only until the next is asked for.
        Nothing for an entry whose bytes were captured into `content`."""
        if self._tar is None:
            raise RuntimeError("EntryData is read only while a layer is being read")
        return self._tar.data_chunks()


def detect_compression(head: bytes) -> Compression:
    if head.startswith(GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(ZSTD_MAGIC):
        return Compression.ZSTD
    return Compression.NONE


def normalize_path(name: str) -> str:
    """The root-relative form of a member name; raises LayerError for names that could escape.

    Returns "" for the root directory itself.
    """
    if "\x00" in name:
        raise LayerError(f"layer entry name contains a NUL byte: {name!r}")
    if name.startswith("/"):
        raise LayerError(f"layer entry has an absolute path: {name!r}")
    if "//" not in name and "/." not in name and not name.startswith("."):
        # the common case, already normal but for a directory's trailing slash
        return name[:-1] if name.endswith("/") else name
    normal = posixpath.normpath(name)
    if normal == ".." or normal.startswith("../"):
        raise LayerError(f"layer entry escapes the image root: {name!r}")
    return "" if normal == "." else normal


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _HashingReader(io.RawIOBase):
    """Feeds every byte read through a hash, so verification costs no second pass."""

    def __init__(self, raw: _Readable, algorithm: str | None) -> None:
        super().__init__()
        self._raw = raw
        # None: count the bytes, hash nothing (no digest to check at this level)
        self.hasher = hashlib.new(algorithm) if algorithm else None
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        n = len(data)
        view[:n] = data
        if self.hasher is not None:
            self.hasher.update(data)
        self.count += n
        return n

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


class _Prefetch(io.RawIOBase):
    """Reads `tar` to its end in a background thread, a few chunks ahead of the reader, then
    drains `blob` so that its digest covers every byte. Errors reach the reader."""

    _AHEAD = 8

    def __init__(self, tar: _HashingReader, blob: _HashingReader) -> None:
        super().__init__()
        self._tar = tar
        self._blob = blob
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(self._AHEAD)
        self._stop = threading.Event()
        self._left = b""
        self._done = False
        self._thread = threading.Thread(target=self._produce, daemon=True)

    def __enter__(self) -> _Prefetch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            while chunk := self._tar.read(_CHUNK):
                if not self._put(chunk):
                    return
            self._blob.drain()
            self._put(None)
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._put(exc)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            if self._done:
                return 0
            item = self._queue.get()
            if item is None:
                self._done = True
                return 0
            if isinstance(item, BaseException):
                self._done = True
                raise item
            self._left = item
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._left))
        view[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def _parse_digest(digest: str) -> tuple[str, str]:
    algorithm, sep, value = digest.partition(":")
    if not sep or algorithm not in ("sha256", "sha384", "sha512") or not value:
        raise LayerError(f"unsupported digest: {digest!r}")
    return algorithm, value.lower()


def _decompressor(raw: IO[bytes], compression: Compression) -> _Readable:
    if compression is Compression.GZIP:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression is Compression.ZSTD:
        try:
            zstandard = importlib.import_module("zstandard")
        except ImportError:
            raise LayerError("zstd-compressed layer: install the 'zstandard' package") from None
        reader: _Readable = zstandard.ZstdDecompressor().stream_reader(raw)
        return reader
    return raw


def read_layer(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    digest: str | None = None,
    digest_of: DigestOf = "compressed",
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE,
    capture: Callable[[str], bool] | None = None,
    max_capture_size: int = DEFAULT_MAX_CAPTURE_SIZE,
    diff_id: str | None = None,
    details: bool = False,
    data: EntryData | None = None,
) -> Iterator[LayerEntry]:
    """Yield the entries of one layer in archive order.

    Regular files whose path `capture` accepts, up to `max_capture_size` bytes each, carry their
    bytes in `content`: catalogers read package databases this way, in the same single pass.
    `details` fills the fields that only writing the entry again needs (mtime, owner names,
    device numbers, extended attributes); `data` hands out the bytes of any regular file as it
    streams past.

    `digest` is checked over the compressed bytes (a blob digest) or the uncompressed tar (a
    diff_id), as `digest_of` says. The check completes when the stream ends, so a mismatch is
    raised after the last entry: consume the whole iterator before trusting what it yielded.
    `diff_id`, when given too, is checked over the uncompressed tar. Each digest is computed
    once, and only when there is one to check.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            yield from read_layer(
                handle,
                digest=digest,
                digest_of=digest_of,
                max_entries=max_entries,
                max_total_size=max_total_size,
                capture=capture,
                max_capture_size=max_capture_size,
                diff_id=diff_id,
                details=details,
                data=data,
            )
        return
    blob_digest = digest if digest_of == "compressed" else None
    tar_digest = diff_id if digest_of == "compressed" else digest
    if digest_of == "uncompressed" and diff_id is not None and diff_id != digest:
        raise ValueError("two different uncompressed digests")
    checks = [(d, _parse_digest(d)) for d in (blob_digest, tar_digest) if d is not None]
    blob_algorithm = _parse_digest(blob_digest)[0] if blob_digest else None
    tar_algorithm = _parse_digest(tar_digest)[0] if tar_digest else None
    # the compression is known only after the first bytes went through the blob's hasher
    raw_hash = _HashingReader(source, blob_algorithm or tar_algorithm)
    buffered = io.BufferedReader(raw_hash, _CHUNK)
    compression = detect_compression(buffered.peek(4)[:4])
    if compression is Compression.NONE:
        if blob_digest and tar_digest and blob_digest != tar_digest:
            raise LayerError(
                f"layer digest mismatch: an uncompressed layer has two digests,"
                f" {blob_digest} and {tar_digest}"
            )
        # an uncompressed blob's digest is its tar's: one hash serves both
        tar_algorithm = None
    elif blob_algorithm is None:
        raw_hash.hasher = None
    compressed_hash = raw_hash
    try:
        stream = _decompressor(cast(IO[bytes], buffered), compression)
        tar_hash = _HashingReader(stream, tar_algorithm)
        # reading, decompressing and hashing run in a thread of their own (they release the
        # GIL), so they overlap with parsing the tar headers here
        with _Prefetch(tar_hash, compressed_hash) as prefetched:
            tar_stream = io.BufferedReader(prefetched, _CHUNK)
            yield from _entries(
                TarStream(tar_stream),
                max_entries,
                max_total_size,
                capture,
                max_capture_size,
                details,
                data,
            )
            while tar_stream.read(_CHUNK):
                pass
    except LayerError:
        raise
    except (TarFormatError, EOFError, OSError, zlib.error, ValueError) as exc:
        raise LayerError(f"corrupt or truncated {compression} layer: {exc}") from None
    except Exception as exc:
        # zstandard reports corrupt frames with its own exception type
        if type(exc).__module__.startswith("zstandard"):
            raise LayerError(f"corrupt or truncated {compression} layer: {exc}") from None
        raise
    for expected, (algorithm, value) in checks:
        is_blob = expected == blob_digest and expected != tar_digest
        hasher = (
            compressed_hash.hasher
            if is_blob or compression is Compression.NONE
            else tar_hash.hasher
        )
        assert hasher is not None
        actual = hasher.hexdigest()
        if actual != value:
            raise LayerError(
                f"layer digest mismatch: expected {expected}, got {algorithm}:{actual}"
            )


class MappedBlob:
    """A stored layer mapped into memory: `view` over its bytes, and a way to hand pages that
    are done with back to the kernel, so a large image never counts whole in the resident
    memory (the pages stay in the page cache; touching them again is a minor fault)."""

    def __init__(self, mapping: mmap.mmap, offset: int, size: int) -> None:
        self._mapping = mapping
        self._offset = offset
        self.view = memoryview(mapping)[offset : offset + size]

    def drop(self, start: int, end: int) -> None:
        """Advise that bytes [start, end) of the blob will not be needed soon."""
        page = mmap.PAGESIZE
        first = (self._offset + start + page - 1) // page * page
        last = (self._offset + end) // page * page
        if last > first:
            with contextlib.suppress(OSError, ValueError):
                self._mapping.madvise(mmap.MADV_DONTNEED, first, last - first)

    def release(self) -> None:
        self.view.release()


def read_mapped_layer(
    blob: MappedBlob,
    *,
    digest: str | None = None,
    diff_id: str | None = None,
    capture: Callable[[str], bool] | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE,
    max_capture_size: int = DEFAULT_MAX_CAPTURE_SIZE,
    details: bool = False,
    data: EntryData | None = None,
) -> Iterator[LayerEntry]:
    """`read_layer` for an uncompressed layer already in memory (a mapped archive member).

    The digest is computed in a thread of its own straight from the buffer (hashlib releases
    the GIL), while the headers are parsed here; file data is never copied. Both digests name
    the same bytes, so they must agree. Raises ValueError for a compressed buffer: stream it.
    """
    view = blob.view
    if detect_compression(bytes(view[:4])) is not Compression.NONE:
        raise ValueError("read_mapped_layer takes uncompressed layers only")
    if digest and diff_id and digest != diff_id:
        raise LayerError(
            f"layer digest mismatch: an uncompressed layer has two digests, {digest} and {diff_id}"
        )
    expected = digest or diff_id
    hashing: _BufferHasher | None = None
    if expected is not None:
        hashing = _BufferHasher(blob, _parse_digest(expected)[0])
        hashing.start()
    try:
        yield from _entries(
            BufferTarStream(view, blob.drop),
            max_entries,
            max_total_size,
            capture,
            max_capture_size,
            details,
            data,
        )
    except TarFormatError as exc:
        raise LayerError(f"corrupt or truncated none layer: {exc}") from None
    finally:
        if hashing is not None:
            hashing.join()
        # the pages read last, which no periodic drop reached, leave with the layer
        blob.drop(0, len(view))
    if hashing is not None and expected is not None:
        algorithm, value = _parse_digest(expected)
        actual = hashing.hexdigest()
        if actual != value:
            raise LayerError(
                f"layer digest mismatch: expected {expected}, got {algorithm}:{actual}"
            )


class _BufferHasher(threading.Thread):
    _STEP = 16 << 20

    def __init__(self, blob: MappedBlob, algorithm: str) -> None:
        super().__init__(daemon=True)
        self._blob = blob
        self._hasher = hashlib.new(algorithm)

    def run(self) -> None:
        view, step = self._blob.view, self._STEP
        for start in range(0, len(view), step):
            self._hasher.update(view[start : start + step])
            self._blob.drop(start, start + step)

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()


def _entries(
    tar: TarStream,
    max_entries: int,
    max_total_size: int,
    capture: Callable[[str], bool] | None,
    max_capture_size: int,
    with_details: bool = False,
    data: EntryData | None = None,
) -> Iterator[LayerEntry]:
    if data is not None:
        data._tar = tar
    count = 0
    total = 0
    symlinks: set[str] = set()
    # parent directories already known to lie beneath no symlink of this layer
    clear: set[str] = set()
    for member in tar.members():
        count += 1
        if count > max_entries:
            raise LayerError(f"layer has more than {max_entries} entries")
        total += max(member.size, 0)
        if total > max_total_size:
            raise LayerError(f"layer declares more than {max_total_size} bytes")
        path = normalize_path(member.name)
        if not path:
            continue
        if symlinks:
            parent = path.rpartition("/")[0]
            if parent not in clear:
                _check_ancestors(path, symlinks)
                clear.add(parent)
        kind = _KINDS.get(member.type, EntryKind.OTHER)
        link_target = member.linkname
        if kind is EntryKind.HARDLINK:
            link_target = normalize_path(member.linkname)
        elif kind is EntryKind.SYMLINK:
            symlinks.add(path)
            # a directory checked before may now lie beneath this link
            clear.clear()
        if "\x00" in link_target:
            raise LayerError(f"link target contains a NUL byte: {path!r}")
        content = None
        if (
            capture is not None
            and kind is EntryKind.FILE
            and member.size <= max_capture_size
            and capture(path)
        ):
            content = tar.read_data()
        entry = _entry(path, kind, member, link_target, content)
        if with_details:
            entry = entry._replace(**details(member)._asdict())
        yield entry


_KINDS = {
    **dict.fromkeys(REGULAR, EntryKind.FILE),
    DIRECTORY: EntryKind.DIR,
    SYMLINK: EntryKind.SYMLINK,
    HARDLINK: EntryKind.HARDLINK,
}


def _check_ancestors(path: str, symlinks: set[str]) -> None:
    parent = path.rpartition("/")[0]
    while parent:
        if parent in symlinks:
            raise LayerError(f"layer entry {path!r} lies beneath the symlink {parent!r}")
        parent = parent.rpartition("/")[0]


def _entry(
    path: str, kind: EntryKind, info: Member, link_target: str, content: bytes | None
) -> LayerEntry:
    parent, _, base = path.rpartition("/")
    is_opaque = base == OPAQUE_MARKER
    # other `.wh..wh.` names are aufs bookkeeping, not deletions
    is_whiteout = base.startswith(WHITEOUT_PREFIX) and not base.startswith(AUFS_META_PREFIX)
    target = ""
    if is_opaque:
        target = parent
    elif is_whiteout:
        name = base[len(WHITEOUT_PREFIX) :]
        if name in ("", ".", ".."):
            raise LayerError(f"layer has a whiteout that names no file: {path!r}")
        target = f"{parent}/{name}" if parent else name
    return LayerEntry(
        path=path,
        kind=kind,
        size=info.size,
        mode=info.mode,
        uid=info.uid,
        gid=info.gid,
        link_target=link_target,
        is_whiteout=is_whiteout,
        whiteout_target=target,
        is_opaque=is_opaque,
        content=content,
        typeflag=info.type,
    )
