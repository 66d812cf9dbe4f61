"""Options shared by every output format.

Kept apart from the registry so that format modules can import it without importing the
package's discovery code back.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimline import __version__


@dataclass(frozen=True)
class RenderOptions:
    """How a report is rendered.

    color: ANSI colours in human-oriented formats (machine formats ignore it).
    tool_version: the version written into machine-readable outputs.
    base_dir: when given, paths under it are shown relative to it (POSIX separators);
        SARIF marks such paths with the uriBaseId ``%SRCROOT%``.
    """

    color: bool = False
    tool_version: str = __version__
    base_dir: str | None = None
