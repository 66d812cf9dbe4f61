"""RUN scripts as commands with argv, parsed with tree-sitter-bash.

A script is turned into a flat list of simple commands, in source order, each knowing its
words (unquoted where that is certain), its pipeline neighbours, whether it only runs on some
paths (right of ``||``, inside ``if``/``case``/loops), and where it stands in the original
Dockerfile. ``sh -c "..."`` strings and shell heredoc bodies are parsed recursively.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node as TSNode
    from tree_sitter import Parser

    from slimline.dockerfile.parse import Instruction


def basename(path: str) -> str:
    """``posixpath.basename``, without its overhead on a hot path."""
    return path.rpartition("/")[2]


SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"})
# Programs that run their arguments as another command.
_WRAPPERS = frozenset({"sudo", "env", "nohup", "time", "exec", "command", "nice", "gosu", "su-exec", "chroot", "xargs", "timeout", "stdbuf", "eatmydata"})  # fmt: skip
# Options of wrappers that take a value.
_WRAPPER_VALUE_OPTS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "--user", "--group"},
    "env": {"-u", "--unset", "-C", "--chdir", "-S"},
    "nice": {"-n", "--adjustment"},
    "xargs": {"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter"},
    "timeout": {"-k", "-s", "--kill-after", "--signal"},
    "stdbuf": {"-i", "-o", "-e"},
}
_COMPOUND_CONDITIONAL = frozenset(
    {"if_statement", "elif_clause", "else_clause", "case_statement", "case_item",
     "while_statement", "for_statement", "c_style_for_statement", "function_definition"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # the value after quote removal; expansions are kept as written ("$HOME")
    raw: str  # as written in the script
    start: int  # offsets in the script text
    end: int
    dynamic: bool = False  # contains an expansion or a command substitution

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)
class Command:
    """A simple command: ``VAR=x prog arg...`` with its redirections."""

    words: list[Word]  # argv, program first
    assignments: list[tuple[str, str]]
    redirects: list[tuple[str, str]]  # (operator, target)
    start: int
    end: int
    script: Script
    conditional: bool = False  # runs only on some paths (``||`` right side, if, loops...)
    negated: bool = False
    pipe_from: Command | None = None
    pipe_to: Command | None = None
    heredoc: str | None = None  # the body fed on stdin, if any
    _unwrapped: list[Word] | None = field(default=None, repr=False, compare=False)
    _program: str | None = field(default=None, repr=False, compare=False)

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    @property
    def name(self) -> str:
        """The program's base name: "/usr/bin/apt-get" -> "apt-get"."""
        return basename(self.words[0].text) if self.words else ""

    def unwrapped(self) -> list[Word]:
        """argv with wrappers such as ``sudo -E``, ``env X=1`` and ``nohup`` removed."""
        if self._unwrapped is None:
            self._unwrapped = self._unwrap()
        return self._unwrapped

    def _unwrap(self) -> list[Word]:
        words = self.words
        while words:
            prog = basename(words[0].text)
            if prog not in _WRAPPERS:
                break
            value_opts = _WRAPPER_VALUE_OPTS.get(prog, set())
            i = 1
            while i < len(words):
                t = words[i].text
                if prog == "env" and "=" in t and not t.startswith("-"):
                    i += 1
                elif prog == "timeout" and i == 1 and not t.startswith("-"):
                    i += 1  # the duration
                    break
                elif t.startswith("-") and t != "-":
                    i += 2 if t in value_opts else 1
                else:
                    break
            words = words[i:]
        return words

    @property
    def program(self) -> str:
        if self._program is None:
            words = self.unwrapped()
            self._program = basename(words[0].text) if words else ""
        return self._program

    def source_span(self) -> tuple[int, int]:
        return self.script.to_source(self.start), self.script.to_source(
            max(self.start, self.end - 1)
        ) + 1

    def word_source(self, word: Word) -> tuple[int, int]:
        return self.script.to_source(word.start), self.script.to_source(
            max(word.start, word.end - 1)
        ) + 1


