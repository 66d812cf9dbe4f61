"""The fix engine: check, collect the fixable findings' edits, apply those that do not overlap,
verify, and repeat until nothing changes.

Each pass checks the current text, asks every fixable rule for the edits that remove each of
its findings (``Rule.fix``), keeps a non-overlapping set (lower ``fix_priority`` first; an
overlapping fix waits for the next pass, where it is recomputed on the new text), applies
them and checks again. A fix is kept only if the text still parses and its finding is gone;
one that fails either test is dropped and reported with the reason. The loop stops when a
pass has nothing left to apply, so fixing the result again changes nothing.

Everything here works on text: :func:`fix_text` takes a Dockerfile's text and returns a
:class:`FixReport` (the input, the output, what was fixed, what was not and why, the findings
left). Other transformations (``--split``, ``--rebase``) are functions of the same shape and
chain with :meth:`FixReport.then` or :func:`pipeline`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from slimline.config import Config
from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.edits import Edit, OffsetChain, OffsetMap, any_overlap, apply_edits
from slimline.dockerfile.fixes.base import FixContext, FixOptions, FixResult, Unfixable
from slimline.dockerfile.fixes.locate import finding_offset, line_of, line_starts, offset_of
from slimline.dockerfile.parse import Dockerfile, Instruction, ParseError, parse
from slimline.dockerfile.rules import Rule, load_rules
from slimline.findings import Finding, InputError
from slimline.results import FileResult

MAX_PASSES = 8
# Fix-only rewrite without a rule of its own: MAINTAINER is deprecated in favour of a label.
MAINTAINER = "maintainer"
_AUTHORS_LABEL = "org.opencontainers.image.authors"

Checker = Callable[[str, str, Config], FileResult]
_LINE = re.compile(r"\bline (\d+)\b")


@dataclass(frozen=True, slots=True)
class AppliedFix:
    rule: str
    line: int  # in the input text
    description: str  # what the edits did
    message: str  # the finding's message


@dataclass(frozen=True, slots=True)
class SkippedFix:
    """A finding of a fixable rule that is still there, and why."""

    rule: str
    line: int  # in the input text
    reason: str
    message: str

    def note(self) -> str:
        return f"{self.rule} line {self.line}: not fixed: {self.reason}"


@dataclass(slots=True)
class FixReport:
    path: str
    original: str
    text: str
    applied: list[AppliedFix] = field(default_factory=list)
    skipped: list[SkippedFix] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)  # findings of ``text``
    error: InputError | None = None
    passes: int = 0
    # What the person applying the change should know (another transformation's warnings,
    # such as a change of C library): shown as they are.
    notes: list[str] = field(default_factory=list)
    # Files to write next to this one (path -> text), such as the development Dockerfile of
    # `--split --dev`.
    companions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_edits(
        cls,
        path: str,
        text: str,
        edits: Sequence[Edit],
        rule: str,
        description: str,
        notes: Sequence[str] = (),
    ) -> FixReport:
        """The report of a transformation that computes its own edits (``--rebase``,
        ``--split``): one applied entry named ``rule``, at the line of the first edit."""
        report = cls(path, text, apply_edits(text, edits), notes=list(notes))
        if edits:
            first = min(e.start for e in edits)
            line = line_of(line_starts(text), first)
            report.applied.append(AppliedFix(rule, line, description, description))
        return report

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def diff(self, label: str | None = None) -> str:
        """A unified diff from the input to the fixed text ('' when nothing changed)."""
        return unified_diff(self.original, self.text, label or self.path)

    def then(self, later: FixReport) -> FixReport:
        """This report followed by another transformation of its text. Lines of ``later``'s
        applied fixes refer to this report's output, which was ``later``'s input."""
        return FixReport(
            path=self.path,
            original=self.original,
            text=later.text,
            applied=self.applied + later.applied,
            skipped=later.skipped,
            remaining=later.remaining,
            error=self.error or later.error,
            passes=self.passes + later.passes,
            notes=self.notes + later.notes,
            companions={**self.companions, **later.companions},
        )


# A transformation of a Dockerfile's text: fix_text, and the --split/--rebase rewrites.
Transform = Callable[[str, str], FixReport]


def pipeline(text: str, path: str, steps: Sequence[Transform]) -> FixReport:
    """Run transformations one after another, each on the previous one's output; stop at the
    first that reports an error."""
    report = FixReport(path, text, text)
    for step in steps:
        report = report.then(step(report.text, path))
        if report.error is not None:
            break
    return report


def _default_checker(text: str, path: str, config: Config) -> FileResult:
    from slimline.api import check_text

    return check_text(text, path, config)


def fix_config(config: Config | None, options: FixOptions) -> Config:
    """The check configuration a fix run uses: digest pinning turns the opt-in SL203 on."""
    config = config or Config()
    if options.pin_digests:
        extra = {**config.options, "pin-digests": True}
        select = (*config.select, "SL203") if config.select else ()
        ignore = tuple(s for s in config.ignore if s.upper() != "SL203")
        if not select:
            # Selecting SL203 alone would turn every other default rule off.
            defaults = tuple(rid for rid, cls in load_rules().items() if cls.default_enabled)
            select = (*defaults, "SL203", MAINTAINER)
        config = replace(config, options=extra, select=select, ignore=ignore)
    return config


@dataclass(slots=True)
class _Candidate:
    rule: str
    priority: int
    offset: int  # the finding's offset in the pass's text
    line: int  # the finding's line in the pass's text
    message: str
    result: FixResult


@dataclass(slots=True)
class _Pass:
    candidates: list[_Candidate]
    reasons: dict[tuple[str, int], str]  # (rule, offset) -> why its finding has no fix


class _Engine:
    def __init__(self, path: str, config: Config, options: FixOptions, checker: Checker):
        self.path = path
        self.config = config
        self.options = options
        self.checker = checker
        self.rules: dict[str, type[Rule]] = load_rules()
        self.instances: dict[str, Rule] = {}
        self.chain = OffsetChain()
        self.failed: dict[tuple[str, int], str] = {}  # (rule, offset in the input) -> why
        self.maintainer = _maintainer_enabled(config)

    def rule(self, rule_id: str) -> Rule:
        instance = self.instances.get(rule_id)
        if instance is None:
            instance = self.instances[rule_id] = self.rules[rule_id]()
        return instance

    def collect(self, text: str, findings: list[Finding]) -> _Pass:
        """Every fixable finding's edits on ``text``, or the reason it has none."""
        doc = parse(text, self.path)
        fctx = FixContext(CheckContext(doc, self.config.options, self.config.target), self.options)
        starts = line_starts(text)
        found = _Pass([], {})
        for finding in findings:
            cls = self.rules.get(finding.rule)
            if cls is None or not cls.fixable:
                continue
            offset = finding_offset(fctx, finding)
            key = (finding.rule, offset)
            earlier = self.failed.get((finding.rule, self.chain.to_original(offset)))
            if earlier is not None:
                found.reasons[key] = earlier
                continue
            result = self._fix(fctx, finding)
            if result.edits:
                found.candidates.append(
                    _Candidate(
                        finding.rule,
                        cls.fix_priority,
                        offset,
                        line_of(starts, offset),
                        finding.message,
                        result,
                    )
                )
            else:
                found.reasons[key] = result.reason or "no fix available"
        if self.maintainer:
            found.candidates += [
                c
                for c in _maintainer_candidates(doc, starts)
                if (MAINTAINER, self.chain.to_original(c.offset)) not in self.failed
            ]
        return found

    def _fix(self, fctx: FixContext, finding: Finding) -> FixResult:
        try:
            result = self.rule(finding.rule).fix(fctx, finding)
            apply_edits(fctx.text, result.edits)  # its own edits must not overlap
            return result
        except Unfixable as exc:
            return FixResult.skip(exc.reason)
        except Exception as exc:  # a bug in one fix must not stop the others
            if os.environ.get("SLIMLINE_DEBUG"):
                raise
            return FixResult.skip(f"internal error in the fix: {type(exc).__name__}: {exc}")

    def verify(self, text: str, fixes: list[_Candidate]) -> _Trial:
        """Apply ``fixes`` and check the result: which of them failed, and why (the text no
        longer parses, or their finding is still there)."""
        edits = [e for f in fixes for e in f.result.edits]
        new_text = apply_edits(text, edits)
        try:
            CheckContext(parse(new_text, self.path), self.config.options, self.config.target)
        except ParseError as exc:
            reason = f"the rewrite would not parse ({exc})"
            return _Trial(new_text, None, {id(f): reason for f in fixes})
        result = self.checker(new_text, self.path, self.config)
        moved = OffsetMap(edits)
        starts = line_starts(new_text)
        still = {(f.rule, offset_of(new_text, f.line, f.column, starts)) for f in result.findings}
        failed = {
            id(f): "the rewrite would not remove the finding"
            for f in fixes
            if f.rule != MAINTAINER and (f.rule, moved.to_new(f.offset)) in still
        }
        return _Trial(new_text, result, failed)

    def input_lines(self, message: str, current: str, original: str) -> str:
        """``message`` with its "line N" (of ``current``) turned into lines of the input."""
        if "line " not in message:
            return message
        starts = line_starts(current)
        original_starts = line_starts(original)

        def mapped(match: re.Match[str]) -> str:
            line = int(match.group(1))
            if not 1 <= line <= len(starts):
                return match.group(0)
            return f"line {line_of(original_starts, self.chain.to_original(starts[line - 1]))}"

        return _LINE.sub(mapped, message)

    def note_failure(self, fix: _Candidate, reason: str) -> None:
        self.failed[(fix.rule, self.chain.to_original(fix.offset))] = reason


