"""Generated Dockerfiles: the parse is lossless and agrees with BuildKit's parser."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimline.dockerfile.parse import ParseError, parse
from tests.dockerfile.oracle import buildkit_view, our_view

# SLIMLINE_FUZZ_EXAMPLES=20000 for a long exploration; the suite keeps it short.
EXAMPLES = int(os.environ.get("SLIMLINE_FUZZ_EXAMPLES", "300"))

KEYWORDS = ["RUN", "run", "COPY", "ADD", "ENV", "ARG", "LABEL", "CMD", "ENTRYPOINT", "WORKDIR",
            "USER", "EXPOSE", "VOLUME", "SHELL", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "FROM"]  # fmt: skip
WORDS = st.sampled_from(
    [
        "echo",
        "hi",
        "a=b",
        "'q w'",
        '"x y"',
        "$VAR",
        "${V:-d}",
        "--flag",
        "--mount=type=cache,target=/c",
        "&&",
        "||",
        ";",
        "|",
        "<<EOF",
        "<<-EOT",
        "<<'Q'",
        "[",
        "]",
        '["a",',
        '"b"]',
        "\\",
        "`",
        "#",
        "=",
        "k=v",
        "apt-get",
        "install",
        "-y",
        "é",
        "\t",
        "x\\ y",
        "1<<2",
    ]
)
NEWLINE = st.sampled_from(["\n", "\r\n"])


@st.composite
def physical_line(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["instr", "instr", "instr", "comment", "blank", "cont", "body"]))
    if kind == "comment":
        return (
            draw(st.sampled_from(["", "  ", "\t"]))
            + "# "
            + " ".join(draw(st.lists(WORDS, max_size=3)))
        )
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t "]))
    if kind == "body":
        return draw(st.sampled_from(["EOF", "\tEOT", "Q", "line of body", "  EOF"]))
    words = " ".join(draw(st.lists(WORDS, max_size=5)))
    if kind == "cont":
        return "  " + words + draw(st.sampled_from([" \\", "\\", " \\ ", ""]))
    return draw(st.sampled_from(KEYWORDS)) + " " + words + draw(st.sampled_from(["", " \\", ""]))


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    lines = ["FROM alpine:3.20", *draw(st.lists(physical_line(), max_size=12))]
    nl = draw(NEWLINE)
    text = nl.join(lines)
    if draw(st.booleans()):
        text += nl
    if draw(st.booleans()):
        text = (
            draw(
                st.sampled_from(["# syntax=docker/dockerfile:1", "# escape=`", "\ufeff# escape=\\"])
            )
            + nl
            + text
        )
    return text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_dockerfiles_round_trip_and_agree(text: str) -> None:
    expected = buildkit_view(text)
    try:
        doc = parse(text)
    except ParseError as exc:
        # Stricter than BuildKit's parse stage only where BuildKit's build would fail anyway.
        assert isinstance(expected, str) or any(
            m in exc.message
            for m in ("unknown instruction", "malformed JSON", "isn't allowed as an ONBUILD")
        ), (exc.message, expected)
        return
    assert doc.unparse() == text
    assert not isinstance(expected, str), f"BuildKit rejects what we accept: {expected}"
    assert our_view(doc) == expected


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        doc = parse(text)
    except ParseError:
        return
    assert doc.unparse() == text
