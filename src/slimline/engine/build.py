"""Build a Dockerfile's text in a context directory and measure the image.

Two builders: BuildKit (the engine's ``version=2`` builder, the default of ``docker build``
today, needed for ``RUN --mount``, ``COPY --link``, heredocs) and the classic builder. Both
receive the context as a tar in the request body, so neither needs a client session.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from slimline.engine.buildkit import BuildKitLog
from slimline.engine.context import context_tar
from slimline.engine.errors import BuildFailed, EngineError

Builder = Literal["buildkit", "classic"]
LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class BuiltImage:
    """An image that was built, and what it measures."""

    tag: str
    id: str
    size_bytes: int  # the engine's Size: all layers, base image included
    layer_count: int  # filesystem layers (RootFS.Layers), base image included
    build_seconds: float


@dataclass
class _Log:
    """The build log as it streams, kept for error messages and progress callbacks."""

    on_line: Callable[[str], None] | None
    buildkit: BuildKitLog = field(default_factory=BuildKitLog)
    lines: list[str] = field(default_factory=list)
    _buildkit_seen: int = 0

    def add(self, text: str) -> None:
        for line in text.replace("\r", "\n").splitlines():
            if line.strip():
                self.lines.append(line.rstrip())
                if self.on_line:
                    self.on_line(line.rstrip())

    def add_buildkit(self, aux: object) -> None:
        self.buildkit.feed(aux)
        self._take_buildkit_lines()

    def finish(self) -> None:
        self.buildkit.flush()
        self._take_buildkit_lines()

    def _take_buildkit_lines(self) -> None:
        fresh = self.buildkit.lines[self._buildkit_seen :]
        self._buildkit_seen = len(self.buildkit.lines)
        for line in fresh:
            self.add(line)

    def tail(self) -> tuple[str, ...]:
        return tuple(self.lines[-LOG_TAIL_LINES:])


def _stream(client: Any, context: bytes, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """POST /build with ``params``; yields the decoded JSON messages."""
    api = client.api
    response = api._post(
        api._url("/build"),
        params=dict(params),
        data=context,
        headers={"Content-Type": "application/x-tar"},
        stream=True,
        timeout=None,
    )
    api._raise_for_status(response)
    for chunk in api._stream_helper(response, decode=True):
        if isinstance(chunk, dict):
            yield chunk


def _params(
    *,
    tag: str,
    dockerfile: str,
    builder: Builder,
    network_mode: str,
    target: str | None,
    build_args: Mapping[str, str],
    labels: Mapping[str, str],
) -> dict[str, str]:
    params = {
        "t": tag,
        "dockerfile": dockerfile,
        "networkmode": network_mode,
        "rm": "1",
        "forcerm": "1",
        "q": "0",
    }
    if builder == "buildkit":
        params["version"] = "2"
    if target:
        params["target"] = target
    if build_args:
        params["buildargs"] = json.dumps(dict(build_args))
    if labels:
        params["labels"] = json.dumps(dict(labels))
    return params


def _last_output(lines: Iterable[str]) -> str:
    """The most telling line of a failed build: the last one that is not a step header."""
    for line in reversed(list(lines)):
        text = line.strip()
        if text and not text.startswith(("#", "Step ", " ---> ", "ERROR ", "Removing ")):
            return text[:300]
    return ""


def build_image(
    client: Any,
    dockerfile_text: str,
    context_dir: Path,
    *,
    tag: str,
    dockerfile: str = "Dockerfile",
    builder: Builder = "buildkit",
    network_mode: str = "host",
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    role: str = "",
    on_line: Callable[[str], None] | None = None,
) -> BuiltImage:
    """Build ``dockerfile_text`` with ``context_dir`` as its context, tagged ``tag``.

    ``role`` names the build in messages ("original", "fixed"). Raises :class:`BuildFailed`
    (one-line message, the log's last lines in ``log_tail``) or :class:`EngineError`.
    """
    import docker.errors
    import requests

    what = f"the {role} Dockerfile" if role else "the Dockerfile"
    context = context_tar(context_dir, dockerfile_text, dockerfile)
    params = _params(
        tag=tag,
        dockerfile=dockerfile,
        builder=builder,
        network_mode=network_mode,
        target=target,
        build_args=build_args or {},
        labels=labels or {},
    )
    log = _Log(on_line)
    image_id = ""
    started = time.monotonic()
    try:
        for message in _stream(client, context, params):
            if message.get("id") == "moby.buildkit.trace":
                log.add_buildkit(message.get("aux"))
            elif message.get("id") == "moby.image.id" or "ID" in (message.get("aux") or {}):
                image_id = str((message.get("aux") or {}).get("ID", image_id))
            if "stream" in message:
                log.add(str(message["stream"]))
            if "error" in message:
                error = str(message.get("error", "")).strip().splitlines()
                reason = error[-1] if error else "unknown error"
                detail = _last_output(log.lines)
                suffix = f" (last output: {detail})" if detail and detail not in reason else ""
                raise BuildFailed(
                    f"building {what} failed: {reason}{suffix}", role=role, log_tail=log.tail()
                )
    except docker.errors.APIError as exc:
        reason = exc.explanation or str(exc)
        raise BuildFailed(f"building {what} failed: {reason}", role=role) from exc
    except (requests.RequestException, OSError) as exc:
        raise EngineError(f"building {what}: lost the engine: {exc}") from exc
    seconds = time.monotonic() - started
    return measure(client, image_id or tag, tag=tag, build_seconds=seconds)


def measure(
    client: Any, reference: str, *, tag: str = "", build_seconds: float = 0.0
) -> BuiltImage:
    """Size and layer count of an image the engine has."""
    import docker.errors

    try:
        attrs = client.images.get(reference).attrs
    except docker.errors.ImageNotFound as exc:
        raise EngineError(f"the engine has no image {reference}") from exc
    return BuiltImage(
        tag=tag or reference,
        id=str(attrs["Id"]),
        size_bytes=int(attrs.get("Size") or 0),
        layer_count=len((attrs.get("RootFS") or {}).get("Layers") or []),
        build_seconds=build_seconds,
    )


def remove_image(client: Any, reference: str) -> None:
    """Remove a tag (and the image when nothing else holds it); quiet when already gone."""
    import docker.errors

    try:
        client.images.remove(reference)
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.APIError:
        # Still used by a container or another tag: leaving it is safe.
        pass