@dataclass(slots=True)
class _Trial:
    text: str
    result: FileResult | None  # None when the text does not parse
    failed: dict[int, str]  # id(candidate) -> why it failed


def fix_text(
    text: str,
    path: str = "Dockerfile",
    config: Config | None = None,
    options: FixOptions | None = None,
    *,
    checker: Checker | None = None,
) -> FixReport:
    """Fix one Dockerfile's text. Never raises for bad input: a text that does not parse
    comes back unchanged with ``error`` set."""
    options = options or FixOptions()
    if options.resolver is None:
        from slimline.dockerfile.fixes.images import ImageResolver

        # One resolver for every pass, so that each image is looked up once.
        resolver = ImageResolver(online=options.online, engine=options.pin_digests)
        options = replace(options, resolver=resolver)
    config = fix_config(config, options)
    engine = _Engine(path, config, options, checker or _default_checker)
    report = FixReport(path, text, text)
    try:
        CheckContext(parse(text, path), config.options, config.target)
    except ParseError as exc:
        report.error = InputError(path, exc.message, exc.line, exc.column)
        return report
    result = engine.checker(text, path, config)
    current = text
    pending: _Pass | None = None
    for number in range(1, MAX_PASSES + 1):
        pending = engine.collect(current, result.findings)
        if not pending.candidates:
            break
        report.passes = number
        chosen = _non_overlapping(pending.candidates)
        accepted, trial = _apply(engine, current, chosen)
        if not accepted or trial.result is None:
            continue  # the failures are remembered; the rest are tried again
        starts = line_starts(text)
        for fix in accepted:
            report.applied.append(
                AppliedFix(
                    fix.rule,
                    line_of(starts, engine.chain.to_original(fix.offset)),
                    engine.input_lines(fix.result.description, current, text),
                    fix.message,
                )
            )
        engine.chain.add([e for f in accepted for e in f.result.edits])
        current, result = trial.text, trial.result
        pending = None
    if pending is None:
        pending = engine.collect(current, result.findings)
    report.text = current
    report.remaining = list(result.findings)
    report.skipped = _skipped(engine, text, current, result.findings, pending)
    return report


