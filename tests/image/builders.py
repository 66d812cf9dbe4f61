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
