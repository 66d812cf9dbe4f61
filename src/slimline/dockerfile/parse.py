"""A lossless Dockerfile parser that follows BuildKit's parsing rules.

Every physical line of the input belongs to exactly one node (a directive, a comment, a blank
line or an instruction, whose node also holds its continuation lines and heredoc bodies), so
joining the nodes' raw text gives back the input exactly. Instructions carry BuildKit's own view
(the logical line, flags, argument values, heredocs) plus spans into the original text.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from slimline.findings import Span

# Go's unicode.IsSpace, which BuildKit uses for trimming (Python's str.strip also strips
# the ASCII separators U+001C..U+001F, which Go keeps).
_GO_SPACE = " \t\n\v\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
_RE_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*\Z", re.DOTALL)
_RE_HEREDOC = re.compile(r"(\d*)<<(-?)([^<]*)\Z", re.DOTALL)
_VALID_DIRECTIVES = frozenset({"escape", "syntax", "check"})
_CONTINUATION = {
    "\\": re.compile(r"([^\\])\\[ \t]*\Z|\A\\[ \t]*\Z"),
    "`": re.compile(r"([^`])`[ \t]*\Z|\A`[ \t]*\Z"),
}

INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip
_HEREDOC_INSTRUCTIONS = frozenset({"ADD", "COPY", "RUN"})
_JSON_FORM_INSTRUCTIONS = frozenset({"ADD", "CMD", "COPY", "ENTRYPOINT", "RUN", "SHELL", "VOLUME"})


def go_trim_left(text: str) -> str:
    return text.lstrip(_GO_SPACE)


def go_trim(text: str) -> str:
    return text.strip(_GO_SPACE)


class ParseError(Exception):
    """A Dockerfile that BuildKit would refuse; line and column are 1-based."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Flag:
    """A builder flag such as ``--mount=type=cache,target=/root/.cache``."""

    text: str  # as BuildKit reports it, quotes removed: "--from=build"
    name: str  # "from"
    value: str | None  # "build"; None for a bare "--link"
    span: Span


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    chomp: bool  # "<<-": leading tabs are stripped
    expand: bool  # unquoted delimiter: variables in the body are expanded
    fd: int
    content: str  # the body as BuildKit keeps it: raw lines with their line endings
    span: Span  # the body (empty span at the terminator for an empty body)

    @property
    def text(self) -> str:
        """The body as the command sees it (tabs removed for ``<<-``)."""
        if self.chomp:
            return re.sub(r"(?m)^\t+", "", self.content)
        return self.content


@dataclass(frozen=True, slots=True)
class Comment:
    text: str  # without the leading "#", stripped
    span: Span


@dataclass(frozen=True, slots=True)
class Directive:
    name: str  # lower-case: "syntax", "escape", "check"
    value: str
    span: Span


@dataclass(slots=True)
class Instruction:
    """One instruction, with BuildKit's view of it and exact positions in the source."""

    keyword: str  # upper-case: "RUN"
    flags: tuple[Flag, ...]
    original: str  # BuildKit's logical line: continuations joined, inner comments dropped
    args: str  # the text after the keyword and flags, trimmed
    args_offset: int  # index of ``args`` inside ``original``
    values: tuple[str, ...]  # BuildKit's node values (ENV pairs, FROM words, JSON items...)
    json: bool
    heredocs: tuple[Heredoc, ...]
    span: Span  # from the keyword to the end of the last line (heredoc bodies included)
    comments: tuple[Comment, ...]  # comment lines inside a continuation
    onbuild: Instruction | None = None  # the instruction an ONBUILD wraps
    _segments: tuple[tuple[int, int], ...] = ()  # (index in original, source offset) pairs
    _document: Dockerfile | None = field(default=None, repr=False)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def end_line(self) -> int:
        return self.span.end_line

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def flag_values(self, name: str) -> list[str]:
        return [f.value for f in self.flags if f.name == name and f.value is not None]

    def source_offset(self, index: int) -> int:
        """Map an index into ``original`` to an offset in the source text."""
        starts = [s[0] for s in self._segments]
        i = bisect.bisect_right(starts, index) - 1
        if i < 0:
            return self.span.offset
        logical_start, source_start = self._segments[i]
        return source_start + (index - logical_start)

    def span_of(self, start: int, end: int) -> Span:
        """The source span of ``original[start:end]``."""
        doc = self._document
        assert doc is not None
        a = self.source_offset(start)
        b = self.source_offset(end - 1) + 1 if end > start else a
        return doc.span(a, b)

    def args_span(self, start: int = 0, end: int | None = None) -> Span:
        """The source span of ``args[start:end]``."""
        stop = len(self.args) if end is None else end
        return self.span_of(self.args_offset + start, self.args_offset + stop)


