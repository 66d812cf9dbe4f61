"""Options of the `slimline sbom` formats: RenderOptions plus what makes an SBOM reproducible."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from slimline.report.analysis.options import options_as
from slimline.report.options import RenderOptions


@dataclass(frozen=True)
class SbomOptions(RenderOptions):
    """How an SBOM is written.

    created: the document's creation time. None means the time in the environment variable
        SOURCE_DATE_EPOCH (seconds since 1970, UTC) when it is set, else now. A naive datetime
        is taken as UTC; sub-second parts are dropped.
    serial: the document's UUID (CycloneDX serialNumber, the end of the SPDX
        documentNamespace). None derives it from the document's content and creation time, so
        a fixed creation time makes the whole document reproducible.
    """

    created: datetime | None = None
    serial: UUID | None = None

    @classmethod
    def of(cls, options: RenderOptions) -> SbomOptions:
        return options_as(cls, options)
