"""Precise edits inside RUN scripts: a flag after a word, a command appended to the RUN in its
own continuation style, a command dropped with its separator, a whole instruction removed.

Every helper checks that the script offsets it uses land on the very characters it expects in
the Dockerfile (``Word.raw`` at the mapped position), and raises :class:`Unfixable` rather than
guess: JSON-form RUNs, ``sh -c`` strings, heredocs fed to commands, ``<<-`` bodies and scripts
that do not parse are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slimline.dockerfile.context import RunStep
from slimline.dockerfile.edits import Edit
from slimline.dockerfile.fixes.base import FixContext, Unfixable
from slimline.dockerfile.fixes.locate import node_of
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp
from slimline.dockerfile.shell import Command, Script, Word, _parser, basename

if TYPE_CHECKING:
    from tree_sitter import Node as TSNode

# Wrappers that may stand before a program in a command slimline appends (`sudo yum clean all`
# after `sudo yum install`): they run the clean-up the way the install ran.
_PREFIX_WRAPPERS = frozenset(
    {"sudo", "env", "nice", "nohup", "gosu", "su-exec", "eatmydata", "time", "command", "stdbuf"}
)
_SEPARATORS = ("&&", ";", "\n")


def pure_heredoc(instruction: Instruction) -> bool:
    """``RUN <<EOF`` (the heredoc body is the script), as opposed to ``RUN cmd <<EOF``."""
    stripped = instruction.args.strip()
    return (
        len(instruction.heredocs) == 1
        and stripped.lstrip("0123456789").startswith("<<")
        and " " not in stripped
    )


def editable_script(run: RunStep) -> Script:
    """The RUN's one shell script, when slimline can edit it in place."""
    ins = run.instruction
    if ins.json:
        raise Unfixable("JSON-form RUN: its arguments are not a shell script to edit")
    if not run.shell_is_posix:
        raise Unfixable("the SHELL instruction selects a shell that is not sh")
    if ins.heredocs:
        if not pure_heredoc(ins):
            raise Unfixable("a heredoc fed to a command in this RUN")
        if ins.heredocs[0].chomp:
            raise Unfixable("a `<<-` heredoc (tabs stripped) in this RUN")
    scripts = run.scripts
    if len(scripts) != 1:
        raise Unfixable("a heredoc whose shell is not sh")
    script = scripts[0]
    if script.parse_error:
        raise Unfixable("the RUN's shell script does not parse")
    return script


def editable_command(run: RunStep, command: Command) -> Script:
    script = editable_script(run)
    if command.script is not script:
        raise Unfixable("the command runs inside an `sh -c` string")
    return script


def word_span(fctx: FixContext, command: Command, word: Word) -> tuple[int, int]:
    """Where ``word`` stands in the Dockerfile, checked character for character."""
    start, end = command.word_source(word)
    if fctx.text[start:end] != word.raw:
        raise Unfixable("the command is split by a line continuation inside a word")
    return start, end


def insert_after(fctx: FixContext, command: Command, word: Word, text: str) -> Edit:
    """Insert `` text`` right after ``word``: ``apk add`` -> ``apk add --no-cache``."""
    _, end = word_span(fctx, command, word)
    return Edit.insert(end, " " + text)


def action_word(op: PackageOp) -> Word:
    """The subcommand word of a package-manager command (``install`` in ``apt-get -y install``);
    the program word when there is none (bare ``yarn``)."""
    words = op.command.unwrapped()
    if not words:
        raise Unfixable("the command has no words")
    if op.raw_action:
        for word in words[1:]:
            if word.text == op.raw_action:
                return word
    return words[0]


def invocation(op: PackageOp) -> str:
    """How the command invokes its program, wrappers included: ``sudo yum``. A clean-up
    appended to the RUN uses the same words, so that it runs as the install did."""
    command = op.command
    unwrapped = command.unwrapped()
    if not unwrapped:
        raise Unfixable("the command has no words")
    program = unwrapped[0]
    index = next(i for i, w in enumerate(command.words) if w is program)
    for word in command.words[:index]:
        name = basename(word.text)
        if "=" not in word.text and not word.text.startswith("-") and name not in _PREFIX_WRAPPERS:
            raise Unfixable(f"`{name}` runs the command; a clean-up cannot be run the same way")
    if any(w.dynamic for w in command.words[: index + 1]):
        raise Unfixable("a variable names the package manager or its wrapper")
    if command.assignments:
        raise Unfixable("the command sets variables for itself (`VAR=x cmd`)")
    text = command.script.text[command.words[0].start : program.end]
    if "\n" in text:
        raise Unfixable("the command spans several lines before its program")
    return text


# --- The script's top-level structure --------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    """One operand of the script's top-level command lists, with the operator before it."""

    op: str | None  # "&&", "||", ";", "\n" (statements on separate lines), None for the first
    node: TSNode
    start: int  # character offsets in the script text
    end: int


@dataclass(slots=True)
class _Structure:
    items: list[_Item]
    last_statement: TSNode
    after_last: list[TSNode]  # tokens after the last statement (";", "&", comments)
    b2c: Callable[[int], int]


