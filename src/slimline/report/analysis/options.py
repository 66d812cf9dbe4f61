"""Options of the `slimline analyze` formats: RenderOptions plus the text format's layout."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from slimline.report.options import RenderOptions

OptionsT = TypeVar("OptionsT", bound=RenderOptions)

DEFAULT_WIDTH = 100
MIN_WIDTH = 40


@dataclass(frozen=True)
class AnalysisOptions(RenderOptions):
    """How an image analysis is rendered.

    width: columns of the text format; None means DEFAULT_WIDTH (the caller passes the
        terminal's width when writing to one). Narrower than MIN_WIDTH is treated as MIN_WIDTH.
    top: rows of each "largest" table in the text format (layers and findings are all shown).
    """

    width: int | None = None
    top: int = 10

    @property
    def columns(self) -> int:
        return max(self.width or DEFAULT_WIDTH, MIN_WIDTH)

    @classmethod
    def of(cls, options: RenderOptions) -> AnalysisOptions:
        return options_as(cls, options)


def options_as(kind: type[OptionsT], options: RenderOptions) -> OptionsT:
    """`options` as `kind` (a RenderOptions subclass), keeping every field the two share, so
    that a caller passing plain RenderOptions gets the defaults of the rest."""
    if isinstance(options, kind):
        return options
    own = {field.name for field in fields(kind)}
    values: dict[str, Any] = {
        field.name: getattr(options, field.name) for field in fields(options) if field.name in own
    }
    return kind(**values)
