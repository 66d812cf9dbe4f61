"""BuildKit's own parser (the `dockerfile` package) as a test oracle."""

from __future__ import annotations

from typing import Any

import pytest

dockerfile = pytest.importorskip("dockerfile")


def buildkit_view(text: str) -> list[tuple[Any, ...]] | str:
    """What BuildKit sees, or the error message when it refuses the text."""
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        return str(exc)
    return [
        (
            (c.cmd or "").upper(),
            tuple(c.flags),
            tuple(c.value),
            c.start_line,
            c.end_line,
            c.json,
            tuple((h.name, h.content) for h in c.heredocs),
        )
        for c in commands
    ]


def our_view(doc: Any) -> list[tuple[Any, ...]]:
    return [
        (
            i.keyword,
            tuple(f.text for f in i.flags),
            i.values,
            i.line,
            i.end_line,
            i.json,
            tuple((h.name, h.content) for h in i.heredocs),
        )
        for i in doc.instructions
    ]
