"""Naming the Dockerfile line behind each layer, from the history both builders write."""

from __future__ import annotations

import pytest

from slimline.image.history import keyword_of, map_history
from slimline.image.sources.base import HistoryEntry


@pytest.mark.parametrize(
    ("created_by", "keyword"),
    [
        ("/bin/sh -c #(nop) ADD file:abc in / ", "ADD"),
        ('/bin/sh -c #(nop)  CMD ["bash"]', "CMD"),
        ("/bin/sh -c #(nop) WORKDIR /app", "WORKDIR"),
        ("/bin/sh -c apt-get update", "RUN"),
        ("|2 A=1 B=2 /bin/sh -c make", "RUN"),
        ("RUN /bin/sh -c pip install x # buildkit", "RUN"),
        ("RUN |1 V=2 /bin/sh -c echo # buildkit", "RUN"),
        ("COPY app.py /app/ # buildkit", "COPY"),
        ("WORKDIR /app", "WORKDIR"),
        ("ENV A=b", "ENV"),
        ("EXPOSE map[8000/tcp:{}]", "EXPOSE"),
        ("", None),
        ("Imported from -", None),
        ("bazel build", None),
    ],
)
def test_keyword_of(created_by: str, keyword: str | None) -> None:
    assert keyword_of(created_by) == keyword


DOCKERFILE = """\
FROM debian:bookworm AS base
RUN apt-get update

FROM base
# a comment
WORKDIR /app
COPY . .
RUN make \\
    install
CMD ["app"]
"""


def test_map_history_aligns_from_the_end() -> None:
    history = [
        HistoryEntry("/bin/sh -c #(nop) ADD file:abc in / "),
        HistoryEntry('/bin/sh -c #(nop)  CMD ["bash"]', empty_layer=True),
        HistoryEntry("/bin/sh -c apt-get update"),
        HistoryEntry("/bin/sh -c #(nop) WORKDIR /app"),
        HistoryEntry("/bin/sh -c #(nop) COPY dir:123 in . "),
        HistoryEntry("/bin/sh -c make     install"),
        HistoryEntry('/bin/sh -c #(nop)  CMD ["app"]', empty_layer=True),
    ]
    matches = map_history(history, DOCKERFILE)
    assert {i: m.line for i, m in matches.items()} == {2: 2, 3: 6, 4: 7, 5: 8, 6: 10}
    assert matches[5].instruction.startswith("RUN make")
    # the base image's own entries are not this file's
    assert 0 not in matches and 1 not in matches


def test_map_history_stops_at_a_disagreement() -> None:
    history = [
        HistoryEntry("/bin/sh -c #(nop) COPY file:1 in / "),
        HistoryEntry('/bin/sh -c #(nop)  CMD ["app"]', empty_layer=True),
    ]
    assert {i: m.line for i, m in map_history(history, DOCKERFILE).items()} == {1: 10}


def test_labels_added_by_the_build_command_are_skipped() -> None:
    history = [
        HistoryEntry("/bin/sh -c #(nop) WORKDIR /app"),
        HistoryEntry("/bin/sh -c #(nop) COPY dir:123 in . "),
        HistoryEntry("/bin/sh -c make     install"),
        HistoryEntry('/bin/sh -c #(nop)  CMD ["app"]', empty_layer=True),
        HistoryEntry("/bin/sh -c #(nop)  LABEL built-by=ci", empty_layer=True),
    ]
    assert {i: m.line for i, m in map_history(history, DOCKERFILE).items()} == {
        0: 6,
        1: 7,
        2: 8,
        3: 10,
    }
