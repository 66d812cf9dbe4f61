"""The one result type every check returns: a Finding, with its Severity and Practice."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters; ordered from most to least severe."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    STYLE = "style"

    @property
    def rank(self) -> int:
        """Higher is more severe: error 3, warning 2, info 1, style 0."""
        return _SEVERITY_RANK[self]

    def at_least(self, threshold: Severity) -> bool:
        return self.rank >= threshold.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


_SEVERITY_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1, Severity.STYLE: 0}


class Practice(StrEnum):
    """The practices of DESIGN.md: every rule and finding names exactly one."""

    BASE_IMAGE = "base-image"
    PINNING = "pinning"
    PACKAGE_CACHE = "package-cache"
    INSTALL_SCOPE = "install-scope"
    BUILD_TOOLS = "build-tools"
    LAYER_WASTE = "layer-waste"
    DATA_STORAGE = "data-storage"
    MODULAR_DESIGN = "modular-design"
    ATTACK_SURFACE = "attack-surface"
    SECURITY = "security"


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source text. Lines and columns are 1-based; offsets are 0-based
    character offsets into the decoded text; ends are exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
    offset: int
    end_offset: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a Dockerfile or an image."""

    rule: str
    practice: Practice
    severity: Severity
    message: str
    file: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    fixable: bool = False
    estimated_bytes: int | None = None
    refs: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of a finding (see docs/json-output.md)."""
        return {
            "rule": self.rule,
            "practice": self.practice.value,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line if self.end_line is not None else self.line,
            "end_column": self.end_column,
            "fixable": self.fixable,
            "estimated_bytes": self.estimated_bytes,
            "refs": list(self.refs),
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.rule)


@dataclass(frozen=True, slots=True)
class InputError:
    """An input that could not be read or parsed: reported, never raised to the user."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What a report needs to know about a rule (SARIF rule descriptors, `slimline rules`)."""

    id: str
    name: str
    practice: Practice
    severity: Severity
    summary: str
    doc: str
    refs: tuple[str, ...] = ()
    fixable: bool = False
    default_enabled: bool = True
