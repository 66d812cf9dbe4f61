"""Writing the slim image: one layer holding exactly the kept paths with their final metadata,
an image around it that keeps the original's config, and the engine steps (load, tag, remove).

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
import json
import os
import platform
import posixpath
import tarfile
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, NamedTuple, cast

from slimline.image.files import ImageFiles
from slimline.image.filetree import FileRecord
from slimline.image.layers import EntryData, EntryKind, LayerEntry
from slimline.image.sources.base import ImageError, ImageSource, LayerRef
from slimline.image.tarstream import BLOCK_DEVICE, CHARACTER_DEVICE, FIFO
from slimline.slim.errors import SlimError

SLIMMED_FROM_LABEL = "org.slimline.slimmed-from"
SOURCE_REPOSITORY = "slimline-slim/source"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"

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


# ---- the layer ---------------------------------------------------------------------------


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


# ---- the image ---------------------------------------------------------------------------


def _now() -> str:
    moment = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def slim_config(
    raw_config: bytes | Mapping[str, Any],
    *,
    diff_id: str,
    label_from: str,
    created_by: str,
    comment: str = "",
    created: str | None = None,
) -> dict[str, Any]:
    """The original config with one layer: `diff_id`, the history's entries marked empty plus
    one for the new layer, and the label naming the original. The rest is kept as it was."""
    if isinstance(raw_config, bytes | bytearray):
        try:
            document = json.loads(raw_config)
        except ValueError as exc:
            raise SlimError(f"the image config is not valid JSON: {exc}") from None
    else:
        document = json.loads(json.dumps(raw_config))
    if not isinstance(document, dict):
        raise SlimError("the image config is not a JSON object")
    document["rootfs"] = {"type": "layers", "diff_ids": [diff_id]}
    history = document.get("history")
    entries = [dict(item) for item in history if isinstance(item, dict)] if history else []
    for entry in entries:
        entry["empty_layer"] = True
    step: dict[str, Any] = {"created": created or _now(), "created_by": created_by}
    if comment:
        step["comment"] = comment
    document["history"] = [*entries, step]
    if not document.get("created"):
        document["created"] = step["created"]
    inner = document.get("config")
    if not isinstance(inner, dict):
        inner = {}
        document["config"] = inner
    labels = inner.get("Labels")
    if not isinstance(labels, dict):
        labels = {}
    inner["Labels"] = {**labels, SLIMMED_FROM_LABEL: label_from}
    return document


def _json(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _blob(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


class _Member(NamedTuple):
    name: str
    size: int
    chunks: Iterable[bytes | memoryview]


def _archive(members: Iterable[_Member]) -> Iterator[bytes | memoryview]:
    """A tar of `members`, as chunks."""
    for member in members:
        info = tarfile.TarInfo(member.name)
        info.size = member.size
        info.mode = 0o644
        yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "strict")
        written = 0
        for chunk in member.chunks:
            written += len(chunk)
            yield chunk
        if written != member.size:
            raise SlimError(f"{member.name}: {written} bytes where {member.size} were announced")
        if member.size % _BLOCK:
            yield bytes(_BLOCK - member.size % _BLOCK)
    yield _END


def _small(name: str, data: bytes) -> _Member:
    return _Member(name, len(data), [data])


def normalize_tag(tag: str) -> str:
    """`name:tag` with `:latest` added when the reference names no tag."""
    last = tag.rpartition("/")[2]
    return tag if ":" in last or "@" in last else f"{tag}:latest"


def _full_name(tag: str) -> str:
    """The name containerd files an image under: docker.io/library/name:tag."""
    first, slash, _ = tag.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        tag = f"docker.io/{tag}" if slash else f"docker.io/library/{tag}"
    return tag


def write_image(
    out: BinaryIO,
    *,
    raw_config: bytes | Mapping[str, Any],
    layer_path: Path,
    layer: LayerInfo,
    label_from: str,
    tag: str | None,
    mode: str = "packages",
    comment: str | None = None,
    created: str | None = None,
) -> str:
    """Write a docker-archive (`docker save`'s format, with the OCI layout's index.json and
    oci-layout too, so `oci-archive:` reads it as well) of the one-layer image; return its ID.

    `raw_config` is the original config (bytes as stored, or the parsed document); `tag`, when
    given, goes into RepoTags (loading the archive then tags the image).
    """
    size = layer_path.stat().st_size
    if size != layer.size:
        raise SlimError(f"{layer_path}: {size} bytes, but the layer written was {layer.size}")
    document = slim_config(
        raw_config,
        diff_id=layer.diff_id,
        label_from=label_from,
        created_by=f"slimline slim --mode {mode}",
        comment=comment
        if comment is not None
        else f"{layer.files} paths, {layer.regular_bytes} bytes of files, from {label_from}",
        created=created,
    )
    config = _json(document)
    config_digest = _digest(config)
    manifest = _json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer.diff_id, "size": layer.size}],
        }
    )
    manifest_digest = _digest(manifest)
    descriptor: dict[str, Any] = {
        "mediaType": OCI_MANIFEST,
        "digest": manifest_digest,
        "size": len(manifest),
    }
    repo_tags = []
    if tag:
        full = normalize_tag(tag)
        repo_tags.append(full)
        descriptor["annotations"] = {
            "io.containerd.image.name": _full_name(full),
            "org.opencontainers.image.ref.name": full.rpartition(":")[2],
        }
    index = _json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor]})
    docker_manifest = _json(
        [
            {
                "Config": _blob(config_digest),
                "RepoTags": repo_tags or None,
                "Layers": [_blob(layer.diff_id)],
            }
        ]
    )
    with open(layer_path, "rb") as layer_file:
        members = [
            _Member(_blob(layer.diff_id), layer.size, _file_chunks(layer_file)),
            _small(_blob(config_digest), config),
            _small(_blob(manifest_digest), manifest),
            _small("index.json", index),
            _small("manifest.json", docker_manifest),
            _small("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
        ]
        for chunk in _archive(members):
            out.write(chunk)
    return config_digest


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(_CHUNK):
        yield chunk


def write_image_file(path: Path, **arguments: Any) -> str:
    """`write_image` into `path` atomically: a temporary file beside it, renamed when complete."""
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            image_id = write_image(out, **arguments)
        # mkstemp's 0600 is for the file while it is incomplete; the result is an ordinary file
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return image_id


# ---- the source image as an archive ------------------------------------------------------


def source_archive(source: ImageSource, tag: str | None = None) -> Iterator[bytes | memoryview]:
    """A docker-archive of `source` as it is, as chunks: its layers as stored (compressed or
    not) and its config as stored. A source without a stored config (a directory) gets a
    minimal one; its layer is generated, so it goes through a temporary file first."""
    with contextlib.ExitStack() as stack:
        layers: list[_Member] = []
        diff_ids: list[str] = []
        for ref in source.layers:
            if ref.diff_id is None:
                member, diff_id = _measured_layer(ref, stack)
            else:
                member = _Member(f"{ref.index}/layer.tar", ref.size, _opened(ref, stack))
                diff_id = ref.diff_id
            layers.append(member)
            diff_ids.append(diff_id)
        raw = getattr(source, "raw_config", None)
        config = bytes(raw) if raw else _minimal_config(source, diff_ids)
        config_name = _blob(_digest(config))
        manifest = _json(
            [
                {
                    "Config": config_name,
                    "RepoTags": [normalize_tag(tag)] if tag else None,
                    "Layers": [member.name for member in layers],
                }
            ]
        )
        members = [*layers, _small(config_name, config), _small("manifest.json", manifest)]
        yield from _archive(members)


def _opened(ref: LayerRef, stack: contextlib.ExitStack) -> Iterator[bytes]:
    try:
        handle = stack.enter_context(ref.open())
    except ImageError as exc:
        raise SlimError(str(exc)) from None
    return _file_chunks(handle)


def _measured_layer(ref: LayerRef, stack: contextlib.ExitStack) -> tuple[_Member, str]:
    """A generated layer, stored in a temporary file to learn its size and digest."""
    spool = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
    digest = hashlib.sha256()
    with ref.open() as handle:
        for chunk in _file_chunks(handle):
            digest.update(chunk)
            spool.write(chunk)
    size = spool.tell()
    spool.seek(0)
    return _Member(
        f"{ref.index}/layer.tar", size, _file_chunks(spool)
    ), f"sha256:{digest.hexdigest()}"


_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def _minimal_config(source: ImageSource, diff_ids: list[str]) -> bytes:
    config = source.config
    inner: dict[str, Any] = {}
    if config.env:
        inner["Env"] = list(config.env)
    if config.entrypoint is not None:
        inner["Entrypoint"] = list(config.entrypoint)
    if config.cmd is not None:
        inner["Cmd"] = list(config.cmd)
    if config.workdir:
        inner["WorkingDir"] = config.workdir
    if config.user:
        inner["User"] = config.user
    if config.labels:
        inner["Labels"] = dict(config.labels)
    machine = platform.machine()
    document = {
        "architecture": config.architecture or _ARCHITECTURES.get(machine, machine),
        "os": config.os or "linux",
        "config": inner,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"{source.name} layer {i}"} for i in range(len(diff_ids))],
    }
    return _json(document)


# ---- the engine --------------------------------------------------------------------------


def _engine_error(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None) or str(exc)
    lines = str(explanation).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def image_id_of(client: Any, reference: str) -> str | None:
    """The ID of the image `reference` names in the engine, or None when there is none."""
    import docker.errors

    try:
        return str(client.images.get(reference).id)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        if getattr(exc, "status_code", None) == 404:
            return None
        raise SlimError(
            f"the Docker engine could not look up {reference}: {_engine_error(exc)}"
        ) from None
    except docker.errors.DockerException as exc:
        raise SlimError(f"the Docker engine is not reachable: {_engine_error(exc)}") from None


def _refuse(client: Any, tag: str, protect: str | None) -> None:
    if protect and image_id_of(client, normalize_tag(tag)) == protect:
        raise SlimError(f"{tag} names the original image; refusing to tag anything else with it")


def _archive_tags(archive: Path) -> list[str]:
    try:
        with tarfile.open(archive) as tar:
            member = tar.extractfile("manifest.json")
            document = json.loads(member.read()) if member is not None else []
    except (OSError, KeyError, ValueError, tarfile.TarError):
        return []
    tags = []
    for entry in document if isinstance(document, list) else []:
        for tag in (entry.get("RepoTags") if isinstance(entry, dict) else None) or ():
            if isinstance(tag, str):
                tags.append(tag)
    return tags


def _load(client: Any, data: Any, what: str) -> str:
    import docker.errors
    import requests

    try:
        images = client.images.load(data)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise SlimError(f"the Docker engine could not load {what}: {_engine_error(exc)}") from None
    if not images:
        raise SlimError(f"the Docker engine loaded no image from {what}")
    return str(images[0].id)


def load_image(client: Any, archive: Path, tag: str | None, *, protect: str | None = None) -> str:
    """Load a docker-archive into the engine, tag it `tag` when given; return the image ID.

    SlimError, before anything is loaded, when `tag` (or a tag in the archive) names the image
    `protect` (the original's ID): the original's tag is never moved.
    """
    for name in [*([tag] if tag else []), *_archive_tags(archive)]:
        _refuse(client, name, protect)
    with open(archive, "rb") as data:
        image_id = _load(client, data, str(archive))
    if tag:
        tag_image(client, image_id, tag, protect=protect)
    return image_id


def tag_image(client: Any, image_id: str, tag: str, *, protect: str | None = None) -> None:
    """Point `tag` at `image_id`; SlimError when it now names the image `protect`."""
    import docker.errors
    import requests

    if image_id == protect:
        raise SlimError("the slim image is the original image; nothing to tag")
    _refuse(client, tag, protect)
    repository, _, name = normalize_tag(tag).rpartition(":")
    try:
        client.api.tag(image_id, repository, name, force=True)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise SlimError(f"the Docker engine could not tag {tag}: {_engine_error(exc)}") from None


def remove_image(client: Any, reference: str) -> None:
    """Remove a tag (and its image when nothing else holds it), quietly: this is cleanup."""
    with contextlib.suppress(Exception):
        client.images.remove(reference, force=False, noprune=False)


def ensure_in_engine(client: Any, source: ImageSource) -> str:
    """A reference the engine resolves to the source image: its ID when the engine already
    has it, else a temporary tag `slimline-slim/source:<id>` under which it was just loaded
    (the caller removes it with `remove_image`)."""
    image_id = getattr(source, "image_id", None)
    if image_id and image_id_of(client, image_id) == image_id:
        return str(image_id)
    raw = getattr(source, "raw_config", None)
    short = (image_id or _digest(bytes(raw) if raw else source.name.encode())).partition(":")[2]
    tag = f"{SOURCE_REPOSITORY}:{short[:12]}"
    # streamed to the engine as it is written: no copy of the image on disk
    chunks = (bytes(chunk) for chunk in source_archive(source))
    loaded = _load(client, chunks, source.name)
    tag_image(client, loaded, tag)
    return tag
