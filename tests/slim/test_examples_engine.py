"""`slimline slim` end to end on the apps in examples/slim/, against the real engine.

Each app is built as its Dockerfile is written (fat) and slimmed in every mode with the
arguments of its `probes` file. The command must verify the slim image, report it smaller, and
the slim image must then behave like the original when run here, without slimline: the same
HTTP answers or the same output, and a prompt stop on SIGTERM. In files mode no shell or package
manager may be left that the app does not need; in packages mode the package database must list
exactly the packages the report says remain.

The services listen on fixed ports (8101-8103), so everything that runs one example holds that
example's file lock: parallel workers take different examples, never the same one twice.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from filelock import FileLock

from slimline.image.layers import EntryKind
from slimline.image.read import read_image
from slimline.image.sources import open_image
from slimline.packages.catalog import capture_predicate, catalog_image
from tests.support import engine
from tests.support.base_images import ensure_base_images

pytestmark = pytest.mark.engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "slim"
LOCKS = Path(tempfile.gettempdir()) / "slimline-test-images"
MODES = ("static", "packages", "files")
# every slim image must pass ten verification runs in a row, in every mode
VERIFY_RUNS = 10
# Options of a probes file whose value is a file, named relative to the example's directory.
PATH_OPTIONS = frozenset({"--stdin", "--probe-script"})
SLIM_TIMEOUT_SECONDS = 900
STOP_SECONDS = 5.0
# packages mode: the slim image's bytes over the package closure's, at most
CLOSURE_MARGIN = 1.06

# What no slim image may keep in files mode unless the app runs it.
SHELLS = ("bin/sh", "bin/bash", "bin/dash", "usr/bin/sh", "usr/bin/bash", "usr/bin/dash")
PACKAGE_MANAGERS = ("usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/dpkg-query")
# No example compiles anything when it runs: none of these may remain in packages or files mode.
BUILD_TOOLS = frozenset({"cpp", "cpp-12", "gcc", "gcc-12", "g++", "g++-12", "make", "binutils"})


@dataclass(frozen=True)
class Example:
    name: str
    # slim size / original size must stay under these (measured, with a margin), per mode
    ratios: dict[str, float]
    # the shells the app itself runs (the node image's entrypoint is a /bin/sh script)
    shells_needed: frozenset[str] = frozenset()


# Measured (slim size / original size, as reported; static, packages, files): python-script
# 0.633, 0.078, 0.019; python-http 0.633, 0.080, 0.024; flask 0.713, 0.336, 0.128; node-http
# 0.680, 0.125, 0.093; c-tool 0.643, 0.015, 0.0027.
EXAMPLE_LIST = (
    Example(
        "python-script",
        {"static": 0.70, "packages": 0.10, "files": 0.025},
    ),
    Example(
        "python-http",
        {"static": 0.70, "packages": 0.10, "files": 0.03},
    ),
    Example(
        "flask",
        {"static": 0.80, "packages": 0.40, "files": 0.15},
    ),
    Example(
        "node-http",
        {"static": 0.75, "packages": 0.15, "files": 0.11},
        shells_needed=frozenset({"bin/sh", "bin/dash", "usr/bin/sh", "usr/bin/dash"}),
    ),
    Example(
        "c-tool",
        {"static": 0.72, "packages": 0.02, "files": 0.004},
    ),
)
EXAMPLES_BY_NAME = {example.name: example for example in EXAMPLE_LIST}


# --- the probes file ---------------------------------------------------------------------


def probe_arguments(name: str) -> list[str]:
    """The `probes` file of an example as arguments of `slimline slim`: one argument per line,
    blank lines and `#` comments left out, file values made absolute."""
    directory = EXAMPLES / name
    lines = [
        line
        for line in (directory / "probes").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    arguments: list[str] = []
    for line in lines:
        after_path_option = bool(arguments) and arguments[-1] in PATH_OPTIONS
        arguments.append(str(directory / line) if after_path_option else line)
    return arguments


def _values(arguments: list[str], option: str) -> list[str]:
    return [value for flag, value in itertools.pairwise(arguments) if flag == option]


@dataclass(frozen=True)
class Probes:
    urls: tuple[tuple[int, str], ...]  # (port, path) for every --probe-http
    stdin: bytes | None

    @property
    def service(self) -> bool:
        return bool(self.urls)


def probes_of(name: str) -> Probes:
    arguments = probe_arguments(name)
    urls = []
    for url in _values(arguments, "--probe-http"):
        parts = urllib.parse.urlsplit(f"http://127.0.0.1{url}" if url.startswith(":") else url)
        assert parts.port is not None, url
        urls.append((parts.port, parts.path + (f"?{parts.query}" if parts.query else "")))
    stdin = _values(arguments, "--stdin")
    return Probes(tuple(urls), Path(stdin[0]).read_bytes() if stdin else None)


# --- building and running ----------------------------------------------------------------


@functools.cache
def fat_image(name: str) -> str:
    """The example built from its directory as it is (cached by content across the suite)."""
    directory = EXAMPLES / name
    files: dict[str, str | bytes] = {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    dockerfile = (directory / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert base is not None
    # the stand-in it builds on (python:3.12, node:20...), unless already made
    ensure_base_images([base.group(1)], client=engine.client())
    return engine.build(f"fat-{name}", files)


@contextmanager
def example_lock(name: str) -> Iterator[None]:
    """Whatever runs this example's container: its port is fixed."""
    LOCKS.mkdir(parents=True, exist_ok=True)
    with FileLock(str(LOCKS / f"slim-example-{name}.lock")):
        yield


