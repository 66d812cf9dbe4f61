"""The engine package's pure parts: no engine needed."""

from __future__ import annotations

import base64
import io
import tarfile
from pathlib import Path

import pytest

from slimline.engine import (
    BuildComparison,
    BuiltImage,
    CommandProbe,
    EngineError,
    EngineUnavailable,
    HttpProbe,
    RunResult,
    connect,
    parse_probe,
    probe_from_options,
)
from slimline.engine.buildkit import BuildKitLog
from slimline.engine.compare import Behaviour, differences
from slimline.engine.context import context_tar
from slimline.engine.run import HttpResponse


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, value: bytes | int) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _aux(*parts: bytes) -> str:
    return base64.b64encode(b"".join(parts)).decode()


def test_buildkit_progress_becomes_log_lines() -> None:
    vertex = _field(1, b"sha256:abc") + _field(3, b"[2/2] RUN make") + _field(4, 0)
    timestamp = _field(1, 1_700_000_000)  # a nested message the reader must skip
    log = _field(1, b"sha256:abc") + _field(2, timestamp) + _field(3, 1)
    log += _field(4, b"cc -o tool tool.c\r\ntool.c:1: error: oops\n")
    failed = _field(1, b"sha256:abc") + _field(7, b"exit code: 2")
    reader = BuildKitLog()
    reader.feed(_aux(_field(1, vertex)))
    reader.feed(_aux(_field(1, vertex), _field(3, log)))
    reader.feed(_aux(_field(1, failed)))
    assert reader.lines == [
        "#[2/2] RUN make",
        "cc -o tool tool.c",
        "tool.c:1: error: oops",
        "ERROR [2/2] RUN make: exit code: 2",
    ]


def test_buildkit_lines_split_across_messages_are_joined() -> None:
    def chunk(text: bytes) -> str:
        return _aux(_field(3, _field(1, b"sha256:v") + _field(3, 2) + _field(4, text)))

    reader = BuildKitLog()
    for part in (b"E", b": Unable to locate ", b"package nosuch\nnext line starts", b" here"):
        reader.feed(chunk(part))
    assert reader.lines == ["E: Unable to locate package nosuch"]
    reader.flush()
    assert reader.lines[-1] == "next line starts here"


@pytest.mark.parametrize("garbage", ["not base64!", _aux(b"\x0a\xff\xff"), 42, None])
def test_buildkit_reader_ignores_what_it_cannot_read(garbage: object) -> None:
    reader = BuildKitLog()
    reader.feed(garbage)
    assert reader.lines == []


def _members(data: bytes) -> dict[str, bytes | None]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        out: dict[str, bytes | None] = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            out[member.name] = handle.read() if handle else None
        return out


def test_context_honours_dockerignore_and_carries_the_given_text(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.log\nbuild/\n!build/keep.txt\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "debug.log").write_text("noise")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.o").write_text("obj")
    (tmp_path / "build" / "keep.txt").write_text("keep")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text("FROM on-disk\n")
    members = _members(context_tar(tmp_path, "FROM built\n", "docker/Dockerfile"))
    assert members["docker/Dockerfile"] == b"FROM built\n"
    assert members["app.py"] == b"print(1)\n"
    assert members["build/keep.txt"] == b"keep"
    assert "debug.log" not in members and "build/out.o" not in members
    assert list(members).count("docker/Dockerfile") == 1


def test_context_refuses_a_dockerfile_outside_it(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="outside the build context"):
        context_tar(tmp_path, "FROM x\n", "../Dockerfile")
    with pytest.raises(EngineError, match="not a directory"):
        context_tar(tmp_path / "missing", "FROM x\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://127.0.0.1:8000/health", HttpProbe(port=8000, paths=("/health",))),
        ("http://localhost:3000", HttpProbe(port=3000, paths=("/",))),
        (":8080/sum?a=1&b=2", HttpProbe(port=8080, paths=("/sum?a=1&b=2",))),
        ("wordcount --help", CommandProbe(argv=("wordcount", "--help"))),
        ("sh -c 'echo a b'", CommandProbe(argv=("sh", "-c", "echo a b"))),
    ],
)
def test_parse_probe(text: str, expected: object) -> None:
    assert parse_probe(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://example.com:80/", "only contacts 127.0.0.1"),
        ("http://10.0.0.1:80/", "only contacts 127.0.0.1"),
        ("https://127.0.0.1:8443/", "plain http"),
        ("http://127.0.0.1/", "needs a port"),
        ("echo 'unbalanced", "cannot split"),
        ("http://127.0.0.1:http/", "cannot read"),
    ],
)
def test_parse_probe_refuses(text: str, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        parse_probe(text)


@pytest.mark.parametrize(
    ("command", "http", "expected"),
    [
        (None, None, None),
        ("wordcount -l", None, CommandProbe(argv=("wordcount", "-l"))),
        (None, "8000/health", HttpProbe(port=8000, paths=("/health",))),
        (None, "localhost:3000", HttpProbe(port=3000, paths=("/",))),
        (None, "http://127.0.0.1:8080/x", HttpProbe(port=8080, paths=("/x",))),
    ],
)
def test_probe_from_options(command: str | None, http: str | None, expected: object) -> None:
    assert probe_from_options(command, http) == expected


def test_probe_from_options_takes_one_probe() -> None:
    with pytest.raises(EngineError, match="not both"):
        probe_from_options("true", ":8000")
    with pytest.raises(EngineError, match="only contacts"):
        probe_from_options(None, "example.com:80")


def _image(size: int) -> BuiltImage:
    return BuiltImage(tag="t", id="sha256:x", size_bytes=size, layer_count=3, build_seconds=1.0)


def test_saving_is_measured_against_the_original() -> None:
    run = RunResult(0, b"", b"", False, 0.1)
    behaviour = Behaviour(CommandProbe(), run)
    result = BuildComparison(
        _image(1_000_000_000), _image(350_000_000), behaviour, behaviour, True, (), False
    )
    assert (result.saving_bytes, result.saving_ratio) == (650_000_000, 0.65)
    assert result.summary() == (
        "original 1000 MB in 3 layers, fixed 350 MB in 3 layers: saves 650 MB (65%); "
        "same behaviour (the image's own command)"
    )
    grown = BuildComparison(_image(1000), _image(1200), behaviour, behaviour, False, ("x",), False)
    assert (grown.saving_bytes, grown.saving_ratio) == (-200, -0.2)
    assert grown.summary().startswith("original 0.0 MB in 3 layers, fixed 0.0 MB in 3 layers: adds")
    assert "1 difference in behaviour" in grown.summary()


def test_http_differences_name_the_path() -> None:
    probe = HttpProbe(port=8000, paths=("/a", "/b"))
    run = RunResult(0, b"", b"", False, 0.1)
    before = Behaviour(
        probe, run, (HttpResponse("/a", 200, b"x"), HttpResponse("/b", 200, b"y")), True
    )
    after = Behaviour(
        probe,
        run,
        (HttpResponse("/a", 500, b"x"), HttpResponse("/b", 0, b"", "connection reset")),
        True,
    )
    assert differences(before, after) == [
        "GET /a: status 200 (original) vs 500 (fixed)",
        "GET /b: status 200 (original) vs connection reset (fixed)",
    ]


def test_an_unreachable_engine_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(EngineUnavailable) as failure:
        connect(timeout=2)
    assert str(failure.value).startswith("no container engine answers:")
    assert "\n" not in str(failure.value)
