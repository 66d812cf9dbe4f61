"""`slimline fix` on real Dockerfiles: golden diffs for the bundled examples and a sample of
bench/corpus, and properties over the whole corpus (never a crash, BuildKit still parses the
result, a second run changes nothing, no fixed finding comes back).

Regenerate the golden files after an intended change with SLIMLINE_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimline.api import check_text
from slimline.config import Config
from slimline.dockerfile.fix import FixReport, fix_text
from slimline.dockerfile.fixes import FixOptions
from slimline.dockerfile.parse import ParseError, parse_bytes
from slimline.dockerfile.rules import load_rules
from tests.dockerfile.fix.harness import shell_errors
from tests.dockerfile.oracle import buildkit_view

ROOT = Path(__file__).parent.parent.parent
GOLDEN = ROOT / "tests" / "golden" / "fix"
CORPUS = ROOT / "bench" / "corpus"
CORPUS_FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("README.md", "SOURCES.tsv")
)
EXAMPLES = sorted((ROOT / "examples").glob("*/Dockerfile"))
# A sample of the corpus that exercises most fixes and continuation styles.
SAMPLE = [
    "GoogleCloudPlatform__microservices-demo/src/emailservice/Dockerfile",
    "containers__podman/contrib/podmanimage/stable/Containerfile",
    "docker__awesome-compose/angular/angular/Dockerfile",
    "docker__awesome-compose/fastapi/Dockerfile",
    "docker__awesome-compose/flask/app/Dockerfile",
    "erlang__docker-erlang-otp/26/alpine/Dockerfile",
    "gohugoio__hugo/Dockerfile",
    "jessfraz__dockerfiles/alpine-t/Dockerfile",
    "jessfraz__dockerfiles/ansible/Dockerfile",
    "laradock__laradock/nginx/Dockerfile",
    "laravel__sail/runtimes/8.3/Dockerfile",
    "tensorflow__tensorflow/tensorflow/tools/dockerfiles/dockerfiles/cpu.Dockerfile",
]
FIXABLE = sorted(rid for rid, cls in load_rules().items() if cls.fixable and cls.default_enabled)


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _fix(path: Path, config: Config | None = None) -> FixReport:
    text = parse_bytes(path.read_bytes(), _relative(path)).text
    return fix_text(text, _relative(path), config, FixOptions(context_dir=path.parent))


def _golden_text(report: FixReport) -> str:
    notes = [f"# {a.rule} line {a.line}: fixed: {a.description}" for a in report.applied]
    notes += [f"# {s.note()}" for s in report.skipped]
    return report.diff() + "".join(line + "\n" for line in notes)


def _golden_name(path: Path) -> str:
    return _relative(path).replace("bench/corpus/", "corpus/").replace("/", "__") + ".diff"


@pytest.mark.parametrize(
    "path", EXAMPLES + [CORPUS / name for name in SAMPLE], ids=lambda p: _relative(p)
)
def test_golden_diff(path: Path) -> None:
    output = _golden_text(_fix(path))
    golden = GOLDEN / _golden_name(path)
    if os.environ.get("SLIMLINE_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(output, encoding="utf-8")
    assert output == golden.read_text(encoding="utf-8")


def _sound(path: Path, report: FixReport, config: Config | None) -> list[str]:
    problems: list[str] = []
    name = _relative(path)
    if not isinstance(buildkit_view(report.original), str) and isinstance(
        buildkit_view(report.text), str
    ):
        problems.append(f"{name}: BuildKit rejects the fixed text")
    if shell_errors(report.text) > shell_errors(report.original):
        problems.append(f"{name}: a RUN script no longer parses as shell")
    again = fix_text(report.text, name, config, FixOptions(context_dir=path.parent))
    if again.text != report.text:
        problems.append(f"{name}: a second fix changes it again")
    result = check_text(report.text, name, config)
    if result.error is not None:
        problems.append(f"{name}: {result.error}")
    left = {(s.rule, s.line) for s in report.skipped}
    for applied in report.applied:
        if (applied.rule, applied.line) in left:
            problems.append(f"{name}: {applied.rule} line {applied.line} fixed but still there")
    return problems


@pytest.mark.oracle
def test_whole_corpus() -> None:
    problems: list[str] = []
    changed = 0
    for path in CORPUS_FILES:
        try:
            report = _fix(path)
        except ParseError:
            continue  # two corpus files are not Dockerfiles BuildKit accepts either
        assert report.error is None or report.text == report.original
        changed += report.changed
        problems += _sound(path, report, None)
    assert problems == []
    assert changed >= 40


@pytest.mark.oracle
@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(CORPUS_FILES),
    rules=st.sets(st.sampled_from(FIXABLE), min_size=1, max_size=4),
)
def test_any_selection_of_rules(path: Path, rules: set[str]) -> None:
    config = Config(select=tuple(sorted(rules)))
    try:
        report = _fix(path, config)
    except ParseError:
        return
    assert {a.rule for a in report.applied} <= rules
    assert _sound(path, report, config) == []