@dataclass(frozen=True, slots=True)
class Node:
    """A run of whole physical lines: exactly one of these kinds."""

    kind: str  # "instruction", "comment", "directive", "blank"
    raw: str
    offset: int
    item: Instruction | Comment | Directive | None


@dataclass(slots=True)
class Dockerfile:
    path: str
    text: str
    nodes: list[Node]
    directives: list[Directive]
    instructions: list[Instruction]
    escape: str
    _line_starts: list[int]

    def unparse(self) -> str:
        return "".join(n.raw for n in self.nodes)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        i = bisect.bisect_right(self._line_starts, offset) - 1
        return i + 1, offset - self._line_starts[i] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(line, col, end_line, end_col, start, end)

    def comments_before(self) -> Iterator[tuple[Instruction, list[Comment]]]:
        """Each instruction with the comment lines directly above it (blank lines reset)."""
        pending: list[Comment] = []
        for node in self.nodes:
            if node.kind == "comment" and isinstance(node.item, Comment):
                pending.append(node.item)
            elif node.kind == "instruction" and isinstance(node.item, Instruction):
                yield node.item, pending
                pending = []
            elif node.kind == "blank":
                pending = []


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse a decoded Dockerfile. Raises ParseError for input BuildKit would refuse."""
    return _Parser(text, path).run()


def parse_bytes(data: bytes, path: str = "Dockerfile") -> Dockerfile:
    """Decode (UTF-8, BOM allowed) and parse. Raises ParseError for undecodable input."""
    if b"\x00" in data[:8192]:
        raise ParseError("binary file (contains NUL bytes), not a Dockerfile")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError(f"invalid UTF-8 (byte 0x{data[exc.start]:02x})", line, col) from None
    return parse(text, path)


class _Parser:
    def __init__(self, text: str, path: str):
        self.text = text
        self.path = path
        self.lines: list[tuple[int, str]] = []  # (offset, raw line including its "\n")
        offset = 0
        pieces = text.split("\n")
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            if i < last:
                piece += "\n"
            elif not piece:
                break
            self.lines.append((offset, piece))
            offset += len(piece)
        self.line_starts = [o for o, _ in self.lines] or [0]
        self.escape = "\\"
        self.continuation = _CONTINUATION["\\"]
        self.directives_done = False
        self.seen_directives: set[str] = set()
        self.doc = Dockerfile(path, text, [], [], [], "\\", self.line_starts)

    def _directive(self, token: str, index: int) -> None:
        if self.directives_done:
            return
        m = _RE_DIRECTIVE.match(token)
        if not m or m.group(1).lower() not in _VALID_DIRECTIVES:
            self.directives_done = True
            return
        name = m.group(1).lower()
        if name in self.seen_directives:
            raise ParseError(f"only one {name} parser directive can be used", index + 1, 1)
        self.seen_directives.add(name)
        value = m.group(2)
        if name == "escape":
            if value not in ("\\", "`"):
                raise ParseError(
                    f"invalid escape token '{value}' does not match ` or \\", index + 1, 1
                )
            self.escape = value
            self.continuation = _CONTINUATION[value]
            self.doc.escape = value
        offset, raw = self.lines[index]
        body = raw.rstrip("\r\n")
        self.doc.directives.append(
            Directive(name, value, self.doc.span(offset, offset + len(body)))
        )

    def _trim_continuation(self, token: str) -> tuple[str, bool]:
        if not token.rstrip(" \t").endswith(self.escape):
            return token, True  # most lines: no regex needed
        m = self.continuation.search(token)
        if m is None:
            return token, True
        return token[: m.start()] + (m.group(1) or ""), False

    def _add_node(
        self, kind: str, first: int, last: int, item: Instruction | Comment | Directive | None
    ) -> None:
        start = self.lines[first][0]
        end_offset, end_raw = self.lines[last]
        raw = self.text[start : end_offset + len(end_raw)]
        self.doc.nodes.append(Node(kind, raw, start, item))

    def run(self) -> Dockerfile:
        lines = self.lines
        n = len(lines)
        i = 0
        while i < n:
            offset, raw = lines[i]
            body = raw.rstrip("\r\n")
            lead = 0
            if i == 0 and body.startswith("\ufeff"):
                lead = 1
            stripped = go_trim_left(body[lead:])
            lead = len(body) - len(stripped)
            ndir = len(self.doc.directives)
            self._directive(stripped, i)
            token = "" if stripped.startswith("#") else stripped
            line, eol = self._trim_continuation(token)
            if eol and line == "":
                if len(self.doc.directives) > ndir:
                    self._add_node("directive", i, i, self.doc.directives[-1])
                elif stripped.startswith("#"):
                    comment = Comment(
                        stripped[1:].strip(_GO_SPACE),
                        self.doc.span(offset + lead, offset + len(body)),
                    )
                    self._add_node("comment", i, i, comment)
                else:
                    self._add_node("blank", i, i, None)
                i += 1
                continue
            first = i
            segments: list[tuple[int, int]] = [(0, offset + lead)]
            comments: list[Comment] = []
            i += 1
            while not eol and i < n:
                c_offset, c_raw = lines[i]
                c_body = c_raw.rstrip("\r\n")
                c_stripped = go_trim_left(c_body)
                i += 1
                if c_stripped.startswith("#"):
                    start = c_offset + len(c_body) - len(c_stripped)
                    comments.append(
                        Comment(
                            c_stripped[1:].strip(_GO_SPACE),
                            self.doc.span(start, c_offset + len(c_body)),
                        )
                    )
                    continue
                if c_stripped == "":
                    continue
                piece, eol = self._trim_continuation(c_body)
                segments.append((len(line), c_offset))
                line += piece
            instruction = self._instruction(line, tuple(segments), first, lead + 1)
            instruction.comments = tuple(comments)
            end_index = i - 1
            if instruction.heredocs:
                end_index = self._read_heredocs(instruction, i, first, lead + 1)
                i = end_index + 1
            # As in BuildKit, the instruction ends at the last line it consumed, including
            # comment or blank lines swallowed by a trailing continuation.
            last_offset, last_raw = lines[end_index]
            end = last_offset + len(last_raw.rstrip("\r\n"))
            instruction.span = self.doc.span(offset + lead, end)
            if instruction.onbuild is not None:
                instruction.onbuild.span = instruction.span
            self.doc.instructions.append(instruction)
            self._add_node("instruction", first, end_index, instruction)
        if not self.doc.instructions:
            raise ParseError("file with no instructions", max(n, 1), 1)
        return self.doc

    def _instruction(
        self, line: str, segments: tuple[tuple[int, int], ...], index: int, column: int
    ) -> Instruction:
        try:
            instruction = _new_instruction(line, self.escape)
        except ParseError as exc:
            exc.line = index + 1
            exc.column = column
            if exc.message.startswith("unknown instruction") and index > 0:
                previous = self.lines[index - 1][1].strip()
                if previous and not previous.startswith("#"):
                    exc.message += (
                        f" (does line {index} need a trailing {self.escape} to continue?)"
                    )
            raise
        self._attach(instruction, segments)
        if instruction.onbuild is not None:
            shift = instruction.args_offset
            inner = [(max(0, a - shift), b + max(0, shift - a)) for a, b in segments]
            self._attach(instruction.onbuild, tuple(inner))
        target = instruction.onbuild or instruction
        if target.keyword in _HEREDOC_INSTRUCTIONS and not target.json and "<<" in line:
            instruction.heredocs = _heredocs_from_line(line)
            if instruction.onbuild is not None:
                instruction.onbuild.heredocs = instruction.heredocs
        return instruction

    def _attach(self, instruction: Instruction, segments: tuple[tuple[int, int], ...]) -> None:
        instruction._segments = segments
        instruction._document = self.doc
        # Flag spans were computed on the logical line; move them onto the source.
        instruction.flags = tuple(
            Flag(f.text, f.name, f.value, instruction.span_of(f.span.offset, f.span.end_offset))
            for f in instruction.flags
        )

    def _read_heredocs(self, instruction: Instruction, i: int, first: int, column: int) -> int:
        """Read the heredoc bodies after line i-1; return the index of the last line used."""
        lines = self.lines
        done: list[Heredoc] = []
        last = i - 1
        for doc in instruction.heredocs:
            start_index = i
            content: list[str] = []
            terminated = False
            while i < len(lines):
                _, raw = lines[i]
                i += 1
                candidate = raw.rstrip("\r\n")
                if doc.chomp:
                    candidate = candidate.lstrip("\t")
                if candidate == doc.name:
                    terminated = True
                    break
                content.append(raw)
            if not terminated:
                raise ParseError(
                    f"unterminated heredoc <<{doc.name}: no line '{doc.name}' ends it",
                    first + 1,
                    column,
                )
            last = i - 1
            body_start = lines[start_index][0]
            body = "".join(content)
            done.append(
                Heredoc(
                    doc.name,
                    doc.chomp,
                    doc.expand,
                    doc.fd,
                    body,
                    self.doc.span(body_start, body_start + len(body)),
                )
            )
        instruction.heredocs = tuple(done)
        if instruction.onbuild is not None:
            instruction.onbuild.heredocs = instruction.heredocs
        return last


_EMPTY_SPAN = Span(0, 0, 0, 0, 0, 0)


def _logical_span(start: int, end: int) -> Span:
    """A placeholder span holding offsets into the logical line until _attach maps it."""
    return Span(0, 0, 0, 0, start, end)


def _new_instruction(line: str, escape: str) -> Instruction:
    """BuildKit's newNodeFromLine: split the command, its flags and its arguments."""
    trimmed = go_trim(line)
    lead = len(line) - len(go_trim_left(line))
    parts = _RE_WHITESPACE.split(trimmed, maxsplit=1)
    cmd = parts[0]
    keyword = cmd.upper()
    flags: list[Flag] = []
    args = ""
    args_offset = lead + len(trimmed)
    if len(parts) == 2:
        rest = parts[1]
        rest_offset = lead + len(trimmed) - len(rest)
        remainder_offset, raw_flags = _extract_flags(rest)
        for text, start, end in raw_flags:
            name, eq, value = text[2:].partition("=")
            flags.append(
                Flag(
                    text,
                    name,
                    value if eq else None,
                    _logical_span(rest_offset + start, rest_offset + end),
                )
            )
        remainder = rest[remainder_offset:]
        args = go_trim(remainder)
        args_offset = (
            rest_offset + remainder_offset + (len(remainder) - len(go_trim_left(remainder)))
        )
    if not cmd:
        raise ParseError("unknown instruction: a line continuation with no instruction", None, 1)
    if keyword not in INSTRUCTIONS:
        raise ParseError(f"unknown instruction: {cmd}", None, 1)
    onbuild: Instruction | None = None
    values: tuple[str, ...] = ()
    is_json = False
    if keyword == "ONBUILD":
        if args:
            onbuild = _new_instruction(line[args_offset:], escape)
            if onbuild.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
                raise ParseError(f"{onbuild.keyword} isn't allowed as an ONBUILD trigger", None, 1)
            values, is_json = onbuild.values, onbuild.json
    else:
        values, is_json = _values(keyword, args, escape)
    return Instruction(
        keyword=keyword,
        flags=tuple(flags),
        original=line,
        args=args,
        args_offset=args_offset,
        values=values,
        json=is_json,
        heredocs=(),
        span=_EMPTY_SPAN,
        comments=(),
        onbuild=onbuild,
    )


