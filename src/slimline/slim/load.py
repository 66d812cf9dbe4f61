"""The engine steps of `slim`: load an archive, tag the verified image (never over the
original's tag), remove temporary images, and make sure the engine holds the source image."""

from __future__ import annotations

import contextlib
import json
import tarfile
from pathlib import Path
from typing import Any

from slimline.image.sources.base import ImageSource, digest_of
from slimline.slim.archive import normalize_tag, source_archive
from slimline.slim.errors import SlimError

# where a source image the engine did not have is loaded for the runs
SOURCE_REPOSITORY = "slimline-slim/source"


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
    short = (image_id or digest_of(bytes(raw) if raw else source.name.encode())).partition(":")[2]
    tag = f"{SOURCE_REPOSITORY}:{short[:12]}"
    # streamed to the engine as it is written: no copy of the image on disk
    chunks = (bytes(chunk) for chunk in source_archive(source))
    loaded = _load(client, chunks, source.name)
    tag_image(client, loaded, tag)
    return tag