@dataclass(frozen=True)
class Behaviour:
    answers: tuple[tuple[str, int, bytes], ...]  # services: (path, status, body)
    exit_code: int | None  # jobs: exit code and output; services: exit code after SIGTERM
    output: bytes
    stop_seconds: float = 0.0


def _wait_for_port(port: int, container: Any, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
            return
        except httpx.TransportError:
            container.reload()
            if container.status == "exited":
                logs = container.logs().decode(errors="replace")
                pytest.fail(f"the service exited before answering on {port}:\n{logs[-2000:]}")
            time.sleep(0.1)
    pytest.fail(f"nothing answered on 127.0.0.1:{port}")


def _run_service(tag: str, probes: Probes) -> Behaviour:
    client = engine.client()
    container = client.containers.run(tag, detach=True, network_mode="host")
    try:
        _wait_for_port(probes.urls[0][0], container, time.monotonic() + 60)
        answers = []
        for port, path in probes.urls:
            response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=10.0)
            answers.append((path, response.status_code, response.content))
        start = time.monotonic()
        container.stop(timeout=10)
        stopped = time.monotonic() - start
        exit_code = container.wait(timeout=30)["StatusCode"]
        return Behaviour(tuple(answers), exit_code, b"", stopped)
    finally:
        container.remove(force=True)


def _run_job(tag: str, probes: Probes) -> Behaviour:
    # The docker CLI passes standard input simply; this is ground truth, not slimline's code.
    completed = subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", "none", tag],
        input=probes.stdin or b"",
        capture_output=True,
        timeout=120,
        check=False,
    )
    return Behaviour((), completed.returncode, completed.stdout)


def behaviour(tag: str, probes: Probes) -> Behaviour:
    return _run_service(tag, probes) if probes.service else _run_job(tag, probes)


@functools.cache
def original_behaviour(name: str) -> Behaviour:
    """Called with the example's lock held."""
    return behaviour(fat_image(name), probes_of(name))


@dataclass(frozen=True)
class SlimRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def report(self) -> dict[str, Any]:
        assert self.returncode in (0, 1), self.stderr[-3000:]
        report: dict[str, Any] = json.loads(self.stdout)
        return report


