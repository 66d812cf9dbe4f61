from __future__ import annotations

from slimline.dockerfile.parse import parse
from slimline.dockerfile.pragmas import collect

PEERS = {"DL3019": {"SL301"}, "DL3009": {"SL302"}}


def test_next_instruction_only() -> None:
    doc = parse("FROM a\n# slimline ignore=SL301, sl302\nRUN apk add x \\\n  && y\nRUN apk add z\n")
    ignores = collect(doc, PEERS)
    assert ignores.ignored("SL301", 3) and ignores.ignored("SL302", 4)
    assert not ignores.ignored("SL301", 5)


def test_hadolint_ids_map_through_refs_and_unknown_ones_are_dropped() -> None:
    doc = parse("FROM a\n# hadolint ignore=DL3019,DL9999\nRUN apk add x\n")
    ignores = collect(doc, PEERS)
    assert ignores.ignored("SL301", 3) and not ignores.ignored("SL302", 3)


def test_blank_line_ends_the_pragma_and_global_applies_everywhere() -> None:
    doc = parse(
        "FROM a\n# slimline ignore=SL301\n\nRUN apk add x\n# hadolint global ignore=DL3009\n"
    )
    ignores = collect(doc, PEERS)
    assert not ignores.ignored("SL301", 4)
    assert ignores.ignored("SL302", 1) and ignores.ignored("SL302", 99)


def test_ignore_all() -> None:
    ignores = collect(parse("FROM a\n# slimline ignore=all\nRUN x\n"), PEERS)
    assert ignores.ignored("SL999", 3)