def _extract_flags(line: str) -> tuple[int, list[tuple[str, int, int]]]:
    """BuildKit's extractBuilderFlags: (index where the arguments start, [(flag, start, end)]).

    A flag's value must be joined with ``=``: ``--network host`` is the flag ``--network``
    followed by the argument ``host``, as BuildKit reads it."""
    words: list[tuple[str, int, int]] = []
    if not line.startswith("--"):
        return 0, words
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    word: list[str] = []
    word_start = 0
    quote = ""
    blank_ok = False
    pos = 0
    n = len(line)
    ch = ""
    while pos <= n:
        if pos != n:
            ch = line[pos]
        if phase == in_spaces:
            if pos == n:
                break
            if ch in _GO_SPACE:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return pos, words
            phase = in_word
            word_start = pos
        if phase in (in_word, in_quote) and pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or word):
                words.append((text, word_start, pos))
            break
        if phase == in_word:
            if ch in _GO_SPACE:
                phase = in_spaces
                text = "".join(word)
                if text == "--":
                    return pos, words
                if blank_ok or word:
                    words.append((text, word_start, pos))
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        if phase == in_quote:
            if ch == quote:
                phase = in_word
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    phase = in_word
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
        pos += 1
    return n, words


def parse_words(rest: str, escape: str = "\\") -> list[str]:
    """BuildKit's parseWords: split on spaces, keep quotes, honour the escape token."""
    words: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    quote = ""
    blank_ok = False
    buf: list[str] = []
    pos = 0
    n = len(rest)
    ch = ""
    while pos <= n:
        if pos != n:
            ch = rest[pos]
        if phase == in_spaces:
            if pos == n:
                break
            if ch in _GO_SPACE:
                pos += 1
                continue
            phase = in_word
        if phase in (in_word, in_quote) and pos == n:
            if blank_ok or buf:
                words.append("".join(buf))
            break
        if phase == in_word:
            if ch in _GO_SPACE:
                phase = in_spaces
                if blank_ok or buf:
                    words.append("".join(buf))
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = in_quote
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        if phase == in_quote:
            if ch == quote:
                phase = in_word
            if ch == escape and quote != "'":
                if pos + 1 == n:
                    phase = in_word
                    pos += 1
                    continue
                pos += 1
                buf.append(ch)
                ch = rest[pos]
            buf.append(ch)
        pos += 1
    return words