def _apply(engine: _Engine, text: str, chosen: list[_Candidate]) -> tuple[list[_Candidate], _Trial]:
    """The largest verified subset of ``chosen`` (all of it, else those that verify alone and
    together, else the first of them), applied; failures are remembered."""
    trial = engine.verify(text, chosen)
    if trial.result is not None and not trial.failed:
        return chosen, trial
    good: list[_Candidate] = []
    for fix in chosen:
        alone = engine.verify(text, [fix])
        if alone.result is not None and not alone.failed:
            good.append(fix)
        else:
            engine.note_failure(fix, alone.failed[id(fix)])
    if not good:
        return [], trial
    trial = engine.verify(text, good)
    if trial.result is not None and not trial.failed:
        return good, trial
    return good[:1], engine.verify(text, good[:1])


def _non_overlapping(candidates: list[_Candidate]) -> list[_Candidate]:
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.priority, c.offset, c.rule)):
        if not any(any_overlap(candidate.result.edits, c.result.edits) for c in chosen):
            chosen.append(candidate)
    return chosen


def _skipped(
    engine: _Engine, original: str, text: str, findings: list[Finding], last: _Pass
) -> list[SkippedFix]:
    starts = line_starts(text)
    original_starts = line_starts(original)
    pending = {(c.rule, c.offset) for c in last.candidates}
    out: list[SkippedFix] = []
    for finding in findings:
        cls = engine.rules.get(finding.rule)
        if cls is None or not cls.fixable:
            continue
        offset = offset_of(text, finding.line, finding.column, starts)
        key = (finding.rule, offset)
        reason = last.reasons.get(key)
        if reason is None and key in pending:
            reason = f"still changing after {MAX_PASSES} passes"
        if reason is None:
            reason = engine.failed.get((finding.rule, engine.chain.to_original(offset)), "")
        line = line_of(original_starts, engine.chain.to_original(offset))
        reason = engine.input_lines(reason or "no fix available", text, original)
        out.append(SkippedFix(finding.rule, line, reason, finding.message))
    return out


