"""`slimline fix` on real Dockerfiles damaged at random: never a crash; when the input parses,
the output parses too (for BuildKit as well) and a second run changes nothing."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from slimline.dockerfile.fix import fix_text
from slimline.dockerfile.parse import ParseError, parse_bytes
from tests.dockerfile.fix.harness import shell_errors
from tests.dockerfile.oracle import buildkit_view
from tests.test_mutations import damaged

# SLIMLINE_FUZZ_EXAMPLES=5000 for a long run; the suite keeps it short.
EXAMPLES = max(50, int(os.environ.get("SLIMLINE_FUZZ_EXAMPLES", "400")) // 4)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_fix_of_damaged_dockerfiles(data: bytes) -> None:
    try:
        text = parse_bytes(data).text
    except ParseError:
        return
    report = fix_text(text)
    if report.error is not None:
        assert report.text == text
        return
    parse_bytes(report.text.encode("utf-8", "surrogatepass"))
    if report.changed and not isinstance(buildkit_view(text), str):
        assert not isinstance(buildkit_view(report.text), str), report.diff()
    assert shell_errors(report.text) <= shell_errors(text), report.diff()
    assert fix_text(report.text).text == report.text, report.diff()
