import pytest

from tests.dockerfile.rules.harness import run_rule

CATCHES = [
    ("FROM alpine:3.20\nRUN apk add curl\n", [2]),
    ("FROM alpine:3.20\nRUN apk update && apk add curl\n", [2]),
    ("FROM alpine:3.20\nRUN echo hi\nRUN set -e; \\\n    apk upgrade; apk add --virtual .b gcc\n", [4]),
]
LEAVES_ALONE = [
    "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
    "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n",
    "FROM alpine:3.20\nRUN apk add curl && rm -rf /var/cache/apk/*\n",
    "FROM alpine:3.20\nRUN apk del curl\n",
]


@pytest.mark.parametrize(("text", "lines"), CATCHES)
def test_sl301_catches(text: str, lines: list[int]) -> None:
    found = run_rule("SL301", text)
    assert [f.line for f in found] == lines
    assert all("--no-cache" in f.message and f.estimated_bytes for f in found)


@pytest.mark.parametrize("text", LEAVES_ALONE)
def test_sl301_leaves_alone(text: str) -> None:
    assert run_rule("SL301", text) == []