@dataclass(slots=True)
class Script:
    """One shell script (a RUN line, a heredoc body, an ``sh -c`` string)."""

    text: str
    to_source: Callable[[int], int]  # script offset -> offset in the Dockerfile text
    commands: list[Command] = field(default_factory=list)
    assignments: list[tuple[str, str]] = field(default_factory=list)  # bare ``NAME=value``
    errexit: bool = False  # ``set -e`` seen
    pipefail: bool = False
    parse_error: bool = False


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def parse_script(
    text: str, to_source: Callable[[int], int] | None = None, depth: int = 0
) -> Script:
    """Parse shell text into a Script; never raises (tree-sitter is error tolerant)."""
    script = Script(text, to_source or (lambda i: i))
    data = text.encode("utf-8", "surrogatepass")
    tree = _parser().parse(data)
    script.parse_error = tree.root_node.has_error
    if len(data) == len(text):
        b2c: Callable[[int], int] = lambda b: b  # noqa: E731
    else:
        table = [0] * (len(data) + 1)
        pos = 0
        for ci, ch in enumerate(text):
            width = len(ch.encode("utf-8", "surrogatepass"))
            for k in range(width):
                table[pos + k] = ci
            pos += width
        table[len(data)] = len(text)
        b2c = table.__getitem__
    try:
        _Walker(script, data, b2c, depth).visit(tree.root_node, False)
    except RecursionError:
        # Nesting thousands deep (subshells in subshells): keep what was read so far.
        script.parse_error = True
    return script