def slim(image: str, *arguments: str) -> SlimRun:
    start = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "slimline.cli", "slim", image, *arguments],
        capture_output=True,
        text=True,
        timeout=SLIM_TIMEOUT_SECONDS,
        check=False,
        cwd=ROOT,
    )
    return SlimRun(
        completed.returncode, completed.stdout, completed.stderr, time.monotonic() - start
    )


def remove_image(tag: str) -> None:
    import docker.errors

    with suppress(docker.errors.ImageNotFound):
        engine.client().images.remove(tag, force=True)


def tag_exists(tag: str) -> bool:
    import docker.errors

    try:
        engine.client().images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def slim_tag(name: str, mode: str, suffix: str = "") -> str:
    digest = fat_image(name).rsplit(":", 1)[1]
    return f"slimline-test/slim-{name}:{mode}{suffix}-{digest}"


def image_files(tag: str) -> Any:
    with open_image(f"docker:{tag}") as image:
        return read_image(image, capture_predicate()).files


def present(files: Any, path: str) -> bool:
    """Whether `path` exists in the image as something that resolves (a dangling link is not)."""
    return files.record(path) is not None and files.resolve(path) is not None


# --- the tests ---------------------------------------------------------------------------

# The config a slim image must keep from its original.
CONFIG_KEYS = ("Cmd", "Entrypoint", "Env", "WorkingDir", "User", "ExposedPorts")


# Neighbouring tests slim different examples, so that parallel workers seldom wait for the same
# example's lock.
@pytest.mark.parametrize("name", sorted(EXAMPLES_BY_NAME))
@pytest.mark.parametrize("mode", MODES)
def test_slim_image_is_smaller_and_behaves_the_same(name: str, mode: str) -> None:
    example = EXAMPLES_BY_NAME[name]
    client = engine.client()
    fat = fat_image(name)
    fat_id = client.images.get(fat).id
    tag = slim_tag(name, mode)
    runs = VERIFY_RUNS
    probes = probes_of(name)
    remove_image(tag)
    try:
        with example_lock(name):
            expected = original_behaviour(name)
            result = slim(
                fat,
                "--tag",
                tag,
                "--mode",
                mode,
                "--verify-runs",
                str(runs),
                "--format",
                "json",
                *probe_arguments(name),
            )
            assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            got = behaviour(tag, probes)
        report = result.report()

        # the report
        assert report["mode"] == mode
        assert report["tag"] == tag
        verification = report["verification"]
        assert verification["runs"] == verification["passed"] == runs, verification
        assert verification["failures"] == []
        original, slimmed = report["original"]["size_bytes"], report["slim"]["size_bytes"]
        assert 0 < slimmed < original
        assert slimmed / original <= example.ratios[mode], (slimmed, original)
        assert report["slim"]["files"] < report["original"]["files"]
        if mode != "static":  # static mode removes by kind of file and traces nothing
            assert 0 < report["traced"]["size_bytes"] <= slimmed
        if mode == "packages":  # the closure and little else (measured: at most 1.043)
            assert slimmed <= report["closure"]["size_bytes"] * CLOSURE_MARGIN
        assert report["removed"]["size_bytes"] > 0

        # the original is untouched; the slim image is one layer with the same config
        assert client.images.get(fat).id == fat_id
        fat_attrs, slim_attrs = client.images.get(fat).attrs, client.images.get(tag).attrs
        assert len(slim_attrs["RootFS"]["Layers"]) == 1
        for key in CONFIG_KEYS:
            assert slim_attrs["Config"].get(key) == fat_attrs["Config"].get(key), key
        assert slim_attrs["Config"]["Labels"].get("org.slimline.slimmed-from")

        # and it behaves the same when run here, without slimline
        assert got.answers == expected.answers
        assert (got.exit_code, got.output) == (expected.exit_code, expected.output)
        if probes.service:
            assert all(status == 200 for _, status, _ in got.answers)
            assert got.stop_seconds < STOP_SECONDS
        else:
            assert got.exit_code == 0 and got.output

        if mode != "static":
            _check_contents(example, mode, tag, report)
    finally:
        remove_image(tag)


