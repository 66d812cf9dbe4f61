from __future__ import annotations

import pytest

from slimline.dockerfile.parse import ParseError, parse
from slimline.dockerfile.stages import build_stages, substitute

TEXT = """\
ARG PY=3.12
ARG REG
FROM --platform=$BUILDPLATFORM python:${PY}-slim AS Deps
RUN pip install flask
FROM deps AS test
RUN pytest
FROM node:20 AS assets
RUN npm ci
FROM golang:1.22 AS unused
FROM ${REG}python:${PY}-slim
COPY --from=deps /venv /venv
COPY --from=2 /dist /static
RUN --mount=type=bind,from=unused,target=/x true
"""


def test_stages_names_bases_and_final() -> None:
    graph = build_stages(parse(TEXT))
    assert [s.name for s in graph.stages] == ["deps", "test", "assets", "unused", None]
    deps = graph.stages[0]
    assert deps.base_resolved == "python:3.12-slim" and deps.platform == "$BUILDPLATFORM"
    assert graph.stages[1].parent is deps
    final = graph.target
    assert final.index == 4 and not final.resolved  # REG has no default
    assert [s.label for s in graph.dependencies(final)] == ["deps", "assets", "unused"]
    assert graph.image_chain(graph.stages[1]) == [deps, graph.stages[1]]
    assert graph.build_only(deps) and not graph.build_only(final)


def test_target_selects_the_final_stage() -> None:
    graph = build_stages(parse(TEXT), target="test")
    assert graph.target.name == "test"
    with pytest.raises(ParseError):
        build_stages(parse(TEXT), target="nope")


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${A}", {"A": "x"}, ("x", True)),
        ("$A-b", {"A": "x"}, ("x-b", True)),
        ("${A:-d}", {}, ("d", True)),
        ("${A:-d}", {"A": ""}, ("d", True)),
        ("${A-d}", {"A": ""}, ("", True)),
        ("${A:+alt}", {"A": "1"}, ("alt", True)),
        ("${B}", {}, ("${B}", False)),
        ("${B}", {"B": None}, ("${B}", False)),
    ],
)
def test_substitute(
    text: str, variables: dict[str, str | None], expected: tuple[str, bool]
) -> None:
    assert substitute(text, variables) == expected


@pytest.mark.parametrize(
    "text",
    ["RUN echo\nFROM a\n", "ARG A\n", "FROM a AS\n", "FROM a AS b c\n", "FROM a AS 9bad\n"],
)
def test_invalid_stage_structure(text: str) -> None:
    with pytest.raises(ParseError):
        build_stages(parse(text))


def test_global_arg_defaults_expand_earlier_args() -> None:
    text = (
        "ARG REGISTRY=quay.io\nARG OWNER=jupyter\n"
        "ARG BASE_CONTAINER=$REGISTRY/$OWNER/docker-stacks-foundation\n"
        "ARG UNKNOWN_BASE=$NOPE/base\nFROM $BASE_CONTAINER\nFROM $UNKNOWN_BASE\n"
    )
    graph = build_stages(parse(text))
    assert graph.stages[0].base_resolved == "quay.io/jupyter/docker-stacks-foundation"
    assert graph.stages[0].resolved
    assert graph.stages[1].base_resolved == "$NOPE/base"  # nothing declared NOPE: kept as written
