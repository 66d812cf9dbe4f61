"""`docker:REFERENCE`, or a bare `REFERENCE`: images in the local Docker engine.

REFERENCE is anything the engine resolves: `app:1.2`, `app` (`:latest`), `repo@sha256:...`, an
image ID or an unambiguous ID prefix (`sha256:` optional). The engine is found the way the
docker command finds it without contexts: DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.

The image is read from the engine's `docker save` stream, saved by ID so that a tag moved
meanwhile cannot swap the image, into a private work directory (mode 0700, removed when the image
is closed) and then read by the docker-archive reader, so both layouts engines write (the legacy
one, and the OCI layout of Docker 25 and later) are read, and verified, by the same code.

Why not read the stream in a single pass: `docker save` writes manifest.json and the config in
name order, after or among the layers they describe, so a single pass would still have to hold
back the layers that arrive before it knows what they are, and could not give a layer's stored
size before the layer arrives. Nor would it be faster: on a 1.25 GB image (Docker 20.10, two busy
cores) this takes 18-22 s, of which 11-13 s pass before the engine sends its first byte (it
exports the whole image to its own disk first), and an idealised single pass, parsing every layer
as it streams past with nothing held back, took as long: parsing tars nested in a tar stream is
slower than reading them in place (4.5 s against 3.9 s for that image), which eats what not
writing the file saves.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from slimline.image.sources.base import Image, ImageError, NoSuchImage

PREFIXES = ("docker:",)
DEFAULT_HOST = "unix:///var/run/docker.sock"
# seconds to wait for the engine to answer a request; the save stream itself has no read timeout,
# since an engine exports the whole image before it sends the first byte
DEFAULT_TIMEOUT = 60
_CHUNK = 1 << 20

# distribution's reference grammar, plus the image IDs and ID prefixes the engine resolves
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"
_REFERENCE = re.compile(
    rf"^(?:{_DOMAIN}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,})?$"
)
_IMAGE_ID = re.compile(r"^(?:sha256:)?[0-9a-f]{1,64}$")


def detect(path: Path) -> bool:
    # the engine holds images, not files: only bare names come here, through accepts_name
    return False


def accepts_name(text: str) -> bool:
    """Whether `text` is spelled like something the engine could resolve."""
    return len(text) <= 512 and bool(_REFERENCE.match(text) or _IMAGE_ID.match(text))


def open_source(prefix: str | None, argument: str, platform: str | None) -> Image:
    if not argument:
        raise ImageError("docker: needs an image name or ID, like docker:app:1.2")
    client = connect()
    try:
        return _open(client, argument, platform)
    finally:
        client.close()


def engine_host() -> str:
    """Where the engine is expected, as the user would recognise it."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def connect(timeout: int = DEFAULT_TIMEOUT) -> Any:
    """A docker.DockerClient that has answered once; NoSuchImage when the engine does not."""
    import docker
    import docker.errors
    import requests

    try:
        client = docker.from_env(timeout=timeout)
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise NoSuchImage(
            f"cannot reach the Docker engine at {engine_host()}: {_reason(exc)}; is it running?"
        ) from None
    return client


def _reason(exc: BaseException) -> str:
    """The innermost readable cause: the SDK nests the socket error inside two wrappers."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _open(client: Any, reference: str, platform: str | None) -> Image:
    label = f"docker:{reference}"
    attrs = _inspect(client, reference)
    workdir = Path(tempfile.mkdtemp(prefix="slimline-engine-"))
    image: Image | None = None
    try:
        archive = workdir / "image.tar"
        _save(client, str(attrs.get("Id") or reference), archive, label)
        image = _read_archive(archive, label)
        _check_matches_inspect(image, attrs, label)
        _check_platform(image, platform, label)
        return _relabelled(image, label, workdir, attrs)
    except BaseException:
        if image is not None:
            image.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _inspect(client: Any, reference: str) -> dict[str, Any]:
    import docker.errors
    import requests

    try:
        attrs = client.api.inspect_image(reference)
    except docker.errors.ImageNotFound:
        raise NoSuchImage(
            f"no image {reference!r} in the Docker engine; prefix registry: to read it from a"
            " registry"
        ) from None
    except docker.errors.APIError as exc:
        raise ImageError(
            f"docker:{reference}: the Docker engine refused: {_explanation(exc)}"
        ) from None
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise NoSuchImage(
            f"cannot reach the Docker engine at {engine_host()}: {_reason(exc)}; is it running?"
        ) from None
    if not isinstance(attrs, dict):
        raise ImageError(f"docker:{reference}: the Docker engine answered no image description")
    return attrs


def _explanation(exc: Any) -> str:
    explanation = getattr(exc, "explanation", None) or str(exc)
    return str(explanation).strip().splitlines()[0] if str(explanation).strip() else str(exc)


def _save(client: Any, image_id: str, path: Path, label: str) -> None:
    """Stream `docker save` of the image into `path`, a chunk at a time."""
    import docker.errors
    import requests

    chunks = client.images.prepare_model({"Id": image_id}).save(chunk_size=_CHUNK)
    try:
        with open(path, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
    except docker.errors.APIError as exc:
        raise ImageError(
            f"{label}: the Docker engine could not save it: {_explanation(exc)}"
        ) from None
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise ImageError(
            f"{label}: reading it from the Docker engine failed: {_reason(exc)}"
        ) from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot write its copy: {exc.strerror or exc}") from None
    finally:
        chunks.close()


def _read_archive(path: Path, label: str) -> Image:
    from slimline.image.sources import archive

    try:
        return archive.open_source("docker-archive:", str(path), None)
    except ImageError as exc:
        # the temporary file means nothing to the user; the image they named does
        message = str(exc).replace(f"docker-archive:{path}", label).replace(str(path), label)
        raise ImageError(message) from None


def _check_matches_inspect(image: Image, attrs: dict[str, Any], label: str) -> None:
    """The saved copy must be the image the engine described: same config, same layers."""
    expected_id = attrs.get("Id")
    if image.image_id is not None and expected_id and image.image_id != expected_id:
        raise ImageError(
            f"{label}: the engine saved image {image.image_id}, not {expected_id} as it described"
        )
    layers = (attrs.get("RootFS") or {}).get("Layers")
    if isinstance(layers, list) and tuple(layers) != image.config.diff_ids:
        raise ImageError(f"{label}: the saved layers differ from those the engine described")


def _check_platform(image: Image, platform: str | None, label: str) -> None:
    if platform is None:
        return
    from slimline.image.sources.oci import _matches

    if not _matches(image.config.platform, platform):
        raise ImageError(
            f"{label}: the image is for {image.config.platform or 'an unknown platform'},"
            f" not {platform} (an engine holds one platform of an image)"
        )


def _relabelled(image: Image, label: str, workdir: Path, attrs: dict[str, Any]) -> Image:
    """The archive's image under the name the user gave, owning the work directory."""
    layers = [
        dataclasses.replace(ref, location=f"{label}: layer {ref.index}") for ref in image.layers
    ]
    closed = False

    def close() -> None:
        nonlocal closed
        if closed:
            return
        closed = True
        try:
            image.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    repo_digests = [str(d) for d in attrs.get("RepoDigests") or () if isinstance(d, str)]
    return Image(
        label,
        image.config,
        layers,
        close,
        image_id=str(attrs.get("Id") or image.image_id or "") or None,
        repo_digests=repo_digests,
        raw_config=image.raw_config,
    )
