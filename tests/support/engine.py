"""The real Docker engine for integration tests: one client, images built once and shared.

`scripts/test` starts an engine and sets SLIMLINE_ENGINE=1; then a missing engine fails the
tests instead of skipping them. Images are tagged by the hash of their build context, so a test
that changes its Dockerfile gets a new image and tests on parallel workers share the same one
(a file lock serialises the first build).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

BASE_IMAGE = "debian:bookworm"
SLIM_BASE_IMAGE = "debian:bookworm-slim"
CACHE = Path(tempfile.gettempdir()) / "slimline-test-images"
LABEL = "org.slimline.test.context"


def engine_required() -> bool:
    return os.environ.get("SLIMLINE_ENGINE") == "1"


@functools.cache
def _client() -> Any:
    import docker

    client = docker.from_env(timeout=600)
    client.ping()
    return client


def client() -> Any:
    """A connected docker.DockerClient; fails (under scripts/test) or skips without an engine."""
    try:
        return _client()
    except Exception as exc:
        message = f"no Docker engine: {exc}"
        if engine_required():
            pytest.fail(message)
        pytest.skip(message)


@functools.cache
def _base_ids() -> str:
    ids = []
    for tag in (BASE_IMAGE, SLIM_BASE_IMAGE):
        try:
            ids.append(str(client().images.get(tag).id))
        except Exception:
            ids.append("")
    return ",".join(ids)


def _lock(name: str) -> FileLock:
    CACHE.mkdir(parents=True, exist_ok=True)
    return FileLock(str(CACHE / f"{name}.lock"))


def _context_tar(files: Mapping[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in sorted(files.items()):
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build(name: str, files: Mapping[str, str | bytes]) -> str:
    """Build the context `files` (it must hold a `Dockerfile`); returns the image's tag.

    The tag is `slimline-test/NAME:HASH`, HASH being the context's hash, so an unchanged context
    is built once per machine.
    """
    if "Dockerfile" not in files:
        raise ValueError("the build context needs a Dockerfile")
    context = _context_tar(files)
    # a new local base image (scripts/lib/engine.sh) must not leave images built on the old one
    digest = hashlib.sha256(context + _base_ids().encode()).hexdigest()[:16]
    tag = f"slimline-test/{name}:{digest}"
    engine = client()
    with _lock(f"build-{name}-{digest}"):
        try:
            engine.images.get(tag)
            return tag
        except Exception:
            pass
        try:
            engine.images.build(
                fileobj=io.BytesIO(context),
                custom_context=True,
                tag=tag,
                network_mode="host",
                rm=True,
                forcerm=True,
                labels={LABEL: digest},
            )
        except Exception as exc:
            log = "".join(
                str(part.get("stream", part.get("error", "")))
                for part in getattr(exc, "build_log", [])
                if isinstance(part, dict)
            )
            pytest.fail(f"building {tag} failed: {exc}\n{log[-4000:]}")
    return tag


def save(tag: str) -> Path:
    """`docker save` of `tag` as a file shared by every test on this machine."""
    engine = client()
    image = engine.images.get(tag)
    path = (
        CACHE / f"{image.id.split(':')[-1][:16]}-{hashlib.sha256(tag.encode()).hexdigest()[:8]}.tar"
    )
    with _lock(path.name):
        if not path.exists():
            partial = path.with_suffix(".part")
            with open(partial, "wb") as out:
                for chunk in image.save(named=True):
                    out.write(chunk)
            partial.rename(path)
    return path


# The engine's log driver can drop a last line that has no newline when the container exits
# (seen with `dpkg-query -f '${db:Status-Abbrev}'`): a newline is printed after the command's
# output, keeping its exit status, and taken off again here.
_WITH_NEWLINE = 'status=0; "$@" || status=$?; echo; exit "$status"'


def run(tag: str, command: list[str], **kwargs: Any) -> str:
    """Run `command` in a new container of `tag` without network; returns its output."""
    output = client().containers.run(
        tag,
        ["sh", "-c", _WITH_NEWLINE, "sh", *command],
        remove=True,
        network_mode="none",
        stdout=True,
        stderr=False,
        **kwargs,
    )
    text = bytes(output).decode()
    return text[:-1] if text.endswith("\n") else text
