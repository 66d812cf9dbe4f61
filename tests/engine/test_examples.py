"""Each bundled example, built as written and as fixed, on the stand-in base images: the fixed
image must behave the same and be at least 40 % smaller. Sizes are recorded (see conftest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from slimline.engine import Behaviour, CommandProbe, HttpProbe, Probe, free_port, verify_fix
from tests.engine.conftest import ROOT, record_sizes

pytestmark = pytest.mark.engine

EXAMPLES = ROOT / "examples"
TARGET_SAVING = 0.40


@dataclass(frozen=True)
class Case:
    probe: Callable[[], Probe]
    # What the original must answer (status or exit code, body or output), so that "the same"
    # means something.
    expected: tuple[tuple[int | None, bytes], ...]


def _http(*paths: str) -> Callable[[], Probe]:
    def make() -> Probe:
        # The apps read PORT, so parallel workers and whatever else runs here never collide.
        port = free_port()
        return HttpProbe(port=port, paths=paths, env=(("PORT", str(port)),))

    return make


CASES = {
    "python-web": Case(
        _http("/health", "/items/12", "/nothing"),
        ((200, b'{"status": "ok"}'), (200, b'{"id": 12, "square": 144}'), (404, b"")),
    ),
    "node-api": Case(
        _http("/health", "/sum?a=2&b=40", "/nothing"),
        ((200, b'{"status":"ok"}'), (200, b'{"sum":42}'), (404, b"")),
    ),
    "go-service": Case(_http("/health", "/nothing"), ((200, b'{"status":"ok"}'), (404, b""))),
    "c-tool": Case(
        lambda: CommandProbe(stdin=b"one two three\nfour five\n\nsix\n"), ((0, b"4 6 29\n"),)
    ),
}


def fixed_dockerfile(name: str) -> str:
    """What `slimline fix --split --rebase` writes for the example."""
    from slimline import api
    from slimline.config import Config
    from slimline.dockerfile.structural import StructuralOptions

    (report,) = api.fix(
        [str(EXAMPLES / name / "Dockerfile")],
        Config(),
        structural=StructuralOptions(split=True, rebase=True),
    )
    assert report.error is None, report.error
    assert report.changed
    return report.text


def _check_expected(case: Case, behaviour: Behaviour) -> None:
    got: list[tuple[int | None, bytes]]
    if isinstance(behaviour.probe, HttpProbe):
        # Error pages differ between servers and say nothing about the app: only their status.
        got = [(r.status, r.body if r.status == 200 else b"") for r in behaviour.responses]
    else:
        got = [(behaviour.run.exit_code, behaviour.run.stdout)]
    assert got == list(case.expected)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixed_example_is_smaller_and_behaves_the_same(
    name: str, engine: Any, stand_ins: list[str]
) -> None:
    case = CASES[name]
    context = EXAMPLES / name
    result = verify_fix(
        (context / "Dockerfile").read_text(encoding="utf-8"),
        fixed_dockerfile(name),
        context,
        probe=case.probe(),
        timeout=120,
        client=engine,
    )
    record_sizes(
        name,
        {
            "original_bytes": result.original.size_bytes,
            "original_layers": result.original.layer_count,
            "fixed_bytes": result.fixed.size_bytes,
            "fixed_layers": result.fixed.layer_count,
            "saving_ratio": round(result.saving_ratio, 4),
        },
    )
    _check_expected(case, result.original_behaviour)
    assert result.same_behaviour, result.differences
    assert result.saving_ratio >= TARGET_SAVING, (
        f"{name}: {result.original.size_bytes / 1e6:.0f} MB -> "
        f"{result.fixed.size_bytes / 1e6:.0f} MB is only {result.saving_ratio:.0%} smaller"
    )
