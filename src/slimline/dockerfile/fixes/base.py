"""The types a rule's ``fix`` works with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.edits import Edit

if TYPE_CHECKING:
    from slimline.dockerfile.fixes.images import ImageResolver


class Unfixable(Exception):
    """Raised by fix helpers: the finding stays, and ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FixResult:
    """Edits that remove a finding, or the reason there are none."""

    edits: tuple[Edit, ...] = ()
    reason: str | None = None
    description: str = ""  # what the edits do, for the report: "added --no-cache to `apk add`"

    @classmethod
    def of(cls, edits: Sequence[Edit], description: str) -> FixResult:
        if not edits:
            raise ValueError("a fix needs at least one edit")
        return cls(tuple(edits), None, description)

    @classmethod
    def skip(cls, reason: str) -> FixResult:
        return cls((), reason, "")


@dataclass(frozen=True, slots=True)
class FixOptions:
    """What a fix may consult beyond the Dockerfile itself."""

    # The build context (for package.json, lock files, archives that ADD would unpack);
    # None when unknown (standard input without --context).
    context_dir: Path | None = None
    online: bool = False  # ask registries for tags and digests
    pin_digests: bool = False  # pin base images by digest (registry or local engine)
    resolver: ImageResolver | None = None  # tag and digest look-ups; built from the above


@dataclass(eq=False)
class FixContext:
    """One Dockerfile as the fixes of one pass see it: the check context plus the options."""

    check: CheckContext
    options: FixOptions = field(default_factory=FixOptions)
    # Analyses several fixes of the same pass share, keyed by the helper that computes them.
    cache: dict[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.check.doc.text

    @property
    def escape(self) -> str:
        return self.check.doc.escape
