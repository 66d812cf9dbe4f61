"""Readable lines from BuildKit's build progress.

With ``version=2`` the engine's build endpoint streams BuildKit's ``StatusResponse`` messages as
base64 protobuf in ``aux`` fields (id ``moby.buildkit.trace``). Only a few fields matter for a
build log (step names, their output, their errors), so a minimal wire-format reader does; no
protobuf library is needed.

    StatusResponse { repeated Vertex vertexes = 1; repeated VertexStatus statuses = 2;
                     repeated VertexLog logs = 3; }
    Vertex         { string digest = 1; string name = 3; bool cached = 4; string error = 7; }
    VertexLog      { string vertex = 1; int64 stream = 3; bytes msg = 4; }
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class _Truncated(ValueError):
    pass


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise _Truncated("varint runs past the end")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise _Truncated("varint too long")


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs: ints for varints, bytes for length-delimited fields."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, at = _varint(data, at)
            yield number, value
        elif wire == _LENGTH:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise _Truncated("field runs past the end")
            yield number, data[at : at + length]
            at += length
        elif wire == _FIXED64:
            at += 8
        elif wire == _FIXED32:
            at += 4
        else:
            raise _Truncated(f"unknown wire type {wire}")


@dataclass
class BuildKitLog:
    """Accumulates a build's progress into plain log lines, in the order BuildKit sent them."""

    lines: list[str] = field(default_factory=list)
    _names: dict[str, str] = field(default_factory=dict)
    # Output arrives in chunks that split lines anywhere: the unfinished end of each step's
    # stream waits here for the rest.
    _partial: dict[tuple[str, int], str] = field(default_factory=dict)
    _announced: set[str] = field(default_factory=set)
    _errors: set[str] = field(default_factory=set)

    def feed(self, aux: object) -> None:
        """Take one ``aux`` value of a ``moby.buildkit.trace`` message; ignores what it cannot
        read, because a log is no reason to fail a build."""
        if not isinstance(aux, str):
            return
        try:
            self._status(base64.b64decode(aux))
        except (binascii.Error, _Truncated):
            return

    def _status(self, data: bytes) -> None:
        for number, value in _fields(data):
            if not isinstance(value, bytes):
                continue
            if number == 1:
                self._vertex(value)
            elif number == 3:
                self._log(value)

    def _vertex(self, data: bytes) -> None:
        digest = name = error = ""
        cached = False
        for number, value in _fields(data):
            if number == 1 and isinstance(value, bytes):
                digest = value.decode(errors="replace")
            elif number == 3 and isinstance(value, bytes):
                name = value.decode(errors="replace")
            elif number == 4 and isinstance(value, int):
                cached = bool(value)
            elif number == 7 and isinstance(value, bytes):
                error = value.decode(errors="replace")
        if name:
            self._names[digest] = name
        if name and digest not in self._announced and not name.startswith("[internal]"):
            self._announced.add(digest)
            self.lines.append(f"#{name}" + (" (cached)" if cached else ""))
        if error and digest not in self._errors:
            self._errors.add(digest)
            self.flush()
            self.lines.append(f"ERROR {self._names.get(digest, digest)}: {error}")

    def _log(self, data: bytes) -> None:
        vertex, stream, message = "", 0, b""
        for number, value in _fields(data):
            if number == 1 and isinstance(value, bytes):
                vertex = value.decode(errors="replace")
            elif number == 3 and isinstance(value, int):
                stream = value
            elif number == 4 and isinstance(value, bytes):
                message = value
        key = (vertex, stream)
        text = self._partial.pop(key, "") + message.decode(errors="replace").replace("\r", "\n")
        complete, _, rest = text.rpartition("\n")
        if rest:
            self._partial[key] = rest
        self.lines.extend(line for line in complete.splitlines() if line.strip())

    def flush(self) -> None:
        """Move unfinished lines into ``lines`` (the build ended or a step failed)."""
        for rest in self._partial.values():
            if rest.strip():
                self.lines.append(rest)
        self._partial.clear()