class _Walker:
    def __init__(self, script: Script, data: bytes, b2c: Callable[[int], int], depth: int):
        self.script = script
        self.data = data
        self.b2c = b2c
        self.depth = depth

    def text(self, node: TSNode) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    def visit(self, node: TSNode, conditional: bool) -> list[Command]:
        """Visit a node; return the commands it produced (for pipelines)."""
        kind = node.type
        if kind in ("command", "declaration_command", "unset_command"):
            return self.command(node, conditional, [])
        if kind == "variable_assignment":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            self.script.assignments.append(
                (self.text(name) if name else "", self.word(value).text if value else "")
            )
            return self.substitutions(value, conditional) if value is not None else []
        if kind == "list":
            # ``a && b && c`` nests to the left, one level per operator: walk the chain
            # iteratively, as a RUN can join thousands of commands.
            chain = []
            leftmost: TSNode | None = node
            while leftmost is not None and leftmost.type == "list":
                chain.append(leftmost)
                leftmost = leftmost.children[0] if leftmost.children else None
            operands: list[tuple[str | None, TSNode]] = []
            if leftmost is not None:
                operands.append((None, leftmost))
            for level in reversed(chain):
                op: str | None = None
                for child in level.children[1:]:
                    if child.type in ("&&", "||"):
                        op = child.type
                    else:
                        operands.append((op, child))
            out: list[Command] = []
            for op, child in operands:
                out += self.visit(child, conditional or op == "||")
            return out
        if kind == "pipeline":
            stages: list[list[Command]] = []
            for child in node.children:
                if child.type in ("|", "|&"):
                    continue
                stages.append(self.visit(child, conditional))
            for left, right in itertools.pairwise(stages):
                if left and right:
                    left[-1].pipe_to = right[0]
                    right[0].pipe_from = left[-1]
            return [c for s in stages for c in s]
        if kind == "redirected_statement":
            body = node.child_by_field_name("body")
            redirects: list[tuple[str, str]] = []
            heredoc: str | None = None
            trailing: list[tuple[str | None, TSNode]] = []
            for child in node.children:
                if body is not None and child.id == body.id:
                    continue
                r, h = self.redirect(child)
                redirects += r
                heredoc = h if h is not None else heredoc
                if child.type == "heredoc_redirect":
                    trailing += self.heredoc_trailing(child)
            if body is not None and body.type == "command":
                cmds = self.command(body, conditional, redirects)
                if cmds and heredoc is not None:
                    cmds[0].heredoc = heredoc
            else:
                cmds = self.visit(body, conditional) if body is not None else []
            for op, stmt in trailing:
                cmds += self.visit(stmt, conditional or op == "||")
            return cmds
        if kind == "negated_command":
            cmds = []
            for child in node.children:
                cmds += self.visit(child, conditional)
            for c in cmds:
                c.negated = True
            return cmds
        cond = conditional or kind in _COMPOUND_CONDITIONAL
        out = []
        for child in node.children:
            if (
                kind == "if_statement"
                and child.type != "else_clause"
                and child.type != "elif_clause"
            ):
                # The condition of an if always runs; only the branches are conditional.
                field_name = node.field_name_for_child(node.children.index(child))
                out += self.visit(child, conditional if field_name == "condition" else cond)
                continue
            out += self.visit(child, cond)
        return out

    def heredoc_trailing(self, node: TSNode) -> list[tuple[str | None, TSNode]]:
        """tree-sitter-bash puts the rest of a ``cmd <<EOF && more`` line inside the heredoc
        redirect node; return those statements with the operator before each."""
        out: list[tuple[str | None, TSNode]] = []
        op: str | None = None
        for child in node.children:
            if child.type in ("&&", "||", "|", ";"):
                op = child.type
            elif child.is_named and child.type not in (
                "heredoc_start",
                "file_redirect",
                "heredoc_body",
                "heredoc_end",
                "heredoc_content",
            ):
                out.append((op, child))
        return out

    def redirect(self, node: TSNode) -> tuple[list[tuple[str, str]], str | None]:
        if node.type == "file_redirect":
            op = ""
            target = ""
            for child in node.children:
                if child.is_named:
                    target = self.word(child).text
                else:
                    op = self.text(child)
            return [(op, target)], None
        if node.type == "heredoc_redirect":
            redirects: list[tuple[str, str]] = []
            body: str | None = None
            for child in node.children:
                if child.type == "file_redirect":
                    redirects += self.redirect(child)[0]
                elif child.type == "heredoc_body":
                    body = self.text(child)
            return redirects, body if body is not None else ""
        if node.type == "herestring_redirect":
            return [("<<<", self.text(node))], None
        return [], None

    def command(
        self, node: TSNode, conditional: bool, redirects: list[tuple[str, str]]
    ) -> list[Command]:
        words: list[Word] = []
        assignments: list[tuple[str, str]] = []
        nested: list[Command] = []
        redirects = list(redirects)
        declaration = node.type != "command"  # export/declare/readonly/local/unset
        for child in node.children:
            t = child.type
            if declaration and not child.is_named and not words:
                words.append(self.word(child))  # the keyword itself: "export"
                continue
            if t == "variable_assignment":
                name = child.child_by_field_name("name")
                value = child.child_by_field_name("value")
                assignments.append(
                    (self.text(name) if name else "", self.word(value).text if value else "")
                )
                if declaration:
                    words.append(self.word(child))
                if value is not None:
                    nested += self.substitutions(value, conditional)
            elif t == "command_name":
                inner = child.children[0] if child.children else child
                words.append(self.word(inner))
                nested += self.substitutions(inner, conditional)
            elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                redirects += self.redirect(child)[0]
            elif child.is_named and t != "comment":
                words.append(self.word(child))
                nested += self.substitutions(child, conditional)
        cmd = Command(
            words=words,
            assignments=assignments,
            redirects=redirects,
            start=self.b2c(node.start_byte),
            end=self.b2c(node.end_byte),
            script=self.script,
            conditional=conditional,
        )
        self.script.commands.append(cmd)
        self._note_shell_options(cmd)
        if self.depth < 3:
            nested += self._inline_script(cmd)
        return [cmd, *nested] if nested else [cmd]

    def _note_shell_options(self, cmd: Command) -> None:
        if cmd.name != "set":
            return
        args = cmd.argv[1:]
        for i, arg in enumerate(args):
            if (
                arg.startswith("-")
                and not arg.startswith("--")
                and "e" in arg[1:]
                and arg[1:2] != "o"
            ):
                self.script.errexit = True
            if arg == "-o" and i + 1 < len(args):
                if args[i + 1] == "errexit":
                    self.script.errexit = True
                elif args[i + 1] == "pipefail":
                    self.script.pipefail = True
            if (
                arg.startswith("-")
                and "o" in arg[1:]
                and i + 1 < len(args)
                and args[i + 1] == "pipefail"
            ):
                self.script.pipefail = True

    def _inline_script(self, cmd: Command) -> list[Command]:
        """``sh -c "..."``: parse the string as a script of its own."""
        words = cmd.unwrapped()
        if not words or basename(words[0].text) not in SHELLS | {"su", "runuser"}:
            return []
        for i, w in enumerate(words[1:-1], start=1):
            if w.text.startswith("-") and not w.text.startswith("--") and "c" in w.text:
                inner = words[i + 1]
                base = inner.start + (1 if inner.raw[:1] in ("'", '"') else 0)
                sub = parse_script(
                    inner.text, _shifted(self.script.to_source, base), self.depth + 1
                )
                for c in sub.commands:
                    c.conditional = c.conditional or cmd.conditional
                # Inner commands keep their own script, which maps their offsets.
                self.script.commands += sub.commands
                self.script.errexit = self.script.errexit or sub.errexit
                return sub.commands
        return []

    def substitutions(self, node: TSNode, conditional: bool) -> list[Command]:
        """Commands inside ``$(...)`` or backticks within a word."""
        if node.child_count == 0:
            return []
        out: list[Command] = []
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type in ("command_substitution", "process_substitution"):
                for child in n.children:
                    if child.is_named:
                        out += self.visit(child, conditional)
                continue
            stack.extend(reversed(n.children))
        return out

    def word(self, node: TSNode) -> Word:
        start, end = node.start_byte, node.end_byte
        raw = self.data[start:end].decode("utf-8", "surrogatepass")
        if node.type == "word" and "\\" not in raw:
            return Word(raw, raw, self.b2c(start), self.b2c(end), False)  # the common case
        text, dynamic = self._unquote(node)
        return Word(text, raw, self.b2c(start), self.b2c(end), dynamic)

    def _unquote(self, node: TSNode) -> tuple[str, bool]:
        t = node.type
        if t == "word":
            raw = self.text(node)
            if "\\" in raw:
                out = []
                i = 0
                while i < len(raw):
                    if raw[i] == "\\" and i + 1 < len(raw):
                        out.append(raw[i + 1])
                        i += 2
                    else:
                        out.append(raw[i])
                        i += 1
                return "".join(out), False
            return raw, False
        if t == "raw_string":
            return self.text(node)[1:-1], False
        if t == "ansi_c_string":
            return self.text(node)[2:-1], False
        if t in ("string", "translated_string"):
            parts: list[str] = []
            dynamic = False
            for child in node.children:
                if child.type == "string_content":
                    c = self.text(child)
                    parts.append(
                        c.replace('\\"', '"')
                        .replace("\\$", "$")
                        .replace("\\`", "`")
                        .replace("\\\\", "\\")
                    )
                elif child.is_named:
                    parts.append(self.text(child))
                    dynamic = True
            return "".join(parts), dynamic
        if t == "concatenation":
            parts = []
            dynamic = False
            for child in node.children:
                text, d = self._unquote(child)
                parts.append(text)
                dynamic = dynamic or d
            return "".join(parts), dynamic
        if t in (
            "simple_expansion",
            "expansion",
            "command_substitution",
            "arithmetic_expansion",
            "process_substitution",
        ):
            return self.text(node), True
        return self.text(node), False


