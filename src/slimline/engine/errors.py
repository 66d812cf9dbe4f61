"""What can go wrong when slimline builds and runs images: each error is one line for the user."""

from __future__ import annotations


class EngineError(Exception):
    """Base of the engine errors; ``str()`` is a single line fit for the command line."""


class EngineUnavailable(EngineError):
    """No container engine answers."""


class BuildFailed(EngineError):
    """A Dockerfile did not build. ``role`` says which one ("original", "fixed"); ``log_tail``
    holds the last lines of the build log for whoever wants more than the one-line message."""

    def __init__(self, message: str, *, role: str = "", log_tail: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.role = role
        self.log_tail = log_tail


class ProbeFailed(EngineError):
    """A probe could not be carried out (the port is taken, the container cannot start)."""

    def __init__(self, message: str, *, role: str = "") -> None:
        super().__init__(message)
        self.role = role


class ProbeTimeout(ProbeFailed):
    """A probe did not finish in time."""
