"""Reading one layer tar as a stream of entries, without extracting anything to disk.

A layer may be plain, gzip- or zstd-compressed; the compression is detected from the magic bytes,
never from a media type, because registries and `docker save` archives do not always agree with
the bytes they serve. Digests are checked over the bytes as they stream past, so a layer is read
once and never held in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import os
import posixpath
import tarfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Any, Literal, Protocol, cast

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


@dataclass(frozen=True, slots=True)
class LayerEntry:
    """One tar member. `path` is relative to the image root, without a leading `./` or `/`."""

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
    normal = posixpath.normpath(name)
    if normal == ".." or normal.startswith("../"):
        raise LayerError(f"layer entry escapes the image root: {name!r}")
    return "" if normal == "." else normal


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _HashingReader(io.RawIOBase):
    """Feeds every byte read through a hash, so verification costs no second pass."""

    def __init__(self, raw: _Readable, algorithm: str) -> None:
        super().__init__()
        self._raw = raw
        self.hasher = hashlib.new(algorithm)
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        n = len(data)
        view[:n] = data
        self.hasher.update(data)
        self.count += n
        return n

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


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


def _kind(info: tarfile.TarInfo) -> EntryKind:
    if info.isreg():
        return EntryKind.FILE
    if info.isdir():
        return EntryKind.DIR
    if info.issym():
        return EntryKind.SYMLINK
    if info.islnk():
        return EntryKind.HARDLINK
    return EntryKind.OTHER


def read_layer(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    digest: str | None = None,
    digest_of: DigestOf = "compressed",
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE,
    capture: Callable[[str], bool] | None = None,
    max_capture_size: int = DEFAULT_MAX_CAPTURE_SIZE,
) -> Iterator[LayerEntry]:
    """Yield the entries of one layer in archive order.

    Regular files whose path `capture` accepts, up to `max_capture_size` bytes each, carry their
    bytes in `content`: catalogers read package databases this way, in the same single pass.

    `digest` is checked over the compressed bytes (a blob digest) or the uncompressed tar (a
    diff_id), as `digest_of` says. The check completes when the stream ends, so a mismatch is
    raised after the last entry: consume the whole iterator before trusting what it yielded.
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
            )
        return
    expected = _parse_digest(digest) if digest is not None else None
    algorithm = expected[0] if expected else "sha256"
    buffered = io.BufferedReader(_HashingReader(source, algorithm), _CHUNK)
    compressed_hash = buffered.raw
    assert isinstance(compressed_hash, _HashingReader)
    compression = detect_compression(buffered.peek(4)[:4])
    try:
        stream = _decompressor(cast(IO[bytes], buffered), compression)
        tar_hash = _HashingReader(stream, algorithm)
        tar_stream = io.BufferedReader(tar_hash, _CHUNK)
        end = yield from _entries(
            tar_stream, max_entries, max_total_size, capture, max_capture_size
        )
        while tar_stream.read(_CHUNK):
            pass
        # tarfile takes a stream that stops between members for a complete archive; a real one
        # ends with zero blocks, so their absence means the layer was cut short
        if tar_hash.count < end + tarfile.BLOCKSIZE:
            raise LayerError(f"corrupt or truncated {compression} layer: the tar ends early")
        compressed_hash.drain()
    except LayerError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as exc:
        raise LayerError(f"corrupt or truncated {compression} layer: {exc}") from None
    except Exception as exc:
        # zstandard reports corrupt frames with its own exception type
        if type(exc).__module__.startswith("zstandard"):
            raise LayerError(f"corrupt or truncated {compression} layer: {exc}") from None
        raise
    if expected is not None:
        hasher = compressed_hash.hasher if digest_of == "compressed" else tar_hash.hasher
        actual = hasher.hexdigest()
        if actual != expected[1]:
            raise LayerError(
                f"layer digest mismatch: expected {digest}, got {expected[0]}:{actual}"
            )


def _entries(
    stream: IO[bytes],
    max_entries: int,
    max_total_size: int,
    capture: Callable[[str], bool] | None,
    max_capture_size: int,
) -> Generator[LayerEntry, None, int]:
    """Yield the entries; return the offset where the end-of-archive marker should start."""
    count = 0
    total = 0
    symlinks: set[str] = set()
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        while (info := tar.next()) is not None:
            # a streaming TarFile still remembers every member; forget them to bound memory
            tar.members.clear()  # type: ignore[attr-defined]
            count += 1
            if count > max_entries:
                raise LayerError(f"layer has more than {max_entries} entries")
            total += max(info.size, 0)
            if total > max_total_size:
                raise LayerError(f"layer declares more than {max_total_size} bytes")
            path = normalize_path(info.name)
            if not path:
                continue
            _check_ancestors(path, symlinks)
            kind = _kind(info)
            link_target = info.linkname
            if kind is EntryKind.HARDLINK:
                link_target = normalize_path(info.linkname)
            elif kind is EntryKind.SYMLINK:
                symlinks.add(path)
            if "\x00" in link_target:
                raise LayerError(f"link target contains a NUL byte: {path!r}")
            content = None
            if (
                capture is not None
                and kind is EntryKind.FILE
                and info.size <= max_capture_size
                and capture(path)
            ):
                member = tar.extractfile(info)
                content = member.read() if member is not None else None
                if content is not None and len(content) != info.size:
                    raise LayerError(f"layer entry {path!r} is cut short")
            yield _entry(path, kind, info, link_target, content)
        end: int = tar.offset
    return end


def _check_ancestors(path: str, symlinks: set[str]) -> None:
    if not symlinks:
        return
    parent = posixpath.dirname(path)
    while parent:
        if parent in symlinks:
            raise LayerError(f"layer entry {path!r} lies beneath the symlink {parent!r}")
        parent = posixpath.dirname(parent)


def _entry(
    path: str, kind: EntryKind, info: tarfile.TarInfo, link_target: str, content: bytes | None
) -> LayerEntry:
    parent, base = posixpath.split(path)
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
        target = posixpath.join(parent, name)
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
    )
