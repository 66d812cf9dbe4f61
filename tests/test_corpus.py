"""Real public Dockerfiles (bench/corpus): never a crash, and the parse agrees with BuildKit."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimline.api import check_bytes
from slimline.dockerfile.parse import ParseError, parse_bytes
from tests.dockerfile.oracle import buildkit_view, our_view

CORPUS = Path(__file__).parent.parent / "bench" / "corpus"
FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("README.md", "SOURCES.tsv")
)


def test_corpus_is_present() -> None:
    assert len(FILES) >= 100


@pytest.mark.oracle
def test_parse_agrees_with_buildkit_on_every_accepted_file() -> None:
    disagreements = []
    for path in FILES:
        data = path.read_bytes()
        expected = buildkit_view(data.decode("utf-8", "replace"))
        try:
            doc = parse_bytes(data, str(path))
        except ParseError as exc:
            if not isinstance(expected, str) and "unknown instruction" not in exc.message:
                disagreements.append(f"{path.name}: we reject ({exc}) what BuildKit accepts")
            continue
        assert doc.unparse().encode("utf-8") == data, path.name
        if isinstance(expected, str):
            disagreements.append(f"{path.name}: BuildKit rejects ({expected}) what we accept")
        elif our_view(doc) != expected:
            disagreements.append(f"{path.name}: parse differs from BuildKit")
    assert disagreements == []


def test_check_never_crashes() -> None:
    internal = []
    for path in FILES:
        result = check_bytes(path.read_bytes(), str(path))
        if result.error is not None and "internal error" in result.error.message:
            internal.append(str(result.error))
    assert internal == []