class _NotJSON(Exception):
    pass


def _reject_constant(name: str) -> object:
    raise ValueError(name)


_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _parse_json(rest: str) -> tuple[str, ...]:
    rest = go_trim_left(rest)
    if not rest.startswith("["):
        raise _NotJSON
    try:
        # BuildKit decodes the first JSON value and ignores what follows it.
        items, _ = _JSON.raw_decode(rest)
    except (ValueError, RecursionError):
        raise _NotJSON from None
    if not isinstance(items, list):
        raise _NotJSON
    if not all(isinstance(x, str) for x in items):
        raise ParseError(
            "when using JSON array syntax, arrays must be comprised of strings only", None, 1
        )
    return tuple(items)


def looks_like_json_array(text: str) -> bool:
    """True for text that was meant as a JSON array but is malformed (``["a", "b"``,
    ``['a', 'b']``), false for shell that merely starts with ``[`` (``[ -f x ] && ...``)."""
    text = go_trim(text)
    if not text.startswith("["):
        return False
    inner = text[1:]
    closed = inner.endswith("]")
    if closed:
        inner = inner[:-1]
    parts = re.findall(r"\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*')\s*(,|$)", inner)
    if not parts:
        return False
    consumed = "".join(re.findall(r"\s*(?:\"(?:[^\"\\]|\\.)*\"|'[^']*')\s*(?:,|$)", inner))
    if consumed.strip() != inner.strip():
        return False
    return closed or len(parts) > 1


