"""SBOM formats of ``slimline sbom``: one module per format, like ``slimline.report``.

A format module defines ``NAME`` and ``render(analysis, options) -> str`` taking an
``ImageAnalysis`` and any ``RenderOptions`` (``SbomOptions`` adds a fixed creation time and
serial number). Listing the formats imports none of them. Both formats write their JSON
directly (cyclonedx-python-lib's model and serialiser took seconds for a few thousand
packages); only its SPDX licence list is used, to normalise licence expressions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slimline.report import FormatRegistry, Renderer, RenderOptions, UnknownFormatError
from slimline.report.sbom.options import SbomOptions

if TYPE_CHECKING:
    from slimline.image.model import ImageAnalysis

__all__ = [
    "RenderOptions",
    "Renderer",
    "SbomOptions",
    "UnknownFormatError",
    "available_formats",
    "get_renderer",
]

_REGISTRY: FormatRegistry[ImageAnalysis] = FormatRegistry(__name__, __path__)


def available_formats() -> list[str]:
    """The names of the SBOM formats, sorted; imports no format module."""
    return _REGISTRY.available()


def get_renderer(name: str) -> Renderer[ImageAnalysis]:
    """The renderer of the SBOM format ``name``; imports only that format's module."""
    return _REGISTRY.get(name)
