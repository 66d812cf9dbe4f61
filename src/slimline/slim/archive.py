"""The image around the slim layer: the original's config with the new layer, written as a
docker-archive that also holds an OCI layout; and the source image as an archive, for engines
that do not have it yet."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO, NamedTuple

from slimline.image.sources.base import ImageError, ImageSource, LayerRef
from slimline.slim.errors import SlimError
from slimline.slim.layer import LayerInfo

SLIMMED_FROM_LABEL = "org.slimline.slimmed-from"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"

_BLOCK = tarfile.BLOCKSIZE
_END = bytes(2 * _BLOCK)
_CHUNK = 1 << 20


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
