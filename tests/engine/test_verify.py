"""verify_fix and its parts against the real engine, on small Dockerfiles written here."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from slimline.engine import (
    BuildFailed,
    CommandProbe,
    HttpProbe,
    ProbeFailed,
    ProbeTimeout,
    build_image,
    free_port,
    remove_image,
    run_command,
    verify_fix,
)
from slimline.engine.verify import verify_tags

pytestmark = pytest.mark.engine

SLIM = "FROM debian:bookworm-slim\n"
# 20 MB of incompressible bytes, added in a layer the fixed version leaves out.
BLOB = "RUN head -c 20000000 /dev/urandom > /blob\n"


def _context(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def _gone(engine: Any, *tags: str) -> bool:
    return not any(engine.images.list(name=tag) for tag in tags)


def test_same_behaviour_sizes_and_layers(engine: Any, tmp_path: Path) -> None:
    command = 'CMD ["echo", "hello"]\n'
    result = verify_fix(SLIM + BLOB + command, SLIM + command, _context(tmp_path), client=engine)
    assert result.same_behaviour and result.differences == ()
    assert result.original_behaviour.run.stdout == b"hello\n"
    assert result.original_behaviour.run.exit_code == 0
    assert 20_000_000 <= result.saving_bytes < 20_100_000
    assert result.original.layer_count == result.fixed.layer_count + 1
    assert 0 < result.saving_ratio < 1
    assert _gone(engine, result.original.tag, result.fixed.tag)


def test_different_output_and_exit_code_are_reported(engine: Any, tmp_path: Path) -> None:
    result = verify_fix(
        SLIM + 'CMD ["sh", "-c", "echo hello"]\n',
        SLIM + 'CMD ["sh", "-c", "echo bye; echo oops >&2; exit 3"]\n',
        _context(tmp_path),
        client=engine,
    )
    assert not result.same_behaviour
    assert len(result.differences) == 2
    exit_line, output_line = result.differences
    assert "exit code 0 (original) vs 3 (fixed)" in exit_line and "oops" in exit_line
    assert "'hello\\n' (original) vs 'bye\\n' (fixed)" in output_line


def test_standard_input_reaches_the_entrypoint(engine: Any, tmp_path: Path) -> None:
    entrypoint = 'ENTRYPOINT ["wc", "-w"]\n'
    result = verify_fix(
        SLIM + BLOB + entrypoint,
        SLIM + entrypoint,
        _context(tmp_path),
        probe=CommandProbe(stdin=b"three little words\n" * 1000),
        client=engine,
    )
    assert result.original_behaviour.run.stdout == b"3000\n"
    assert result.same_behaviour


def test_probe_command_replaces_cmd(engine: Any, tmp_path: Path) -> None:
    text = SLIM + 'CMD ["false"]\n'
    result = verify_fix(
        text,
        text,
        _context(tmp_path),
        probe=CommandProbe(argv=("cat", "/etc/debian_version")),
        client=engine,
    )
    assert result.original_behaviour.run.exit_code == 0
    assert result.original_behaviour.run.stdout.startswith(b"12.")
    assert result.saving_bytes == 0


def test_fixed_build_failure_names_the_fixed_build_and_cleans_up(
    engine: Any, tmp_path: Path
) -> None:
    original = SLIM + 'CMD ["true"]\n'
    fixed = SLIM + "RUN echo no-such-package-here >&2 && exit 100\n"
    with pytest.raises(BuildFailed) as failure:
        verify_fix(original, fixed, _context(tmp_path), client=engine)
    error = failure.value
    assert error.role == "fixed"
    assert "\n" not in str(error)
    assert str(error).startswith("building the fixed Dockerfile failed:")
    assert "no-such-package-here" in str(error)
    assert any("no-such-package-here" in line for line in error.log_tail)
    assert _gone(engine, *verify_tags(original, fixed, tmp_path))


def test_buildkit_syntax_builds_and_the_classic_builder_says_why_not(
    engine: Any, tmp_path: Path
) -> None:
    text = SLIM + "RUN --mount=type=cache,target=/var/cache/demo echo cached > /marker\n"
    context = _context(tmp_path)
    image = build_image(engine, text, context, tag="slimline-verify/test-buildkit:1")
    try:
        assert image.layer_count >= 2
    finally:
        remove_image(engine, image.tag)
    with pytest.raises(BuildFailed, match="--mount"):
        build_image(engine, text, context, tag="slimline-verify/test-classic:1", builder="classic")


def test_classic_builder_measures_the_same_way(engine: Any, tmp_path: Path) -> None:
    text = SLIM + BLOB
    context = _context(tmp_path)
    classic = build_image(
        engine, text, context, tag="slimline-verify/test-classic:2", builder="classic"
    )
    try:
        base = engine.images.get("debian:bookworm-slim").attrs
        assert classic.layer_count == len(base["RootFS"]["Layers"]) + 1
        assert classic.size_bytes - base["Size"] >= 20_000_000
    finally:
        remove_image(engine, classic.tag)


def test_dockerignore_and_the_built_text_shape_the_context(engine: Any, tmp_path: Path) -> None:
    context = _context(
        tmp_path,
        {
            ".dockerignore": "secret.txt\nnotes/\n",
            "secret.txt": "nope",
            "notes/a.md": "nope",
            "app.txt": "yes",
            "Dockerfile": "FROM on-disk-text-is-not-used\n",
        },
    )
    text = SLIM + "COPY . /ctx\n" + 'CMD ["sh", "-c", "cd /ctx && ls -A && cat Dockerfile"]\n'
    result = verify_fix(text, text, context, client=engine)
    listing = result.original_behaviour.run.stdout.decode()
    assert listing.split("FROM")[0].split() == [".dockerignore", "Dockerfile", "app.txt"]
    assert "COPY . /ctx" in listing


def test_services_that_keep_running_are_alike(engine: Any, tmp_path: Path) -> None:
    text = SLIM + 'CMD ["sleep", "600"]\n'
    result = verify_fix(text, text, _context(tmp_path), timeout=2, client=engine)
    assert result.same_behaviour
    assert result.original_behaviour.run.timed_out and result.fixed_behaviour.run.timed_out


def test_a_fixed_image_that_stops_early_is_a_difference(engine: Any, tmp_path: Path) -> None:
    result = verify_fix(
        SLIM + 'CMD ["sleep", "600"]\n',
        SLIM + 'CMD ["true"]\n',
        _context(tmp_path),
        timeout=3,
        client=engine,
    )
    assert result.differences == ("the original keeps running; the fixed image exits with code 0",)


def test_explicit_probe_timing_out_on_the_original_raises(engine: Any, tmp_path: Path) -> None:
    text = SLIM + 'CMD ["true"]\n'
    with pytest.raises(ProbeTimeout, match="did not finish in 2 s on the original") as failure:
        verify_fix(
            text,
            text,
            _context(tmp_path),
            probe=CommandProbe(argv=("sleep", "600")),
            timeout=2,
            client=engine,
        )
    assert failure.value.role == "original"


def test_run_command_removes_its_container(engine: Any) -> None:
    result = run_command(
        engine, "debian:bookworm-slim", argv=["sh", "-c", "echo out; echo err >&2; exit 4"]
    )
    assert (result.exit_code, result.stdout, result.stderr) == (4, b"out\n", b"err\n")


SERVER = (
    "FROM python:3.12-slim\nWORKDIR /srv\nRUN echo {body} > index.txt\n"
    + 'CMD python -m http.server "$PORT"\n'
)


def _http_probe(*paths: str) -> HttpProbe:
    port = free_port()
    return HttpProbe(port=port, paths=paths, env=(("PORT", str(port)),))


def test_http_probe_compares_status_and_body(
    engine: Any, stand_ins: list[str], tmp_path: Path
) -> None:
    result = verify_fix(
        SERVER.format(body="same"),
        SERVER.format(body="changed"),
        _context(tmp_path),
        probe=_http_probe("/index.txt", "/missing"),
        client=engine,
    )
    statuses = [r.status for r in result.original_behaviour.responses]
    assert statuses == [200, 404]
    assert result.original_behaviour.responses[0].body == b"same\n"
    assert result.differences == (
        "GET /index.txt: body 'same\\n' (original) vs 'changed\\n' (fixed)",
    )


def test_http_probe_reports_a_fixed_image_that_never_serves(
    engine: Any, stand_ins: list[str], tmp_path: Path
) -> None:
    result = verify_fix(
        SERVER.format(body="same"),
        SLIM + 'CMD ["sh", "-c", "echo cannot start >&2; exit 2"]\n',
        _context(tmp_path),
        probe=_http_probe("/index.txt"),
        client=engine,
    )
    (difference,) = result.differences
    assert "fixed image exited with code 2 before serving" in difference
    assert "cannot start" in difference


def test_http_probe_refuses_a_port_already_in_use(
    engine: Any, stand_ins: list[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = SERVER.format(body="x")
        with pytest.raises(ProbeFailed, match=f"already listens on 127.0.0.1:{port}"):
            verify_fix(text, text, _context(tmp_path), probe=HttpProbe(port=port), client=engine)


def test_keep_images_leaves_them_tagged_without_containers(engine: Any, tmp_path: Path) -> None:
    text = SLIM + 'CMD ["true"]\n'
    result = verify_fix(
        text, SLIM + 'CMD ["true", "fixed"]\n', _context(tmp_path), keep_images=True, client=engine
    )
    try:
        assert result.kept
        for image in (result.original, result.fixed):
            assert engine.images.get(image.tag).id == image.id
            assert not engine.containers.list(all=True, filters={"ancestor": image.id})
    finally:
        remove_image(engine, result.original.tag)
        remove_image(engine, result.fixed.tag)
