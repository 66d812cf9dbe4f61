"""Layer tars and `docker save` archives built in memory for the image tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path

# (op, path, arg): op is file (arg: size or bytes), dir, symlink and hardlink (arg: target),
# whiteout (path is the deleted path), opaque (path is the directory), device, fifo
Op = tuple[str, str, object]


def _info(name: str, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = 1_700_000_000
    return info


def layer_tar(ops: Sequence[Op]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for op, path, arg in ops:
            if op == "file":
                data = arg if isinstance(arg, bytes) else b"x" * int(str(arg))
                info = _info(path)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif op == "dir":
                tar.addfile(_info(path.rstrip("/") + "/", tarfile.DIRTYPE))
            elif op in ("symlink", "hardlink"):
                info = _info(path, tarfile.SYMTYPE if op == "symlink" else tarfile.LNKTYPE)
                info.linkname = str(arg)
                tar.addfile(info)
            elif op == "whiteout":
                parent, _, name = path.rpartition("/")
                tar.addfile(_info(f"{parent}/.wh.{name}" if parent else f".wh.{name}"))
            elif op == "opaque":
                tar.addfile(_info(f"{path}/.wh..wh..opq" if path else ".wh..wh..opq"))
            elif op == "device":
                info = _info(path, tarfile.CHRTYPE)
                info.devmajor, info.devminor = 1, 3
                tar.addfile(info)
            elif op == "fifo":
                tar.addfile(_info(path, tarfile.FIFOTYPE))
            else:
                raise ValueError(op)
    return buffer.getvalue()


def raw_tar(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A tar whose member names are written as given, however hostile."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members:
            info = _info(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def docker_archive(layers: Sequence[bytes], destination: Path) -> Path:
    """A legacy `docker save` archive: manifest.json, the config, <id>/layer.tar per layer."""
    diff_ids = [sha256(layer) for layer in layers]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created_by": f"RUN step {i}"} for i in range(len(layers))],
        }
    ).encode()
    config_name = sha256(config).removeprefix("sha256:") + ".json"
    # identical layers share one directory, as they do in a real archive
    layer_names = [d.removeprefix("sha256:") + "/layer.tar" for d in diff_ids]
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": ["slimline-test:latest"], "Layers": layer_names}]
    ).encode()
    with tarfile.open(destination, "w") as tar:
        written: set[str] = set()
        for name, data in [(config_name, config), *zip(layer_names, layers, strict=True)]:
            if name in written:
                continue
            written.add(name)
            info = _info(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = _info("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return destination


# ---- image layouts for the source tests -------------------------------------------------------

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def config_document(
    layers: Sequence[bytes],
    *,
    history: Sequence[dict[str, object]] | None = None,
    architecture: str = "amd64",
    os: str = "linux",
    variant: str | None = None,
    config: dict[str, object] | None = None,
) -> dict[str, object]:
    """An image config whose diff_ids are those of `layers` (uncompressed tars)."""
    document: dict[str, object] = {
        "architecture": architecture,
        "os": os,
        "config": config if config is not None else {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer) for layer in layers]},
        "history": list(history)
        if history is not None
        else [{"created_by": f"RUN step {i}"} for i in range(len(layers))],
    }
    if variant:
        document["variant"] = variant
    return document


def encode(document: object) -> bytes:
    return json.dumps(document).encode()


def write_tar(
    members: Sequence[tuple[str, bytes]], destination: Path, *, gzip_outer: bool = False
) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = _info(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    destination.write_bytes(gzipped(data) if gzip_outer else data)
    return destination


def legacy_archive(
    images: Sequence[tuple[Sequence[bytes], Sequence[str], dict[str, object]]],
    destination: Path,
    *,
    gzip_layers: bool = False,
    gzip_outer: bool = False,
) -> Path:
    """A legacy `docker save` archive of several images: (layer tars, RepoTags, config)."""
    members: dict[str, bytes] = {}
    manifest = []
    for layers, tags, document in images:
        config = encode(document)
        config_name = sha256(config).removeprefix("sha256:") + ".json"
        members[config_name] = config
        names = []
        for layer in layers:
            name = sha256(layer).removeprefix("sha256:") + "/layer.tar"
            members[name] = gzipped(layer) if gzip_layers else layer
            names.append(name)
        manifest.append({"Config": config_name, "RepoTags": list(tags), "Layers": names})
    members["manifest.json"] = encode(manifest)
    return write_tar(list(members.items()), destination, gzip_outer=gzip_outer)


class OCILayout:
    """Blobs by digest plus the top-level index, written as a layout directory or a tarball."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.index: list[dict[str, object]] = []
        self.docker_manifest: list[dict[str, object]] = []

    def blob(self, data: bytes, media_type: str) -> dict[str, object]:
        digest = sha256(data)
        self.blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(
        self,
        layers: Sequence[bytes],
        document: dict[str, object],
        *,
        gzip_layers: bool = False,
        layer_media_type: str | None = None,
        platform: dict[str, str] | None = None,
        tags: Sequence[str] = (),
    ) -> dict[str, object]:
        """Store one image; return its manifest descriptor (not yet listed in index.json)."""
        config = self.blob(encode(document), OCI_CONFIG)
        media_type = layer_media_type or (OCI_LAYER + "+gzip" if gzip_layers else OCI_LAYER)
        descriptors = [
            self.blob(gzipped(layer) if gzip_layers else layer, media_type) for layer in layers
        ]
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": descriptors,
        }
        descriptor = self.blob(encode(manifest), OCI_MANIFEST)
        if platform is not None:
            descriptor["platform"] = platform
        if tags:
            descriptor["annotations"] = {
                "io.containerd.image.name": f"docker.io/library/{tags[0]}",
                "org.opencontainers.image.ref.name": tags[0].rpartition(":")[2],
            }
        self.docker_manifest.append(
            {
                "Config": "blobs/" + str(config["digest"]).replace(":", "/"),
                "RepoTags": list(tags),
                "Layers": ["blobs/" + str(d["digest"]).replace(":", "/") for d in descriptors],
            }
        )
        return descriptor

    def image_index(self, manifests: Sequence[dict[str, object]]) -> dict[str, object]:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(manifests)}
        return self.blob(encode(index), OCI_INDEX)

    def members(self, *, docker: bool = False) -> list[tuple[str, bytes]]:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.index}
        members = [
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("index.json", encode(index)),
        ]
        members += [("blobs/" + d.replace(":", "/"), data) for d, data in self.blobs.items()]
        if docker:
            members.append(("manifest.json", encode(self.docker_manifest)))
        return members

    def write_dir(self, root: Path) -> Path:
        for name, data in self.members():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return root

    def write_tar(
        self, destination: Path, *, docker: bool = False, gzip_outer: bool = False
    ) -> Path:
        return write_tar(self.members(docker=docker), destination, gzip_outer=gzip_outer)
