"""What to do with an image to see that it still works: the probes of `slimline slim`.

A *job* image runs its own command to completion; a *service* image (any HTTP or script check,
or ``service=True``) is started, asked while it runs, then stopped. Every check has a stable
``describe()`` that names its observations, so runs of the original and of the slim image can
be compared probe by probe.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass

from slimline.engine.errors import EngineError
from slimline.engine.probes import LOOPBACK, HttpProbe, parse_probe
from slimline.slim.errors import SlimError

# The key of the observation of the image's own command (job or service). Check keys start
# with "command ", "GET " or "script ", so they never collide with it.
OWN_COMMAND = "the image's own command"
_BARE_PORT = re.compile(r"\d+(?:/|$)")


@dataclass(frozen=True)
class CommandCheck:
    """Run ``argv``: as the whole command of a fresh container (entrypoint cleared) for a job
    image, with ``docker exec`` inside the running container for a service."""

    argv: tuple[str, ...]
    expect_exit: int | None = None
    # text the standard output must contain; when None, the output of the original is used
    expect_output: str | None = None

    def __post_init__(self) -> None:
        if not self.argv:
            raise SlimError("a probe command cannot be empty")

    @classmethod
    def from_text(
        cls, text: str, *, expect_exit: int | None = None, expect_output: str | None = None
    ) -> CommandCheck:
        """``text`` split like a shell splits it (no expansion, no operators)."""
        try:
            argv = tuple(shlex.split(text))
        except ValueError as exc:
            raise SlimError(f"cannot split the probe command {text!r}: {exc}") from exc
        if not argv:
            raise SlimError("a probe command cannot be empty")
        return cls(argv, expect_exit, expect_output)

    def describe(self) -> str:
        return f"command {shlex.join(self.argv)}"


@dataclass(frozen=True)
class HttpCheck:
    """GET ``http://127.0.0.1:PORT/PATH`` while the service runs."""

    port: int
    path: str = "/"
    expect_status: int | None = None
    # text the body must contain; when None, the body of the original is used
    expect_body: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SlimError(f"port {self.port} is not a TCP port")
        if not self.path.startswith("/"):
            raise SlimError(f"the HTTP probe path {self.path!r} must start with /")

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{self.path}"

    def describe(self) -> str:
        return f"GET {self.url}"


def parse_http_check(
    text: str, *, expect_status: int | None = None, expect_body: str | None = None
) -> HttpCheck:
    """An HTTP check from ``http://127.0.0.1:PORT/PATH``, ``http://localhost:PORT/PATH``,
    ``:PORT/PATH`` or ``PORT/PATH``; anything that is not the loopback address is refused."""
    url = text.strip()
    if url.startswith(":"):
        url = f"http://{LOOPBACK}{url}"
    elif _BARE_PORT.match(url):
        url = f"http://{LOOPBACK}:{url}"
    elif "://" not in url:
        url = f"http://{url}"  # "localhost:8000/health"
    try:
        probe = parse_probe(url)
    except EngineError as exc:
        raise SlimError(str(exc)) from exc
    if not isinstance(probe, HttpProbe):
        raise SlimError(f"{text!r} is not an HTTP probe (http://127.0.0.1:PORT/PATH)")
    return HttpCheck(probe.port, probe.paths[0], expect_status, expect_body)


@dataclass(frozen=True)
class ScriptCheck:
    """A program on this machine, run while the service runs, that passes when it exits 0.

    It gets ``SLIMLINE_CONTAINER`` (the container's id), ``SLIMLINE_HOST`` (127.0.0.1) and
    ``SLIMLINE_PORTS`` (the image's exposed TCP ports, comma-separated) in its environment;
    its output is kept for the report but never compared.
    """

    path: str

    @classmethod
    def from_path(cls, path: str) -> ScriptCheck:
        """A check of ``path``, which must be an executable file here."""
        if not os.path.isfile(path):
            raise SlimError(f"the probe script {path} is not a file")
        if not os.access(path, os.X_OK):
            raise SlimError(f"the probe script {path} is not executable")
        return cls(path)

    def describe(self) -> str:
        return f"script {self.path}"


@dataclass(frozen=True)
class ProbeSet:
    """Everything to do with one run of an image."""

    commands: tuple[CommandCheck, ...] = ()
    http: tuple[HttpCheck, ...] = ()
    scripts: tuple[ScriptCheck, ...] = ()
    service: bool = False
    stdin: bytes | None = None
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise SlimError(f"the probe timeout must be positive, not {self.timeout}")
        seen: set[str] = set()
        for key in self.observation_keys():
            if key in seen:
                raise SlimError(f"the probe {key!r} is given twice")
            seen.add(key)

    @property
    def is_service(self) -> bool:
        return self.service or bool(self.http) or bool(self.scripts)

    def observation_keys(self) -> tuple[str, ...]:
        """The observation keys of one run, in the order the probes run."""
        checks: list[CommandCheck | HttpCheck | ScriptCheck] = []
        if self.is_service:
            checks += [*self.http, *self.commands, *self.scripts]
        else:
            checks += self.commands
        return (OWN_COMMAND, *(check.describe() for check in checks))