def _byte_to_char(text: str) -> Callable[[int], int]:
    data = text.encode("utf-8", "surrogatepass")
    if len(data) == len(text):
        return lambda b: b
    table = [0] * (len(data) + 1)
    pos = 0
    for index, ch in enumerate(text):
        width = len(ch.encode("utf-8", "surrogatepass"))
        for k in range(width):
            table[pos + k] = index
        pos += width
    table[len(data)] = len(text)
    return table.__getitem__


def _structure(fctx: FixContext, script: Script) -> _Structure:
    key = f"structure:{id(script)}"
    cached = fctx.cache.get(key)
    if isinstance(cached, _Structure):
        return cached
    tree = _parser().parse(script.text.encode("utf-8", "surrogatepass"))
    root = tree.root_node
    b2c = _byte_to_char(script.text)
    statements = [c for c in root.children if c.is_named and c.type != "comment"]
    if not statements:
        raise Unfixable("the RUN runs no command")
    items: list[_Item] = []
    seen = False
    pending: str | None = None
    for child in root.children:
        if child.type in (";", "&"):
            pending = child.type
            continue
        if not child.is_named or child.type == "comment":
            continue
        op = pending
        if op is None and seen:
            op = "\n"  # statements on separate lines (a heredoc body)
        items += _flatten(child, op, b2c)
        seen = True
        pending = None
    last = statements[-1]
    index = next(i for i, c in enumerate(root.children) if c.id == last.id)
    structure = _Structure(items, last, list(root.children[index + 1 :]), b2c)
    fctx.cache[key] = structure
    return structure


def _flatten(node: TSNode, op: str | None, b2c: Callable[[int], int]) -> list[_Item]:
    """``a && b || c`` as [(op, a), ("&&", b), ("||", c)]; other statements as one item."""
    if node.type != "list":
        return [_Item(op, node, b2c(node.start_byte), b2c(node.end_byte))]
    chain: list[TSNode] = []
    current: TSNode | None = node
    while current is not None and current.type == "list":
        chain.append(current)
        current = current.children[0] if current.children else None
    out: list[_Item] = []
    if current is not None:
        out.append(_Item(op, current, b2c(current.start_byte), b2c(current.end_byte)))
    for level in reversed(chain):
        operator: str | None = None
        for child in level.children[1:]:
            if child.type in ("&&", "||"):
                operator = child.type
            elif child.is_named and child.type != "comment":
                out.append(_Item(operator, child, b2c(child.start_byte), b2c(child.end_byte)))
    return out


def _item_of(structure: _Structure, command: Command) -> int:
    for index, item in enumerate(structure.items):
        if item.node.type == "command" and item.start == command.start and item.end == command.end:
            return index
    raise Unfixable(
        "the command is not a step of the RUN's top-level command list "
        "(inside a pipeline, a subshell, a branch or a loop, or redirected)"
    )


def _source_range(script: Script, start: int, end: int) -> tuple[int, int]:
    return script.to_source(start), script.to_source(max(start, end - 1)) + 1


def _no_comment_lines(fctx: FixContext, start: int, end: int) -> None:
    for line in fctx.text[start:end].split("\n")[1:]:
        if line.lstrip().startswith("#"):
            raise Unfixable("a comment line sits between the commands")


# --- Edits -----------------------------------------------------------------------------


def delete_instruction(fctx: FixContext, instruction: Instruction) -> Edit:
    """Remove an instruction's lines (its continuation lines included)."""
    if instruction.comments:
        raise Unfixable(
            f"comment lines inside the {instruction.keyword} at line {instruction.line}"
        )
    node = node_of(fctx, instruction)
    return Edit.delete(node.offset, node.offset + len(node.raw))


def remove_commands(fctx: FixContext, run: RunStep, commands: Sequence[Command]) -> list[Edit]:
    """Drop commands from the RUN's top-level ``&&``/``;`` list, each with one separator; the
    whole instruction when nothing would be left."""
    script = editable_script(run)
    for command in commands:
        editable_command(run, command)
        if command.negated or command.pipe_from is not None or command.pipe_to is not None:
            raise Unfixable("the command is part of a pipeline")
    structure = _structure(fctx, script)
    items = structure.items
    doomed = sorted({_item_of(structure, c) for c in commands})
    if len(doomed) == len(items):
        return [delete_instruction(fctx, run.instruction)]
    groups: list[list[int]] = []
    for index in doomed:
        if groups and groups[-1][-1] == index - 1:
            groups[-1].append(index)
        else:
            groups.append([index])
    edits: list[Edit] = []
    for group in groups:
        first, last = group[0], group[-1]
        after = items[last + 1].op if last + 1 < len(items) else None
        ops = [items[i].op for i in group[1:]] + ([after] if after is not None else [])
        if first > 0:
            ops.append(items[first].op)
        if any(op not in _SEPARATORS for op in ops):
            raise Unfixable("the command is part of an `||` branch or a background job")
        if first == 0:
            start, end = items[first].start, items[last + 1].start
        else:
            if items[first].op == ";" and after == "&&":
                raise Unfixable("dropping the command would join `;` and `&&` differently")
            start, end = items[first - 1].end, items[last].end
        a, b = _source_range(script, start, end)
        _no_comment_lines(fctx, a, b)
        edits.append(Edit.delete(a, b))
    return edits


