"""`dir:PATH`: an unpacked root filesystem, seen as an image of one layer with an empty config.

The tree is walked once when the image is opened, without following any symlink (a link is an
entry of its own, as in a layer). The layer's stream is a tar generated on the fly from that walk,
so it reads like any other layer and nothing is written anywhere. A file that cannot be read keeps
its size and reads as zeros: the sizes, which the analysis needs, come from lstat. `size` is the
sum of the regular files' sizes, each hard-linked file counted once.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from slimline.image.sources.base import Image, ImageConfig, ImageError, LayerRef

PREFIXES = ("dir:",)

MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
_CHUNK = 1 << 20
_BLOCK = tarfile.BLOCKSIZE


def detect(path: Path) -> bool:
    # a directory holding an OCI layout is oci:'s, not a root filesystem
    return path.is_dir() and not (path / "oci-layout").exists()


def open_source(prefix: str | None, argument: str, platform: str | None) -> Image:
    root = Path(argument)
    if not root.is_dir():
        raise ImageError(f"dir:{argument}: not a directory")
    items = _walk(root)
    # a hard-linked file is stored once, as in a layer
    inodes = {(st.st_dev, st.st_ino): st.st_size for _, st in items if stat.S_ISREG(st.st_mode)}
    size = sum(inodes.values())
    label = f"dir:{root}"
    layer = LayerRef(
        index=0,
        digest=None,
        diff_id=None,
        media_type=MEDIA_TYPE,
        size=size,
        history=None,
        opener=lambda: cast(IO[bytes], io.BufferedReader(_TarStream(root, items), _CHUNK)),
        location=f"{label}: layer 0",
    )
    return Image(label, ImageConfig(), [layer])


def _walk(root: Path) -> list[tuple[str, os.stat_result]]:
    """(relative path, lstat) of everything under `root`, parents first, names sorted."""
    found: list[tuple[str, os.stat_result]] = []
    pending = [""]
    while pending:
        relative = pending.pop()
        try:
            with os.scandir(root / relative if relative else root) as listing:
                children = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise ImageError(f"dir:{root}: cannot list {relative or '.'}: {exc.strerror}") from None
        subdirs = []
        for child in children:
            path = f"{relative}/{child.name}" if relative else child.name
            info = child.stat(follow_symlinks=False)
            found.append((path, info))
            if stat.S_ISDIR(info.st_mode):
                subdirs.append(path)
        pending.extend(reversed(subdirs))
    return found


def _header(
    path: str, info: os.stat_result, hardlinks: dict[tuple[int, int], str]
) -> tarfile.TarInfo | None:
    entry = tarfile.TarInfo(path)
    entry.mode = stat.S_IMODE(info.st_mode)
    entry.uid, entry.gid = info.st_uid, info.st_gid
    entry.mtime = int(info.st_mtime)
    mode = info.st_mode
    if stat.S_ISREG(mode):
        key = (info.st_dev, info.st_ino)
        if info.st_nlink > 1 and key in hardlinks:
            entry.type, entry.linkname = tarfile.LNKTYPE, hardlinks[key]
        else:
            hardlinks[key] = path
            entry.size = info.st_size
    elif stat.S_ISDIR(mode):
        entry.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(mode):
        entry.type = tarfile.SYMTYPE
        entry.linkname = ""  # filled by the caller, which knows the root
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        entry.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
        entry.devmajor, entry.devminor = os.major(info.st_rdev), os.minor(info.st_rdev)
    elif stat.S_ISFIFO(mode):
        entry.type = tarfile.FIFOTYPE
    else:
        # sockets have no tar representation
        return None
    return entry


def _chunks(root: Path, items: list[tuple[str, os.stat_result]]) -> Iterator[bytes]:
    hardlinks: dict[tuple[int, int], str] = {}
    for path, info in items:
        entry = _header(path, info, hardlinks)
        if entry is None:
            continue
        if entry.issym():
            try:
                entry.linkname = os.readlink(root / path)
            except OSError:
                entry.linkname = ""
        yield entry.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        if entry.isreg() and entry.size:
            yield from _content(root / path, entry.size)
            remainder = entry.size % _BLOCK
            if remainder:
                yield b"\0" * (_BLOCK - remainder)
    yield b"\0" * (2 * _BLOCK)


def _content(path: Path, size: int) -> Iterator[bytes]:
    """Exactly `size` bytes of the file, even if it shrank, grew or cannot be read."""
    left = size
    try:
        # O_NOFOLLOW: a file swapped for a symlink since the walk is not followed
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        fd = -1
    if fd >= 0:
        with os.fdopen(fd, "rb") as handle:
            while left:
                data = handle.read(min(left, _CHUNK))
                if not data:
                    break
                left -= len(data)
                yield data
    while left:
        step = min(left, _CHUNK)
        left -= step
        yield b"\0" * step


class _TarStream(io.RawIOBase):
    def __init__(self, root: Path, items: list[tuple[str, os.stat_result]]) -> None:
        super().__init__()
        self._chunks = _chunks(root, items)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
