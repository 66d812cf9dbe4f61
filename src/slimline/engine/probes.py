"""What to run in an image to see how it behaves.

A :class:`CommandProbe` runs a command (or the image's own) with optional standard input and
compares exit code and standard output. An :class:`HttpProbe` starts the image's own command as a
service on the host network and compares the status and body of GET requests to
``127.0.0.1:PORT``; nothing else is ever contacted.
"""

from __future__ import annotations

import shlex
import urllib.parse
from dataclasses import dataclass

from slimline.engine.errors import EngineError

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class CommandProbe:
    """Run ``argv`` in place of the image's CMD (the ENTRYPOINT stays, as with
    ``docker run IMAGE ARGS``); no arguments runs the image's own command."""

    argv: tuple[str, ...] = ()
    stdin: bytes | None = None
    env: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        what = shlex.join(self.argv) if self.argv else "the image's own command"
        return what + (f" with {len(self.stdin)} bytes of input" if self.stdin is not None else "")


@dataclass(frozen=True)
class HttpProbe:
    """Start the image's own command (or ``argv``) on the host network, wait until
    ``127.0.0.1:port`` answers, then GET each path."""

    port: int
    paths: tuple[str, ...] = ("/",)
    env: tuple[tuple[str, str], ...] = ()
    argv: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise EngineError(f"port {self.port} is not a TCP port")
        if not self.paths:
            raise EngineError("an HTTP probe needs at least one path")
        for path in self.paths:
            if not path.startswith("/"):
                raise EngineError(f"probe path {path!r} must start with /")

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def describe(self) -> str:
        return "GET " + ", ".join(self.url(p) for p in self.paths)


Probe = CommandProbe | HttpProbe


def parse_probe(text: str) -> Probe:
    """A probe from its command-line spelling.

    ``http://127.0.0.1:8000/health`` (or ``localhost``, or just ``:8000/health``) is an HTTP
    probe; anything else is a command, split like a shell would split it.
    """
    stripped = text.strip()
    if stripped.startswith(":"):
        stripped = f"http://{LOOPBACK}{stripped}"
    if stripped.lower().startswith(("http://", "https://")):
        try:
            parts = urllib.parse.urlsplit(stripped)
            port = parts.port
        except ValueError as exc:
            raise EngineError(f"cannot read the HTTP probe {text!r}: {exc}") from exc
        if parts.scheme != "http":
            raise EngineError("an HTTP probe speaks plain http to 127.0.0.1")
        if parts.hostname not in (LOOPBACK, "localhost"):
            raise EngineError(f"an HTTP probe only contacts {LOOPBACK}, not {parts.hostname}")
        if port is None:
            raise EngineError(f"the HTTP probe {text!r} needs a port")
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        return HttpProbe(port=port, paths=(path,))
    try:
        argv = tuple(shlex.split(stripped))
    except ValueError as exc:
        raise EngineError(f"cannot split the probe command {text!r}: {exc}") from exc
    return CommandProbe(argv=argv)


def probe_from_options(command: str | None = None, http: str | None = None) -> Probe | None:
    """The probe named by ``--probe CMD`` or ``--probe-http URL`` (at most one of them);
    None for neither, which means the image's own command."""
    if command and http:
        raise EngineError("give a probe command or an HTTP probe, not both")
    if http:
        text = http.strip()
        if text[:1].isdigit():
            text = f":{text}"  # "8000/health"
        elif not text.lower().startswith(("http://", "https://", ":")):
            text = f"http://{text}"  # "localhost:8000/health"
        probe = parse_probe(text)
        if not isinstance(probe, HttpProbe):
            raise EngineError(f"{http!r} is not an HTTP probe (http://127.0.0.1:PORT/PATH)")
        return probe
    if command:
        return parse_probe(command)
    return None