def _values(keyword: str, args: str, escape: str) -> tuple[tuple[str, ...], bool]:
    """BuildKit's per-instruction line parsers."""
    if keyword in ("ENV", "LABEL"):
        return _name_values(keyword, args, escape), False
    if keyword == "ARG":
        return tuple(parse_words(args, escape)), False
    if keyword in ("FROM", "EXPOSE"):
        return (tuple(_RE_WHITESPACE.split(args)) if args else ()), False
    if keyword in ("MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"):
        return ((args,) if args else ()), False
    if keyword == "HEALTHCHECK":
        m = re.match(r"\S+", args)
        if not m:
            return (), False
        typ = m.group()
        rest = go_trim_left(args[m.end() :])
        inner, is_json = _maybe_json(keyword, rest, to_list=False)
        return (typ, *inner), is_json
    if keyword in _JSON_FORM_INSTRUCTIONS:
        return _maybe_json(keyword, args, to_list=keyword in ("ADD", "COPY", "VOLUME"))
    return ((args,) if args else ()), False


def _maybe_json(keyword: str, args: str, *, to_list: bool) -> tuple[tuple[str, ...], bool]:
    if not args and not to_list:
        return (), False
    try:
        return _parse_json(args), True
    except _NotJSON:
        pass
    if looks_like_json_array(args):
        raise ParseError(
            f"malformed JSON array in {keyword}: {args!s:.60}"
            " (BuildKit would run it as a shell command; use double quotes and commas)",
            None,
            1,
        )
    if to_list:
        return (tuple(_RE_WHITESPACE.split(args)) if args else ()), False
    return (args,), False