def insert_before(fctx: FixContext, run: RunStep, command: Command, text: str) -> Edit:
    """Insert ``text && `` before a top-level command: ``apt-get update && apt-get install``."""
    script = editable_command(run, command)
    structure = _structure(fctx, script)
    index = _item_of(structure, command)
    if structure.items[index].op not in (None, *_SEPARATORS):
        raise Unfixable("the command is part of an `||` branch")
    start = script.to_source(command.start)
    if fctx.text[start : start + 1] != script.text[command.start : command.start + 1]:
        raise Unfixable("cannot map the command onto the Dockerfile")
    return Edit.insert(start, f"{text} && ")


def append_command(fctx: FixContext, run: RunStep, text: str) -> Edit:
    """Append ``&& text`` to the end of the RUN, in the RUN's continuation style.

    ``a && b`` on one line gets `` && text``; a RUN that puts each command on its own line
    (``\\`` + newline + indentation, the operator leading or trailing) gets a new line laid
    out the same way. ``&&`` keeps the exit status: the RUN still fails when its last command
    fails."""
    script = editable_script(run)
    structure = _structure(fctx, script)
    last = structure.last_statement
    if any(t.type == "&" for t in structure.after_last):
        raise Unfixable("the RUN ends with a background job (`&`)")
    if last.type == "function_definition":
        raise Unfixable("the RUN ends with a function definition")
    b2c = structure.b2c
    end = b2c(last.end_byte)
    position = script.to_source(end - 1) + 1
    if fctx.text[position - 1] != script.text[end - 1]:
        raise Unfixable("cannot map the end of the RUN onto the Dockerfile")
    if _ends_with_exit(last, script, b2c):
        raise Unfixable("the RUN ends with `exit` or `exec`: nothing after it runs")
    if pure_heredoc(run.instruction):
        return Edit.insert(position, f" && {text}")
    operator = _last_operator(structure)
    if operator is None:
        return Edit.insert(position, f" && {text}")
    layout = _layout(fctx, script, operator, b2c)
    if layout is None:
        return Edit.insert(position, f" && {text}")
    style, indent = layout
    eol = "\r\n" if fctx.text.startswith("\r\n", _line_end(fctx.text, position)) else "\n"
    escape = fctx.escape
    if style == "leading":
        return Edit.insert(position, f" {escape}{eol}{indent}&& {text}")
    return Edit.insert(position, f" && {escape}{eol}{indent}{text}")


def _ends_with_exit(node: TSNode, script: Script, b2c: Callable[[int], int]) -> bool:
    target = node
    while target.type == "list" and target.children:
        target = target.children[-1]
    if target.type != "command":
        return False
    words = script.text[b2c(target.start_byte) : b2c(target.end_byte)].split()
    return bool(words) and words[0] in ("exit", "exec")


def _last_operator(structure: _Structure) -> TSNode | None:
    """The separator before the last top-level command: the list operator or the ``;``."""
    last = structure.last_statement
    if last.type == "list":
        operators = [c for c in last.children if c.type in ("&&", "||")]
        return operators[-1] if operators else None
    parent = last.parent
    if parent is None:
        return None
    siblings = parent.children
    index = next(i for i, c in enumerate(siblings) if c.id == last.id)
    for child in reversed(siblings[:index]):
        if child.type == ";":
            return child
        if child.is_named and child.type != "comment":
            return None
    return None


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _layout(
    fctx: FixContext, script: Script, operator: TSNode, b2c: Callable[[int], int]
) -> tuple[str, str] | None:
    """("leading" | "trailing", indentation) when the RUN puts its commands on separate lines
    around ``operator``; None when they share a line."""
    text = fctx.text
    k = b2c(operator.start_byte)
    at = script.to_source(k)
    width = len(script.text[k : b2c(operator.end_byte)])
    if text[at : at + width] != script.text[k : k + width]:
        return None
    line_start = _line_start(text, at)
    before = text[line_start:at]
    if before.strip(" \t") == "":
        return "leading", before
    rest = text[at + width : _line_end(text, at)]
    if rest.strip(" \t") == fctx.escape:
        # The next command starts on a following line: copy that line's indentation.
        following = at + width + len(rest)
        for line in text[following:].split("\n")[1:]:
            stripped = line.lstrip(" \t")
            if stripped and not stripped.startswith("#"):
                return "trailing", line[: len(line) - len(stripped)]
        return None
    return None


def command_text(command: Command) -> str:
    """A command as one line of shell (continuations were already joined by BuildKit)."""
    text = command.script.text[command.start : command.end]
    if "\n" in text:
        raise Unfixable("the command spans several lines of a heredoc")
    return text.strip()
