from __future__ import annotations

from slimline.dockerfile.parse import parse
from slimline.dockerfile.shell import Command, instruction_scripts, parse_script


def commands(text: str) -> list[Command]:
    return parse_script(text).commands


def test_lists_pipes_and_conditionals() -> None:
    cmds = commands("a && b || c; d | e; (f && g)")
    assert [c.name for c in cmds] == ["a", "b", "c", "d", "e", "f", "g"]
    assert [c.conditional for c in cmds] == [False, False, True, False, False, False, False]
    assert cmds[3].pipe_to is cmds[4] and cmds[4].pipe_from is cmds[3]


def test_quotes_and_words() -> None:
    [cmd] = commands("""echo "a b" 'c d' e\\ f "x$HOME" pre"mid"post""")
    assert cmd.argv == ["echo", "a b", "c d", "e f", "x$HOME", "premidpost"]
    assert [w.dynamic for w in cmd.words] == [False, False, False, False, True, False]


def test_wrappers_and_assignments() -> None:
    [cmd] = commands("DEBIAN_FRONTEND=noninteractive sudo -E -u root env A=1 apt-get install -y x")
    assert cmd.assignments == [("DEBIAN_FRONTEND", "noninteractive")]
    assert cmd.program == "apt-get"
    assert [w.text for w in cmd.unwrapped()] == ["apt-get", "install", "-y", "x"]


def test_sh_c_and_substitutions_are_parsed() -> None:
    cmds = commands("""sh -c "apk add curl && echo ok"; echo $(cat /etc/os-release)""")
    assert [c.name for c in cmds] == ["sh", "apk", "echo", "cat", "echo"]


def test_if_condition_runs_branches_are_conditional() -> None:
    cmds = commands("if test -f x; then rm x; else touch x; fi; for i in 1; do echo $i; done")
    by_name = {c.name: c.conditional for c in cmds}
    assert by_name == {"test": False, "rm": True, "touch": True, "echo": True}


def test_set_e_and_pipefail() -> None:
    assert parse_script("set -eux; a").errexit
    script = parse_script("set -o pipefail && a | b")
    assert script.pipefail and not script.errexit


def test_heredoc_rest_of_line() -> None:
    cmds = commands("cat <<EOF > /x && echo done\nbody\nEOF\n")
    assert [c.name for c in cmds] == ["cat", "echo"]
    assert cmds[0].heredoc == "body\n" and cmds[0].redirects == [(">", "/x")]


def test_positions_map_back_to_the_dockerfile() -> None:
    text = "FROM a\nRUN apt-get update && \\\n    apt-get install -y curl \\\n  && rm -rf /var/lib/apt/lists/*\n"
    doc = parse(text)
    [script] = instruction_scripts(doc.instructions[1])
    spans = [c.source_span() for c in script.commands]
    assert [doc.position(a) for a, _ in spans] == [(2, 5), (3, 5), (4, 6)]
    install = script.commands[1]
    curl = install.words[-1]
    start, end = install.word_source(curl)
    assert text[start:end] == "curl"


def test_heredoc_run_script() -> None:
    text = "FROM a\nRUN <<EOF\napk add --no-cache git\nEOF\nRUN python3 <<PY\nimport os\nPY\n"
    doc = parse(text)
    [script] = instruction_scripts(doc.instructions[1])
    [cmd] = script.commands
    assert cmd.argv == ["apk", "add", "--no-cache", "git"]
    assert doc.position(cmd.source_span()[0]) == (3, 1)
    [script2] = instruction_scripts(doc.instructions[2])
    assert [c.name for c in script2.commands] == ["python3"]


def test_json_form_run() -> None:
    doc = parse('FROM a\nRUN ["apt-get", "install", "-y", "x"]\nRUN ["/bin/sh", "-c", "a && b"]\n')
    [s1] = instruction_scripts(doc.instructions[1])
    assert s1.commands[0].argv == ["apt-get", "install", "-y", "x"]
    [s2] = instruction_scripts(doc.instructions[2])
    assert [c.name for c in s2.commands] == ["a", "b"]


def test_garbage_never_raises() -> None:
    for text in ["((((", "'unterminated", 'a "b', "if then fi", "$(", "\x00", "é && ü"]:
        parse_script(text)


def test_export_is_a_command_with_assignments() -> None:
    cmds = commands("export NODE_TLS_REJECT_UNAUTHORIZED=0 PATH=/x:$PATH && readonly A=1; unset B")
    assert [c.argv[0] for c in cmds] == ["export", "readonly", "unset"]
    assert cmds[0].assignments[0] == ("NODE_TLS_REJECT_UNAUTHORIZED", "0")
    assert cmds[0].argv[1] == "NODE_TLS_REJECT_UNAUTHORIZED=0"


def test_su_c_is_parsed() -> None:
    cmds = commands('su postgres -c "initdb -D /data && pg_ctl start"')
    assert [c.name for c in cmds] == ["su", "initdb", "pg_ctl"]
