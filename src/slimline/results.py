"""What a `check` run produces: per-file findings and input errors, plus the rules it used."""

from __future__ import annotations

from dataclasses import dataclass, field

from slimline.findings import Finding, InputError, RuleInfo, Severity


@dataclass(slots=True)
class FileResult:
    """The outcome for one input file: findings, or the error that stopped it."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    error: InputError | None = None
    source: str | None = None  # the decoded text, for code frames; None when unreadable


@dataclass(slots=True)
class CheckReport:
    files: list[FileResult]
    rules: dict[str, RuleInfo]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.files for f in r.findings]

    @property
    def errors(self) -> list[InputError]:
        return [r.error for r in self.files if r.error is not None]

    def failed(self, threshold: Severity) -> bool:
        return any(f.severity.at_least(threshold) for f in self.findings)
