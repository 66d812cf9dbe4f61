"""Run the fix engine on a Dockerfile text for the fix tests, and check what every fix must
guarantee: idempotence, the fixed findings gone, BuildKit accepting the output."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slimline.api import check_text
from slimline.config import Config
from slimline.dockerfile.base_images import ImageRef
from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.fix import FixReport, fix_text
from slimline.dockerfile.fixes import FixOptions
from slimline.dockerfile.fixes.images import ImageResolver
from slimline.dockerfile.parse import parse
from tests.dockerfile.oracle import buildkit_view


class FakeRegistry(ImageResolver):
    """Answers tag and digest questions from tables, so that no test touches the network."""

    def __init__(self, tags: dict[str, str] | None = None, digests: dict[str, str] | None = None):
        super().__init__()
        self.known_tags = tags or {}
        self.known_digests = digests or {}

    def _concrete_tag(self, ref: ImageRef) -> tuple[str | None, str]:
        tag = self.known_tags.get(ref.name)
        return (tag, "the fake registry") if tag else (None, "the fake registry has no tag")

    def _digest(self, ref: ImageRef) -> tuple[str | None, str]:
        digest = self.known_digests.get(str(ref))
        return (digest, "the fake registry") if digest else (None, "no digest in the fake registry")


@dataclass
class Fixer:
    """One way of running the engine: the rules selected and the options."""

    rules: tuple[str, ...] = ()
    context: Path | None = None
    resolver: ImageResolver | None = None
    pin_digests: bool = False
    path: str = "Dockerfile"
    options: dict[str, object] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return Config(select=self.rules, options=dict(self.options))

    def run(self, text: str) -> FixReport:
        options = FixOptions(
            context_dir=self.context, pin_digests=self.pin_digests, resolver=self.resolver
        )
        return fix_text(text, self.path, self.config, options)

    def assert_sound(self, report: FixReport) -> None:
        """BuildKit parses the result (when it parsed the input), a second run changes
        nothing, and no rule that fixed something still reports where it did."""
        before = buildkit_view(report.original)
        after = buildkit_view(report.text)
        if not isinstance(before, str):
            assert not isinstance(after, str), f"BuildKit rejects the fixed text: {after}"
        assert shell_errors(report.text) <= shell_errors(report.original), report.diff()
        again = self.run(report.text)
        assert again.text == report.text, "a second fix changed the text again:\n" + again.diff()
        assert not again.applied
        result = check_text(report.text, self.path, self.config)
        assert result.error is None, result.error
        left = {(s.rule, s.line) for s in report.skipped}
        for applied in report.applied:
            assert (applied.rule, applied.line) not in left, applied


def shell_errors(text: str) -> int:
    """How many RUN scripts tree-sitter-bash cannot parse: a fix must not add any."""
    ctx = CheckContext(parse(text))
    return sum(script.parse_error for run in ctx.runs for script in run.scripts)


def fix(text: str, *rules: str, **kwargs: object) -> FixReport:
    fixer = Fixer(rules=rules, **kwargs)  # type: ignore[arg-type]
    report = fixer.run(text)
    fixer.assert_sound(report)
    return report
