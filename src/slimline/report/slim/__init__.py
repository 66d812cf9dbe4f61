"""Output formats of ``slimline slim``: one module per format, like ``slimline.report``.

A format module defines ``NAME`` and ``render(result, options) -> str`` taking a
:class:`~slimline.slim.result.SlimResult`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slimline.report import FormatRegistry, Renderer, RenderOptions, UnknownFormatError

if TYPE_CHECKING:
    from slimline.slim.result import SlimResult

__all__ = ["RenderOptions", "Renderer", "UnknownFormatError", "available_formats", "get_renderer"]

_REGISTRY: FormatRegistry[SlimResult] = FormatRegistry(__name__, __path__)


def available_formats() -> list[str]:
    """The names of the slim report formats, sorted; imports no format module."""
    return _REGISTRY.available()


def get_renderer(name: str) -> Renderer[SlimResult]:
    """The renderer of the slim report format ``name``; imports only that format's module."""
    return _REGISTRY.get(name)
