"""Output formats of ``slimline analyze``: one module per format, like ``slimline.report``.

A format module defines ``NAME`` and ``render(analysis, options) -> str`` taking an
``ImageAnalysis`` and any ``RenderOptions`` (``AnalysisOptions`` adds the text layout). Listing
the formats imports none of them, so rich is loaded only when the text format is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slimline.report import FormatRegistry, Renderer, RenderOptions, UnknownFormatError
from slimline.report.analysis.options import AnalysisOptions

if TYPE_CHECKING:
    from slimline.image.model import ImageAnalysis

__all__ = [
    "AnalysisOptions",
    "RenderOptions",
    "Renderer",
    "UnknownFormatError",
    "available_formats",
    "get_renderer",
]

_REGISTRY: FormatRegistry[ImageAnalysis] = FormatRegistry(__name__, __path__)


def available_formats() -> list[str]:
    """The names of the analysis formats, sorted; imports no format module."""
    return _REGISTRY.available()


def get_renderer(name: str) -> Renderer[ImageAnalysis]:
    """The renderer of the analysis format ``name``; imports only that format's module."""
    return _REGISTRY.get(name)