# --- MAINTAINER -> LABEL ---------------------------------------------------------------


def _maintainer_enabled(config: Config) -> bool:
    def named(selectors: tuple[str, ...]) -> bool:
        return any(s.strip().lower() == MAINTAINER for s in selectors)

    if named(config.ignore):
        return False
    return not config.select or named(config.select)


def _maintainer_candidates(doc: Dockerfile, starts: list[int]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for ins in doc.instructions:
        if ins.keyword != "MAINTAINER" or not ins.values or ins.line != ins.end_line:
            continue
        edit = _maintainer_edit(doc, ins)
        if edit is None:
            continue
        out.append(
            _Candidate(
                MAINTAINER,
                60,
                ins.span.offset,
                line_of(starts, ins.span.offset),
                "MAINTAINER is deprecated",
                FixResult.of(
                    [edit], f"MAINTAINER replaced by LABEL {_AUTHORS_LABEL}=... (same value)"
                ),
            )
        )
    return out


def _maintainer_edit(doc: Dockerfile, ins: Instruction) -> Edit | None:
    value = ins.values[0]
    escape = doc.escape
    # MAINTAINER takes its text literally; LABEL expands variables and removes quotes, so the
    # value is double-quoted with the escape character before ", $ and itself.
    quoted = "".join(escape + ch if ch in ('"', "$", escape) else ch for ch in value)
    written = doc.text[ins.span.offset : ins.span.offset + len("MAINTAINER")]
    keyword = "label" if written.islower() else "LABEL"
    text = f'{keyword} {_AUTHORS_LABEL}="{quoted}"'
    end = ins.span.end_offset
    if "\n" in doc.text[ins.span.offset : end]:
        return None
    return Edit(ins.span.offset, end, text)


# --- Diffs -----------------------------------------------------------------------------


def unified_diff(before: str, after: str, path: str) -> str:
    """``diff -u`` output, with the "No newline at end of file" marker patch expects."""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=path,
        tofile=path,
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