def _name_values(keyword: str, rest: str, escape: str) -> tuple[str, ...]:
    words = parse_words(rest, escape)
    if not words:
        return ()
    if "=" not in words[0]:
        parts = _RE_WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ParseError(f"{keyword} must have two arguments", None, 1)
        return (parts[0], parts[1])
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise ParseError(
                f"Syntax error - can't find = in {word!r}. Must be of the form: name=value",
                None,
                1,
            )
        key, _, value = word.partition("=")
        out += [key, value]
    return tuple(out)


def _heredocs_from_line(line: str) -> tuple[Heredoc, ...]:
    docs: list[Heredoc] = []
    for word in _shell_words(line, raw=True):
        m = _RE_HEREDOC.match(word)
        if not m or not m.group(3):
            continue
        rest = m.group(3)
        cooked = _shell_words(rest, raw=False)
        if len(cooked) != 1:
            continue
        raw_words = _shell_words(rest, raw=True)
        name = cooked[0]
        quotes = name.count("'") + name.count('"')
        raw_quotes = raw_words[0].count("'") + raw_words[0].count('"') if raw_words else 0
        docs.append(
            Heredoc(
                name=name,
                chomp=m.group(2) == "-",
                expand=quotes == raw_quotes,
                fd=int(m.group(1) or 0),
                content="",
                span=_EMPTY_SPAN,
            )
        )
    return tuple(docs)


def _shell_words(text: str, *, raw: bool) -> list[str]:
    """Enough of BuildKit's shell lexer to find heredoc words: split on unquoted
    whitespace; with ``raw`` keep quotes and escapes, otherwise remove them."""
    words: list[str] = []
    buf: list[str] = []
    in_word = False
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            if in_word:
                words.append("".join(buf))
                buf = []
                in_word = False
            i += 1
            continue
        in_word = True
        if ch == "\\":
            if raw:
                buf.append(ch)
            if i + 1 < n:
                buf.append(text[i + 1])
            i += 2
            continue
        if ch in ("'", '"'):
            end = i + 1
            while end < n and text[end] != ch:
                end += 2 if (ch == '"' and text[end] == "\\") else 1
            inner = text[i + 1 : end]
            if not raw and ch == '"':
                inner = re.sub(r"\\(.)", r"\1", inner)
            buf.append(ch + inner + ch if raw else inner)
            i = end + 1
            continue
        buf.append(ch)
        i += 1
    if in_word:
        words.append("".join(buf))
    return words
