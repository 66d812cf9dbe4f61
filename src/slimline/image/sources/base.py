"""What every image source yields, the storage helpers they share, and the registry of sources.

A source module declares ``PREFIXES`` (the ``scheme:`` strings it answers to), ``detect(path)``
(whether an unprefixed path is its kind of image) and ``open_source(prefix, argument, platform)``.
A module that also answers to bare image names (the engine: ``app:1.2``) declares
``accepts_name(text)``; it is asked only for text that names no file.
Modules are found with pkgutil and imported only when an image is opened, so adding a source is
adding a module, and start-up costs nothing.

Nothing here extracts to disk: archive members are read in place through tarfile's random access,
and every name taken from an index file is checked before it is looked up.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import mmap
import os
import posixpath
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, cast

from slimline.image.layers import (
    Compression,
    EntryData,
    LayerEntry,
    LayerError,
    MappedBlob,
    detect_compression,
    read_layer,
    read_mapped_layer,
)
from slimline.plugins import package_modules

MAX_JSON_BYTES = 16 * 1024**2
MAX_ARCHIVE_MEMBERS = 100_000
_MAX_LINK_HOPS = 16
_CHUNK = 1 << 20
_DIGEST = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")


class ImageError(Exception):
    """An image that cannot be opened or read: missing, corrupt, hostile or inconsistent."""


class NoSuchImage(ImageError):
    """The source does not hold the image, or cannot be asked (an engine that is not running)."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created_by: str = ""
    empty_layer: bool = False
    created: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of an OCI or Docker image config that the analysis uses."""

    architecture: str = ""
    os: str = ""
    variant: str = ""
    created: str = ""
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    workdir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    history: tuple[HistoryEntry, ...] = ()
    diff_ids: tuple[str, ...] = ()

    @property
    def platform(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)

    @classmethod
    def from_json(cls, document: object, what: str = "image config") -> ImageConfig:
        top = _object(document, what)
        inner = _object(top.get("config") or {}, f"{what} 'config'")
        rootfs = _object(top.get("rootfs") or {}, f"{what} 'rootfs'")
        history = []
        for item in _list(top.get("history"), f"{what} 'history'"):
            entry = _object(item, f"{what} history entry")
            history.append(
                HistoryEntry(
                    created_by=_string(entry.get("created_by"), what),
                    empty_layer=entry.get("empty_layer") is True,
                    created=_string(entry.get("created"), what),
                    comment=_string(entry.get("comment"), what),
                )
            )
        diff_ids = _strings(rootfs.get("diff_ids"), f"{what} 'rootfs.diff_ids'")
        for diff_id in diff_ids:
            check_digest(diff_id, f"{what} diff_id")
        ports = _object(inner.get("ExposedPorts") or {}, f"{what} 'ExposedPorts'")
        labels = _object(inner.get("Labels") or {}, f"{what} 'Labels'")
        entrypoint = inner.get("Entrypoint")
        cmd = inner.get("Cmd")
        return cls(
            architecture=_string(top.get("architecture"), what),
            os=_string(top.get("os"), what),
            variant=_string(top.get("variant"), what),
            created=_string(top.get("created"), what),
            env=_strings(inner.get("Env"), f"{what} 'Env'"),
            entrypoint=None if entrypoint is None else _strings(entrypoint, f"{what} 'Entrypoint'"),
            cmd=None if cmd is None else _strings(cmd, f"{what} 'Cmd'"),
            workdir=_string(inner.get("WorkingDir"), what),
            user=_string(inner.get("User"), what),
            exposed_ports=tuple(sorted(ports)),
            labels={str(k): _string(v, f"{what} label") for k, v in labels.items()},
            history=tuple(history),
            diff_ids=diff_ids,
        )


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImageError(f"{what} is not a JSON object")
    return cast(dict[str, Any], value)


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImageError(f"{what} is not a JSON array")
    return value


def _string(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImageError(f"{what} has a non-string value where a string belongs: {value!r:.80}")
    return value


def _strings(value: object, what: str) -> tuple[str, ...]:
    return tuple(_string(item, what) for item in _list(value, what))


def check_digest(digest: object, what: str) -> str:
    """The digest itself, or ImageError: a digest also names a file, so its form is strict."""
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ImageError(f"{what} is not a supported digest: {digest!r:.100}")
    return digest


def blob_name(digest: object, what: str = "descriptor") -> str:
    algorithm, _, value = check_digest(digest, what).partition(":")
    return f"blobs/{algorithm}/{value}"


def digest_of(data: bytes, like: str = "sha256:") -> str:
    algorithm = like.partition(":")[0]
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ImageError(f"{what} is not valid JSON: {exc}") from None


def history_for_layers(history: Sequence[HistoryEntry], count: int) -> list[HistoryEntry | None]:
    """The history entry that created each layer: the non-empty entries, matched in order."""
    creating = [entry for entry in history if not entry.empty_layer]
    return [creating[i] if i < len(creating) else None for i in range(count)]


@dataclass(frozen=True, slots=True)
class LayerRef:
    """One layer of an image, not yet read.

    `digest` is the blob's digest as stored (None when the format does not name one), `diff_id`
    the digest of the uncompressed tar from the config (None for a synthesized layer); `size` is
    the stored size in bytes. `entries()` verifies both digests while it streams.
    """

    index: int
    digest: str | None
    diff_id: str | None
    media_type: str
    size: int
    history: HistoryEntry | None
    opener: Callable[[], IO[bytes]] = field(repr=False, compare=False)
    location: str = ""
    # the stored bytes mapped into memory, when the store can (a plain archive, a layout
    # directory): an uncompressed layer is then read without copying its data
    mapper: Callable[[], MappedBlob | None] | None = field(default=None, repr=False, compare=False)

    def open(self) -> IO[bytes]:
        return self.opener()

    def entries(
        self,
        capture: Callable[[str], bool] | None = None,
        *,
        details: bool = False,
        data: EntryData | None = None,
    ) -> Iterator[LayerEntry]:
        """The layer's entries; ImageError when it is corrupt or a digest does not match.

        Digests are known only once the stream ends: consume the whole iterator before trusting
        what it yielded. `capture` selects the regular files whose bytes come with their entry;
        `details` and `data` are read_layer's (for writing entries out again).
        """
        label = self.location or f"layer {self.index}"
        blob = self.mapper() if self.mapper is not None else None
        if blob is not None:
            try:
                if detect_compression(bytes(blob.view[:4])) is Compression.NONE:
                    try:
                        yield from read_mapped_layer(
                            blob,
                            digest=self.digest,
                            diff_id=self.diff_id,
                            capture=capture,
                            details=details,
                            data=data,
                        )
                    except LayerError as exc:
                        raise ImageError(f"{label}: {exc}") from None
                    return
            finally:
                blob.release()
        with self.open() as raw:
            try:
                yield from read_layer(
                    raw,
                    digest=self.digest,
                    digest_of="compressed",
                    diff_id=self.diff_id,
                    capture=capture,
                    details=details,
                    data=data,
                )
            except LayerError as exc:
                raise ImageError(f"{label}: {exc}") from None
            except _READ_ERRORS as exc:
                raise ImageError(f"{label}: corrupt or truncated: {exc}") from None


class ImageSource(Protocol):
    """An opened image: its config and its layers, bottom first. Close it when done."""

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> ImageConfig: ...

    @property
    def layers(self) -> Sequence[LayerRef]: ...

    def close(self) -> None: ...

    def __enter__(self) -> ImageSource: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class Image:
    """The ImageSource every module returns: the parsed metadata and a way to release files."""

    def __init__(
        self,
        name: str,
        config: ImageConfig,
        layers: Sequence[LayerRef],
        closer: Callable[[], None] = lambda: None,
        *,
        image_id: str | None = None,
        repo_digests: Sequence[str] = (),
        raw_config: bytes | None = None,
    ) -> None:
        self._name = name
        self._config = config
        self._layers = tuple(layers)
        self._closer = closer
        # the config's digest, which engines show as the image ID
        self.image_id = image_id
        # `repo@sha256:...` manifest digests, when the source knows them
        self.repo_digests = tuple(repo_digests)
        # the config exactly as stored (its digest is the image ID), when the source read one
        self.raw_config = raw_config

    @property
    def name(self) -> str:
        return self._name

    @property
    def config(self) -> ImageConfig:
        return self._config

    @property
    def layers(self) -> Sequence[LayerRef]:
        return self._layers

    def close(self) -> None:
        self._closer()

    def __enter__(self) -> Image:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Image({self._name!r}, {len(self._layers)} layers)"


def safe_name(name: object, what: str) -> str:
    """A relative member name from an index file, or ImageError if it could point elsewhere."""
    if not isinstance(name, str) or not name:
        raise ImageError(f"{what} is not a path: {name!r:.100}")
    if "\x00" in name or name.startswith("/") or ".." in name.split("/"):
        raise ImageError(f"{what} points outside the image: {name!r:.200}")
    return posixpath.normpath(name)


class Store(Protocol):
    """Named files of an image, read in place: a layout directory or a tar archive."""

    label: str

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def open(self, name: str) -> IO[bytes]: ...

    def map(self, name: str) -> MappedBlob | None: ...

    def close(self) -> None: ...


def read_json(store: Store, name: str, what: str, *, digest: str | None = None) -> Any:
    """A JSON file, capped at MAX_JSON_BYTES and checked against `digest` when one is given."""
    return parse_json(read_json_bytes(store, name, what, digest=digest), f"{store.label}: {what}")


def read_json_bytes(store: Store, name: str, what: str, *, digest: str | None = None) -> bytes:
    """The bytes of a JSON file, capped and checked as `read_json` does, not yet parsed."""
    size = store.size(name)
    if size > MAX_JSON_BYTES:
        raise ImageError(f"{store.label}: {what} is {size} bytes, more than {MAX_JSON_BYTES}")
    with store.open(name) as handle:
        try:
            data = handle.read(MAX_JSON_BYTES + 1)
        except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
            raise ImageError(f"{store.label}: cannot read {what}: {exc}") from None
    if len(data) > MAX_JSON_BYTES:
        raise ImageError(f"{store.label}: {what} is larger than {MAX_JSON_BYTES} bytes")
    if digest is not None:
        actual = digest_of(data, digest)
        if actual != digest:
            raise ImageError(
                f"{store.label}: {what} digest mismatch: expected {digest}, got {actual}"
            )
    return data


def peek_compression(store: Store, name: str) -> Compression:
    with store.open(name) as handle:
        try:
            return detect_compression(handle.read(4))
        except (OSError, tarfile.TarError) as exc:
            raise ImageError(f"{store.label}: cannot read {name}: {exc}") from None


class DirectoryStore:
    """Files under a layout directory; a name whose real path leaves the directory is refused."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise ImageError(f"{root}: not a directory")
        self.root = Path(os.path.realpath(root))
        self.label = str(root)

    def _path(self, name: str) -> Path:
        path = os.path.realpath(self.root / safe_name(name, "file name"))
        if os.path.commonpath([path, self.root]) != str(self.root):
            raise ImageError(f"{self.label}: {name} points outside the layout directory")
        return Path(path)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        path = self._path(name)
        if not path.is_file():
            raise ImageError(f"{self.label}: missing {name}")
        return path.stat().st_size

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self._path(name), "rb")
        except OSError as exc:
            raise ImageError(f"{self.label}: cannot open {name}: {exc.strerror}") from None

    def map(self, name: str) -> MappedBlob | None:
        try:
            with open(self._path(name), "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size == 0:
                    return None
                # the mapping outlives the descriptor; it is unmapped once nothing refers to it
                mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        return MappedBlob(mapping, 0, size)

    def close(self) -> None:
        pass


_READ_ERRORS = (OSError, tarfile.TarError, EOFError, zlib.error, ValueError)


def _member_name(name: str) -> str | None:
    if not name or name.startswith("/"):
        return None
    normal = posixpath.normpath(name)
    if normal == "." or normal == ".." or normal.startswith("../"):
        return None
    return normal


class TarStore:
    """Members of a tar archive (plain or compressed), indexed once and read in place."""

    def __init__(self, path: Path) -> None:
        self.label = str(path)
        self._path = path
        try:
            # kept open for the image's lifetime: layers are read from it later
            self._tar = tarfile.open(path, "r:*")  # noqa: SIM115
        except FileNotFoundError:
            raise ImageError(f"{path}: no such file") from None
        except _READ_ERRORS as exc:
            # tarfile lists every compression it tried, one per line: the first line says it
            reason = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__
            raise ImageError(f"{path}: not a readable tar archive: {reason}") from None
        self.members: dict[str, tarfile.TarInfo] = {}
        # members of an uncompressed archive are read straight from the file, bypassing
        # tarfile's slower member reader
        self._plain = isinstance(self._tar.fileobj, io.BufferedReader)
        self._mapped: mmap.mmap | None = None
        count = 0
        try:
            while (info := self._tar.next()) is not None:
                count += 1
                if count > MAX_ARCHIVE_MEMBERS:
                    raise ImageError(f"{path}: more than {MAX_ARCHIVE_MEMBERS} archive members")
                name = _member_name(info.name)
                # a hostile name is never looked up; nothing is ever extracted
                if name is not None:
                    self.members[name] = info
        except ImageError:
            self._tar.close()
            raise
        except _READ_ERRORS as exc:
            self._tar.close()
            raise ImageError(f"{path}: corrupt or truncated archive: {exc}") from None

    def _resolve(self, name: str) -> tarfile.TarInfo | None:
        current = _member_name(name)
        for _ in range(_MAX_LINK_HOPS):
            info = self.members.get(current) if current is not None else None
            if info is None or not (info.issym() or info.islnk()):
                return info
            assert current is not None
            # docker save links a repeated layer to its first copy
            base = "" if info.islnk() else posixpath.dirname(current)
            target = posixpath.normpath(posixpath.join(base, info.linkname))
            current = None if info.linkname.startswith("/") else _member_name(target)
        raise ImageError(f"{self.label}: too many links to follow for {name}")

    def _regular(self, name: str) -> tarfile.TarInfo:
        info = self._resolve(name)
        if info is None:
            raise ImageError(f"{self.label}: missing {name}")
        if not info.isreg():
            raise ImageError(f"{self.label}: {name} is not a regular file")
        return info

    def exists(self, name: str) -> bool:
        info = self._resolve(name)
        return info is not None and info.isreg()

    def size(self, name: str) -> int:
        return self._regular(name).size

    def open(self, name: str) -> IO[bytes]:
        info = self._regular(name)
        if self._plain and not info.sparse:
            window = _FileWindow(self._path, info.offset_data, info.size)
            return cast(IO[bytes], io.BufferedReader(window, _CHUNK))
        handle = self._tar.extractfile(info)
        if handle is None:
            raise ImageError(f"{self.label}: cannot read {name}")
        return handle

    def map(self, name: str) -> MappedBlob | None:
        """The member's bytes mapped from an uncompressed archive, else None."""
        info = self._regular(name)
        if not self._plain or info.sparse or info.size == 0:
            return None
        if self._mapped is None:
            try:
                with open(self._path, "rb") as handle:
                    self._mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return None
        if info.offset_data + info.size > len(self._mapped):
            return None
        return MappedBlob(self._mapped, info.offset_data, info.size)

    def close(self) -> None:
        self._tar.close()
        if self._mapped is not None:
            # a view still held elsewhere keeps the mapping alive until it is released
            with contextlib.suppress(BufferError):
                self._mapped.close()


class _FileWindow(io.RawIOBase):
    """`size` bytes of a file from `offset`, through a handle of its own."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115
        self._file.seek(offset)
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        if len(view) > self._left:
            view = view[: self._left]
        got = self._file.readinto(view)
        if not got:
            raise OSError("unexpected end of the archive file")
        self._left -= got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def tar_names(path: Path) -> frozenset[str] | None:
    """The member names of a tar archive, or None when `path` is not one (for detection)."""
    if not path.is_file():
        return None
    try:
        store = TarStore(path)
    except ImageError:
        return None
    store.close()
    return frozenset(store.members)


def split_reference(argument: str) -> tuple[Path, str | None]:
    """`PATH[:REFERENCE]`: PATH is the longest prefix before a colon that exists on disk."""
    if not argument:
        raise ImageError("no path given")
    if os.path.lexists(argument):
        return Path(argument), None
    cut = argument.rfind(":")
    while cut > 0:
        if os.path.lexists(argument[:cut]):
            return Path(argument[:cut]), argument[cut + 1 :] or None
        cut = argument.rfind(":", 0, cut)
    raise ImageError(f"{argument}: no such file or directory")


class _SourceModule(Protocol):
    PREFIXES: tuple[str, ...]

    def detect(self, path: Path) -> bool: ...

    def open_source(self, prefix: str | None, argument: str, platform: str | None) -> Image: ...


_modules: list[_SourceModule] | None = None


def source_modules() -> list[_SourceModule]:
    """Every module of this package that declares PREFIXES, imported on first use."""
    global _modules
    if _modules is None:
        modules = package_modules(__name__.rpartition(".")[0])
        _modules = [
            cast(_SourceModule, module)
            for module in modules
            if isinstance(getattr(module, "PREFIXES", None), tuple)
        ]
    return _modules


def source_prefixes() -> list[str]:
    return sorted(prefix for module in source_modules() for prefix in module.PREFIXES)


def open_image(text: str, *, platform: str | None = None) -> Image:
    """Open `text` as an image: `prefix:PATH[:REFERENCE]`, a bare path whose kind is detected, or
    else an image name (`app:1.2`, an image ID) for the source that takes names (the engine).

    `platform` (`os/arch[/variant]`) picks one image from an image index.
    """
    modules = source_modules()
    for module in modules:
        for prefix in module.PREFIXES:
            if text.startswith(prefix):
                return module.open_source(prefix, text[len(prefix) :], platform)
    try:
        path, _ = split_reference(text)
    except ImageError:
        if not text:
            raise
        return _open_name(text, modules, platform)
    matches = [module for module in modules if _detects(module, path)]
    if len(matches) != 1:
        kinds = ", ".join(prefix for module in matches for prefix in module.PREFIXES)
        why = f"it could be any of {kinds}" if matches else "it is no image format slimline reads"
        raise ImageError(
            f"{text}: cannot tell what kind of image this is ({why});"
            f" prefix it with one of {', '.join(source_prefixes())}"
        )
    return matches[0].open_source(None, text, platform)


def _open_name(text: str, modules: Sequence[_SourceModule], platform: str | None) -> Image:
    """`text` names no file: try it as an image name; when that fails too, say both."""
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", text)
    if scheme:
        problem = (
            f"unknown image source {scheme.group(0)!r} (known: {', '.join(source_prefixes())})"
        )
    else:
        problem = "no such file or directory"
    for module in modules:
        accepts = getattr(module, "accepts_name", None)
        if callable(accepts) and accepts(text):
            try:
                return module.open_source(None, text, platform)
            except NoSuchImage as exc:
                raise NoSuchImage(f"{text}: {problem}, and {exc}") from None
    raise ImageError(f"{text}: {problem}")


def _detects(module: _SourceModule, path: Path) -> bool:
    try:
        return module.detect(path)
    except (OSError, ImageError):
        return False