def _check_contents(example: Example, mode: str, tag: str, report: dict[str, Any]) -> None:
    files = image_files(tag)
    # the reported size is what the written image holds: its regular files' bytes
    regular = sum(record.size for _, record in files.walk() if record.kind is EntryKind.FILE)
    assert report["slim"]["size_bytes"] == regular
    # what the report says about shells and package managers is what the image holds
    for path in (*report["remaining"]["shells"], *report["remaining"]["package_managers"]):
        assert path in files, path
    for path in (*report["removed"]["shells"], *report["removed"]["package_managers"]):
        assert not present(files, path), path
    remaining = {package["name"] for package in report["remaining"]["packages"]}
    assert not remaining & BUILD_TOOLS
    if mode == "files":
        for path in SHELLS:
            if path not in example.shells_needed:
                assert not present(files, path), f"{path} left in the files-mode image"
        for path in PACKAGE_MANAGERS:
            assert not present(files, path), f"{path} left in the files-mode image"
        assert not report["remaining"]["package_managers"]
    if mode == "packages":
        # the package database left in the image lists exactly what the report says remains
        _, packages = catalog_image(files)
        listed = {(p.name, p.version, p.ecosystem) for p in packages}
        reported = {
            (p["name"], p["version"], p["ecosystem"]) for p in report["remaining"]["packages"]
        }
        assert listed == reported
        assert report["slim"]["packages"] == len(reported) < report["original"]["packages"]
        # counted, not compared as sets: the same name and version can be installed twice
        # (nested node_modules), one copy kept and the other removed
        removed = report["removed"]["packages"]
        assert len(removed) + report["slim"]["packages"] == report["original"]["packages"]


def test_a_needed_file_excluded_fails_verification_and_tags_nothing() -> None:
    name = "python-script"
    tag = slim_tag(name, "files", "-excluded")
    remove_image(tag)
    with example_lock(name):
        result = slim(
            fat_image(name),
            "--tag",
            tag,
            "--mode",
            "files",
            "--runs",
            "1",
            "--verify-runs",
            "1",
            "--exclude",
            "/app/orders.csv",
        )
    assert result.returncode == 1, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    message = result.stdout + result.stderr
    assert "app/orders.csv" in message
    assert "own command" in message  # the probe: a job run as the image runs it
    assert not tag_exists(tag)


def test_an_excluded_file_is_named_in_the_json_failures() -> None:
    name = "c-tool"
    tag = slim_tag(name, "files", "-excluded")
    remove_image(tag)
    with example_lock(name):
        result = slim(
            fat_image(name),
            "--tag",
            tag,
            "--mode",
            "files",
            "--runs",
            "1",
            "--verify-runs",
            "1",
            "--format",
            "json",
            "--exclude",
            "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
            *probe_arguments(name),
        )
    assert result.returncode == 1, result.stderr[-3000:]
    verification = result.report()["verification"]
    assert verification["passed"] == 0
    (failure, *_) = verification["failures"]
    assert failure["probe"]
    # the loader looks for the soname, a link to the excluded file
    missing = {path.lstrip("/") for path in failure["missing"]}
    assert "usr/lib/x86_64-linux-gnu/libz.so.1" in missing
    assert not tag_exists(tag)


def test_output_writes_an_archive_the_engine_loads_and_runs(tmp_path: Path) -> None:
    name = "c-tool"
    archive = tmp_path / "zsum-slim.tar"
    with example_lock(name):
        expected = original_behaviour(name)
        result = slim(
            fat_image(name),
            "--output",
            str(archive),
            "--mode",
            "files",
            "--verify-runs",
            "1",
            *probe_arguments(name),
        )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert archive.stat().st_size > 0
    (loaded, *_) = engine.client().images.load(archive.read_bytes())
    try:
        got = _run_job(loaded.id, probes_of(name))
        assert (got.exit_code, got.output) == (expected.exit_code, expected.output)
    finally:
        remove_image(loaded.id)