def _shifted(to_source: Callable[[int], int], base: int) -> Callable[[int], int]:
    return lambda k: to_source(base + k)


def instruction_scripts(instruction: Instruction) -> list[Script]:
    """The shell scripts a RUN instruction (shell or JSON form, heredocs included) runs."""
    doc_text_offset = instruction.source_offset
    if instruction.json:
        argv = list(instruction.values)
        if (
            len(argv) >= 3
            and basename(argv[0]) in SHELLS
            and argv[1].startswith("-")
            and "c" in argv[1]
        ):
            anchor = instruction.source_offset(instruction.args_offset)
            return [parse_script(argv[2], lambda _k: anchor)]
        anchor = instruction.source_offset(instruction.args_offset)
        script = Script(" ".join(argv), lambda _k: anchor)
        script.commands.append(Command([Word(a, a, 0, 0) for a in argv], [], [], 0, 0, script))
        return [script]
    args = instruction.args
    base = instruction.args_offset
    heredocs = instruction.heredocs
    if not heredocs:
        return [parse_script(args, lambda k: doc_text_offset(base + k))]
    stripped = args.strip()
    scripts: list[Script] = []
    if (
        len(heredocs) == 1
        and stripped.lstrip("0123456789").startswith("<<")
        and " " not in stripped
    ):
        # "RUN <<EOF": the body is the script, unless its shebang names another interpreter.
        body = heredocs[0]
        first_line = body.text.split("\n", 1)[0]
        if first_line.startswith("#!") and basename(
            first_line[2:].split()[0] if first_line[2:].split() else ""
        ) not in SHELLS | {"env"}:
            return []
        if (
            first_line.startswith("#!/usr/bin/env")
            and (first_line.split()[1:2] or [""])[0] not in SHELLS
        ):
            return []
        start = body.span.offset
        return [parse_script(body.text, lambda k: start + k if not body.chomp else start)]
    # "RUN cmd <<EOF ...": BuildKit hands the shell the line followed by the bodies.
    pieces = [args, "\n"]
    marks: list[tuple[int, int]] = [(0, -1)]
    pos = len(args) + 1
    for doc in heredocs:
        marks.append((pos, doc.span.offset))
        pieces += [doc.content, doc.name, "\n"]
        pos += len(doc.content) + len(doc.name) + 1
    full = "".join(pieces)

    def to_source(k: int) -> int:
        for mark_start, source in reversed(marks):
            if k >= mark_start:
                if source < 0:
                    return doc_text_offset(base + min(k, max(len(args) - 1, 0)))
                return source + (k - mark_start)
        return doc_text_offset(base)

    scripts.append(parse_script(full, to_source))
    return scripts
