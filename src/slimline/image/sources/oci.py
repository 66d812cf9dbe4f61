"""`oci:DIR[:REFERENCE]` and `oci-archive:PATH[:REFERENCE]`: OCI image layouts.

index.json leads to an image manifest, directly or through image indexes (Docker manifest lists
too). REFERENCE keeps only the index.json entries whose `org.opencontainers.image.ref.name` (or
`io.containerd.image.name`) annotation equals it. When several images remain, the `platform`
argument (`os/arch[/variant]`) picks one; without it linux/amd64 is taken if present, else the
only image. Every blob is found by digest under blobs/<algorithm>/<hex> and verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from slimline.image.sources.base import (
    DirectoryStore,
    Image,
    ImageConfig,
    ImageError,
    LayerRef,
    Store,
    TarStore,
    _list,
    _object,
    _string,
    blob_name,
    check_digest,
    history_for_layers,
    parse_json,
    read_json,
    read_json_bytes,
    split_reference,
    tar_names,
)

PREFIXES = ("oci:", "oci-archive:")

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
CONFIG_TYPES = frozenset(
    {
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    }
)
LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)
REF_ANNOTATIONS = ("org.opencontainers.image.ref.name", "io.containerd.image.name")
DEFAULT_PLATFORM = "linux/amd64"
_MAX_INDEX_DEPTH = 4


def detect(path: Path) -> bool:
    if path.is_dir():
        return (path / "oci-layout").is_file() and (path / "index.json").is_file()
    names = tar_names(path)
    # an archive that also has manifest.json is docker save's, which docker-archive: reads
    return (
        names is not None and {"oci-layout", "index.json"} <= names and "manifest.json" not in names
    )


def open_source(prefix: str | None, argument: str, platform: str | None) -> Image:
    path, reference = split_reference(argument)
    is_dir = path.is_dir()
    if prefix == "oci:" and not is_dir:
        raise ImageError(f"oci:{path}: not a directory (use oci-archive: for a tarball)")
    if prefix == "oci-archive:" and is_dir:
        raise ImageError(f"oci-archive:{path}: is a directory (use oci: for a layout directory)")
    kind = "oci:" if is_dir else "oci-archive:"
    store: Store = DirectoryStore(path) if is_dir else TarStore(path)
    try:
        return open_store(store, f"{kind}{path}", reference, platform)
    except BaseException:
        store.close()
        raise


@dataclass(frozen=True, slots=True)
class _Candidate:
    descriptor: dict[str, Any]
    platform: str


def _descriptor(value: object, what: str) -> dict[str, Any]:
    descriptor = _object(value, what)
    check_digest(descriptor.get("digest"), f"{what} digest")
    size = descriptor.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageError(f"{what} has no valid size")
    return descriptor


def _read_blob_json(store: Store, descriptor: dict[str, Any], what: str) -> Any:
    data = _read_blob_bytes(store, descriptor, what)
    return parse_json(data, f"{store.label}: {what} {descriptor['digest']}")


def _read_blob_bytes(store: Store, descriptor: dict[str, Any], what: str) -> bytes:
    name = blob_name(descriptor["digest"], what)
    if not store.exists(name):
        raise ImageError(f"{store.label}: missing blob {descriptor['digest']} ({what})")
    actual = store.size(name)
    if actual != descriptor["size"]:
        raise ImageError(
            f"{store.label}: blob {descriptor['digest']} ({what}) is {actual} bytes,"
            f" the descriptor says {descriptor['size']}"
        )
    return read_json_bytes(
        store, name, f"{what} {descriptor['digest']}", digest=descriptor["digest"]
    )


def _media_type(descriptor: dict[str, Any], document: object) -> str:
    declared = descriptor.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    if isinstance(document, dict):
        inner = document.get("mediaType")
        if isinstance(inner, str) and inner:
            return inner
        if "manifests" in document:
            return "application/vnd.oci.image.index.v1+json"
        if "layers" in document:
            return "application/vnd.oci.image.manifest.v1+json"
    return ""


def _platform_of(descriptor: dict[str, Any]) -> str:
    platform = descriptor.get("platform")
    if not isinstance(platform, dict):
        return ""
    parts = [platform.get("os"), platform.get("architecture"), platform.get("variant")]
    return "/".join(p for p in parts if isinstance(p, str) and p)


def _is_attestation(descriptor: dict[str, Any]) -> bool:
    annotations = descriptor.get("annotations")
    return isinstance(annotations, dict) and "vnd.docker.reference.type" in annotations


def _candidates(
    store: Store, manifests: list[Any], depth: int, out: list[_Candidate], what: str
) -> None:
    if depth > _MAX_INDEX_DEPTH:
        raise ImageError(f"{store.label}: image indexes nested more than {_MAX_INDEX_DEPTH} deep")
    for item in manifests:
        descriptor = _descriptor(item, f"{what} entry")
        if _is_attestation(descriptor):
            continue
        media_type = _media_type(descriptor, None)
        if media_type in INDEX_TYPES or not media_type:
            document = _read_blob_json(store, descriptor, "image index")
            media_type = _media_type(descriptor, document)
            if media_type in INDEX_TYPES:
                nested = _list(_object(document, "image index").get("manifests"), "image index")
                _candidates(store, nested, depth + 1, out, "image index")
                continue
        if media_type not in MANIFEST_TYPES:
            raise ImageError(f"{store.label}: unsupported manifest media type {media_type!r}")
        out.append(_Candidate(descriptor, _platform_of(descriptor)))


def _matches(have: str, want: str) -> bool:
    have_parts, want_parts = have.split("/"), want.split("/")
    if have_parts[:2] != want_parts[:2]:
        return False
    if len(want_parts) < 3:
        return True
    variant = have_parts[2] if len(have_parts) > 2 else ("v8" if have_parts[1] == "arm64" else "")
    return variant == want_parts[2]


def _choose(candidates: list[_Candidate], platform: str | None, label: str) -> _Candidate:
    available = ", ".join(c.platform or "<unknown platform>" for c in candidates) or "none"
    if platform is not None:
        chosen = [c for c in candidates if _matches(c.platform, platform)]
        if not chosen:
            raise ImageError(f"{label}: no image for platform {platform} (available: {available})")
        return chosen[0]
    if len(candidates) == 1:
        return candidates[0]
    default = [c for c in candidates if _matches(c.platform, DEFAULT_PLATFORM)]
    if default:
        return default[0]
    raise ImageError(
        f"{label}: the index holds {len(candidates)} images and none is {DEFAULT_PLATFORM};"
        f" pick one with a platform (available: {available})"
    )


def open_store(store: Store, label: str, reference: str | None, platform: str | None) -> Image:
    """The image that `reference` and `platform` pick from the OCI layout in `store`."""
    if not store.exists("index.json"):
        raise ImageError(f"{label}: no index.json: not an OCI image layout")
    top = _object(read_json(store, "index.json", "index.json"), f"{label}: index.json")
    manifests = _list(top.get("manifests"), f"{label}: index.json manifests")
    if reference is not None:

        def names(item: object) -> set[str]:
            annotations = item.get("annotations") if isinstance(item, dict) else None
            if not isinstance(annotations, dict):
                return set()
            return {v for key in REF_ANNOTATIONS if isinstance(v := annotations.get(key), str)}

        refs = sorted({n for item in manifests for n in names(item)})
        manifests = [item for item in manifests if reference in names(item)]
        if not manifests:
            raise ImageError(
                f"{label}: no image named {reference!r} (names: {', '.join(refs) or 'none'})"
            )
    candidates: list[_Candidate] = []
    _candidates(store, manifests, 0, candidates, "index.json")
    if not candidates:
        raise ImageError(f"{label}: index.json lists no image")
    chosen = _choose(candidates, platform, label)
    manifest = _object(_read_blob_json(store, chosen.descriptor, "manifest"), "manifest")
    config_descriptor = _descriptor(manifest.get("config"), f"{label}: manifest config")
    config_type = _string(config_descriptor.get("mediaType"), "config media type")
    if config_type not in CONFIG_TYPES:
        raise ImageError(f"{label}: unsupported config media type {config_type!r}")
    raw_config = _read_blob_bytes(store, config_descriptor, "config")
    document = parse_json(raw_config, f"{store.label}: config {config_descriptor['digest']}")
    config = ImageConfig.from_json(document, f"{label}: config")
    descriptors = [
        _descriptor(item, f"{label}: manifest layer")
        for item in _list(manifest.get("layers"), f"{label}: manifest layers")
    ]
    if len(descriptors) != len(config.diff_ids):
        raise ImageError(
            f"{label}: the manifest lists {len(descriptors)} layers"
            f" but the config has {len(config.diff_ids)} diff_ids"
        )
    histories = history_for_layers(config.history, len(descriptors))
    layers = []
    for index, (descriptor, diff_id) in enumerate(zip(descriptors, config.diff_ids, strict=True)):
        media_type = _string(descriptor.get("mediaType"), "layer media type")
        if media_type not in LAYER_TYPES:
            raise ImageError(f"{label}: layer {index} has unsupported media type {media_type!r}")
        digest = descriptor["digest"]
        name = blob_name(digest, "layer")
        if not store.exists(name):
            raise ImageError(f"{label}: missing blob {digest} (layer {index})")
        size = store.size(name)
        if size != descriptor["size"]:
            raise ImageError(
                f"{label}: layer blob {digest} is {size} bytes,"
                f" the manifest says {descriptor['size']}"
            )
        layers.append(
            LayerRef(
                index=index,
                digest=digest,
                diff_id=diff_id,
                media_type=media_type,
                size=size,
                history=histories[index],
                opener=partial(store.open, name),
                mapper=partial(store.map, name),
                location=f"{label}: layer {index} ({digest})",
            )
        )
    return Image(
        label,
        config,
        layers,
        store.close,
        image_id=config_descriptor["digest"],
        raw_config=raw_config,
    )
