"""`docker-archive:PATH[:REFERENCE]`: tarballs written by `docker save`.

Both layouts are read from their manifest.json: the legacy one (`<id>.json` config and
`<id>/layer.tar` layers) and the OCI layout newer engines write (config and layers under
`blobs/sha256/`, with index.json and oci-layout next to manifest.json). An archive with only the
OCI files is read as an OCI archive. The outer tarball may be gzip-compressed, the layers plain or
gzip.

REFERENCE picks one image when the archive holds several: a `repo:tag` from RepoTags (a name
without a tag means `:latest`), or the image ID (the config digest, `sha256:` optional, at least
12 hex digits). Without it, the archive must hold exactly one image.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

from slimline.image.layers import Compression
from slimline.image.sources.base import (
    Image,
    ImageConfig,
    ImageError,
    LayerRef,
    Store,
    TarStore,
    _object,
    _strings,
    check_digest,
    history_for_layers,
    parse_json,
    peek_compression,
    read_json,
    read_json_bytes,
    safe_name,
    split_reference,
    tar_names,
)

PREFIXES = ("docker-archive:",)

_BLOB = re.compile(r"^blobs/(sha256|sha512)/([0-9a-f]+)$")
_LEGACY_CONFIG = re.compile(r"^([0-9a-f]{64})\.json$")
_MEDIA_TYPES = {
    (False, Compression.NONE): "application/vnd.docker.image.rootfs.diff.tar",
    (False, Compression.GZIP): "application/vnd.docker.image.rootfs.diff.tar.gzip",
    (False, Compression.ZSTD): "application/vnd.oci.image.layer.v1.tar+zstd",
    (True, Compression.NONE): "application/vnd.oci.image.layer.v1.tar",
    (True, Compression.GZIP): "application/vnd.oci.image.layer.v1.tar+gzip",
    (True, Compression.ZSTD): "application/vnd.oci.image.layer.v1.tar+zstd",
}


def detect(path: Path) -> bool:
    names = tar_names(path)
    return names is not None and "manifest.json" in names


def open_source(prefix: str | None, argument: str, platform: str | None) -> Image:
    path, reference = split_reference(argument)
    store = TarStore(path)
    try:
        if not store.exists("manifest.json") and store.exists("index.json"):
            from slimline.image.sources import oci

            return oci.open_store(store, f"docker-archive:{path}", reference, platform)
        return _open(store, path, reference)
    except BaseException:
        store.close()
        raise


def _digest_in_name(name: str) -> str | None:
    blob = _BLOB.match(name)
    if blob:
        return f"{blob.group(1)}:{blob.group(2)}"
    legacy = _LEGACY_CONFIG.match(name)
    return f"sha256:{legacy.group(1)}" if legacy else None


def _select(entries: list[dict[str, Any]], reference: str | None, label: str) -> dict[str, Any]:
    def tags(entry: dict[str, Any]) -> tuple[str, ...]:
        return _strings(entry.get("RepoTags"), f"{label}: manifest.json RepoTags")

    if reference is None:
        if len(entries) == 1:
            return entries[0]
        listed = "; ".join(", ".join(tags(e)) or "<untagged>" for e in entries)
        raise ImageError(
            f"{label}: the archive holds {len(entries)} images; pick one with"
            f" docker-archive:PATH:REPO:TAG (images: {listed})"
        )
    wanted = {reference}
    if ":" not in reference.rpartition("/")[2]:
        wanted.add(reference + ":latest")
    image_id = reference.removeprefix("sha256:")
    matches = []
    for entry in entries:
        config_digest = _digest_in_name(str(entry.get("Config", ""))) or ""
        by_id = len(image_id) >= 12 and config_digest.partition(":")[2].startswith(image_id)
        if by_id or wanted & set(tags(entry)):
            matches.append(entry)
    if len(matches) != 1:
        known = ", ".join(t for e in entries for t in tags(e)) or "<untagged>"
        problem = "matches several images" if matches else "matches no image"
        raise ImageError(f"{label}: {reference!r} {problem} in the archive (tags: {known})")
    return matches[0]


def _open(store: Store, path: Path, reference: str | None) -> Image:
    label = f"docker-archive:{path}"
    if not store.exists("manifest.json"):
        raise ImageError(f"{label}: no manifest.json: not a docker save archive")
    manifest = read_json(store, "manifest.json", "manifest.json")
    if not isinstance(manifest, list) or not manifest:
        raise ImageError(f"{label}: manifest.json is not a non-empty list of images")
    entries = [_object(item, f"{label}: manifest.json entry") for item in manifest]
    entry = _select(entries, reference, label)
    config_name = safe_name(entry.get("Config"), f"{label}: manifest.json Config")
    config_digest = _digest_in_name(config_name)
    raw_config = read_json_bytes(store, config_name, f"config {config_name}", digest=config_digest)
    document = parse_json(raw_config, f"{store.label}: config {config_name}")
    config = ImageConfig.from_json(document, f"{label}: config")
    layer_names = [
        safe_name(name, f"{label}: manifest.json layer")
        for name in _strings(entry.get("Layers"), f"{label}: manifest.json Layers")
    ]
    if len(layer_names) != len(config.diff_ids):
        raise ImageError(
            f"{label}: manifest.json lists {len(layer_names)} layers"
            f" but the config has {len(config.diff_ids)} diff_ids"
        )
    histories = history_for_layers(config.history, len(layer_names))
    layers = []
    for index, (name, diff_id) in enumerate(zip(layer_names, config.diff_ids, strict=True)):
        blob = _BLOB.match(name)
        digest = check_digest(f"{blob.group(1)}:{blob.group(2)}", name) if blob else None
        media_type = _MEDIA_TYPES[(blob is not None, peek_compression(store, name))]
        layers.append(
            LayerRef(
                index=index,
                digest=digest,
                diff_id=diff_id,
                media_type=media_type,
                size=store.size(name),
                history=histories[index],
                opener=partial(store.open, name),
                mapper=partial(store.map, name),
                location=f"{label}: layer {index} ({name})",
            )
        )
    return Image(label, config, layers, store.close, image_id=config_digest, raw_config=raw_config)
