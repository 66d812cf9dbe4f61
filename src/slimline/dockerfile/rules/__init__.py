"""The Dockerfile rules: one module per practice family, one class per rule.

A rule is a subclass of :class:`Rule` with an ``id``; defining it registers it. The class
docstring is the rule's documentation (``slimline explain``): first line a summary, then why,
what it catches, what it leaves alone and, for ``estimated_bytes``, how the number is derived.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.shell import Command, Word
from slimline.findings import Finding, Practice, RuleInfo, Severity

if TYPE_CHECKING:
    # Fixes are imported when a fix runs, not when rules are loaded for a check.
    from slimline.dockerfile.fixes.base import FixContext, FixResult

_REGISTRY: dict[str, type[Rule]] = {}


class Rule:
    id: ClassVar[str] = ""
    name: ClassVar[str] = ""  # kebab-case, e.g. "apk-no-cache"
    practice: ClassVar[Practice]
    severity: ClassVar[Severity] = Severity.WARNING
    refs: ClassVar[tuple[str, ...]] = ()  # hadolint / dockle / trivy equivalents
    fixable: ClassVar[bool] = False  # a safe mechanical rewrite of the Dockerfile removes it
    default_enabled: ClassVar[bool] = True  # opt-in rules set this to False
    # When two fixes edit the same characters, the lower number goes first and the other one
    # waits for the next pass: fixes that restructure RUNs (merging an update, moving a
    # clean-up) before those that add a flag or append a command.
    fix_priority: ClassVar[int] = 50

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.id:
            if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
                raise RuntimeError(f"duplicate rule id {cls.id}")
            _REGISTRY[cls.id] = cls

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        raise NotImplementedError

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """Edits of the original text that remove ``finding``, or the reason there are none.

        Fixable rules override this; helpers may raise ``Unfixable(reason)`` instead of
        returning ``FixResult.skip``. The engine (slimline.dockerfile.fix) re-checks the result
        and keeps the edits only if the finding is gone and the file still parses."""
        from slimline.dockerfile.fixes.base import FixResult

        return FixResult.skip("no automatic fix for this rule")

    # Helpers to build findings at the right place.
    @classmethod
    def info(cls) -> RuleInfo:
        import inspect

        doc = inspect.cleandoc(cls.__doc__ or "")
        summary = doc.split("\n", 1)[0].strip()
        return RuleInfo(
            id=cls.id,
            name=cls.name,
            practice=cls.practice,
            severity=cls.severity,
            summary=summary,
            doc=doc,
            refs=cls.refs,
            fixable=cls.fixable,
            default_enabled=cls.default_enabled,
        )

    def at_offsets(
        self,
        ctx: CheckContext,
        start: int,
        end: int,
        message: str,
        *,
        estimated_bytes: int | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        span = ctx.doc.span(start, max(start, end))
        return Finding(
            rule=self.id,
            practice=self.practice,
            severity=severity or self.severity,
            message=message,
            file=ctx.path,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
            fixable=self.fixable,
            estimated_bytes=estimated_bytes,
            refs=self.refs,
        )

    def at_instruction(
        self,
        ctx: CheckContext,
        instruction: Instruction,
        message: str,
        *,
        estimated_bytes: int | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding covering the instruction's first line (its keyword to the line end)."""
        start = instruction.span.offset
        first_line_end = ctx.doc.text.find("\n", start)
        if first_line_end < 0 or first_line_end > instruction.span.end_offset:
            first_line_end = instruction.span.end_offset
        end = first_line_end
        if end > start and ctx.doc.text[end - 1] == "\r":
            end -= 1
        return self.at_offsets(
            ctx, start, end, message, estimated_bytes=estimated_bytes, severity=severity
        )

    def at_command(
        self,
        ctx: CheckContext,
        command: Command,
        message: str,
        *,
        word: Word | None = None,
        estimated_bytes: int | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding at a shell command (or one of its words) inside a RUN."""
        start, end = command.word_source(word) if word is not None else command.source_span()
        return self.at_offsets(
            ctx, start, end, message, estimated_bytes=estimated_bytes, severity=severity
        )


def load_rules() -> dict[str, type[Rule]]:
    """Import every rule module of this package (each registers its rules) and return them."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(_REGISTRY.items()))


def rule_infos() -> dict[str, RuleInfo]:
    return {rid: cls.info() for rid, cls in load_rules().items()}
