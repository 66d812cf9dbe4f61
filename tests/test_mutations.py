"""Real Dockerfiles, damaged at random: slimline reports a parse error or findings, never crashes."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimline.api import check_bytes

CORPUS = Path(__file__).parent.parent / "bench" / "corpus"
FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("README.md", "SOURCES.tsv")
)
# SLIMLINE_FUZZ_EXAMPLES=20000 for a long run; the suite keeps it short.
EXAMPLES = int(os.environ.get("SLIMLINE_FUZZ_EXAMPLES", "400"))
INSERTS = [
    "\\",
    "\\\n",
    "<<EOF\n",
    "EOF\n",
    '["a", ',
    "]",
    "'",
    '"',
    "$(",
    "`",
    "\n",
    "#",
    "--mount=",
    "&&",
    "|",
    "\r\n",
    "\t",
    "\x00",
    "é",
]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(FILES)).read_bytes().decode("utf-8", "replace")
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        action = draw(st.sampled_from(["delete", "duplicate", "truncate", "insert", "swap"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        text = "\n".join(lines)
        if action == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif action == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(INSERTS)) + text[at:]
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_dockerfiles_never_crash(data: bytes) -> None:
    result = check_bytes(data, "Dockerfile")
    assert result.error is None or "internal error" not in result.error.message, result.error
