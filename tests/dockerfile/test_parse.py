from __future__ import annotations

from pathlib import Path

import pytest

from slimline.dockerfile.parse import ParseError, looks_like_json_array, parse, parse_bytes
from tests.dockerfile.oracle import buildkit_view, our_view

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "dockerfiles").glob("*")) + sorted(
    (Path(__file__).parent.parent / "fixtures" / "clean").glob("*")
)


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_round_trip_is_byte_exact(path: Path) -> None:
    data = path.read_bytes()
    doc = parse_bytes(data, str(path))
    assert doc.unparse().encode("utf-8") == data


@pytest.mark.oracle
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_agrees_with_buildkit(path: Path) -> None:
    text = read(path)
    expected = buildkit_view(text)
    assert not isinstance(expected, str), f"BuildKit rejects the fixture: {expected}"
    assert our_view(parse(text)) == expected


def test_spans_point_at_keywords_flags_and_heredocs() -> None:
    text = "FROM alpine:3.20\n  RUN --mount=type=cache,target=/x \\\n    echo hi\nRUN <<EOF\nbody\nEOF\n"
    doc = parse(text)
    run = doc.instructions[1]
    assert (run.span.line, run.span.column, run.span.end_line) == (2, 3, 3)
    assert text[run.span.offset : run.span.offset + 3] == "RUN"
    flag = run.flags[0]
    assert text[flag.span.offset : flag.span.end_offset] == "--mount=type=cache,target=/x"
    assert flag.name == "mount" and flag.value == "type=cache,target=/x"
    args = run.args_span(run.args.index("hi"), run.args.index("hi") + 2)
    assert (args.line, args.column) == (3, 10)
    heredoc = doc.instructions[2].heredocs[0]
    assert text[heredoc.span.offset : heredoc.span.end_offset] == "body\n"
    assert (heredoc.span.line, heredoc.span.column) == (5, 1)


def test_comments_inside_continuations_are_kept() -> None:
    doc = parse("FROM a\nRUN x \\\n  # why\n  && y\n")
    assert [c.text for c in doc.instructions[1].comments] == ["why"]
    assert doc.instructions[1].values == ("x   && y",)


def test_directives() -> None:
    doc = parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN echo `\n  hi\n")
    assert [(d.name, d.value) for d in doc.directives] == [
        ("syntax", "docker/dockerfile:1"),
        ("escape", "`"),
    ]
    assert doc.escape == "`"
    assert doc.instructions[1].values == ("echo   hi",)


def test_directive_after_comment_is_a_comment() -> None:
    doc = parse("# hello\n# escape=`\nFROM a\n")
    assert doc.directives == [] and doc.escape == "\\"


def test_onbuild_wraps_an_instruction() -> None:
    doc = parse("FROM a\nONBUILD RUN --network=none echo hi\n")
    inner = doc.instructions[1].onbuild
    assert inner is not None and inner.keyword == "RUN" and inner.args == "echo hi"
    assert inner.flags[0].text == "--network=none"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("", "file with no instructions", 1),
        ("# only a comment\n\n", "file with no instructions", 2),
        ("FROM a\nFOO bar\n", "unknown instruction: FOO", 2),
        ("FROM a\nRUN <<EOF\nabc\n", "unterminated heredoc", 2),
        ('FROM a\nCMD ["a", 1]\n', "arrays must be comprised of strings only", 2),
        ('FROM a\nCMD ["a", "b"\n', "malformed JSON array in CMD", 2),
        ("FROM a\nCMD ['a', 'b']\n", "malformed JSON array in CMD", 2),
        ("FROM a\nENV onlykey\n", "ENV must have two arguments", 2),
        ("FROM a\nENV a=1 b\n", "can't find = in 'b'", 2),
        ("# escape=x\nFROM a\n", "invalid escape token", 1),
        ("# escape=\\\n# escape=`\nFROM a\n", "only one escape parser directive", 2),
    ],
)
def test_errors_have_a_message_and_a_line(text: str, message: str, line: int) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert message in info.value.message
    assert info.value.line == line


@pytest.mark.parametrize(
    "data", [b"\x00\x01\x02binary", b"FROM a\nRUN echo \xff\xfe\n"], ids=["binary", "bad-utf8"]
)
def test_undecodable_input(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_bytes(data)


def test_invalid_utf8_position() -> None:
    with pytest.raises(ParseError) as info:
        parse_bytes(b"FROM a\nRUN echo \xff\n")
    assert (info.value.line, info.value.column) == (2, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('["a", "b"', True),
        ("['a', 'b']", True),
        ('["a",]', True),
        ("[ -f /x ] && echo y", False),
        ('[ "$X" = "y" ] || exit 1', False),
        ('["a"]', True),
        ("[[ -n x ]]", False),
    ],
)
def test_looks_like_json_array(text: str, expected: bool) -> None:
    assert looks_like_json_array(text) is expected


def test_shell_test_command_is_not_taken_for_json() -> None:
    doc = parse('FROM a\nRUN [ -f /etc/os-release ] && echo ok\nRUN [ "$X" = "y" ] || true\n')
    assert [i.json for i in doc.instructions] == [False, False, False]
