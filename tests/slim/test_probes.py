"""Probe specifications: how they are spelled, named and grouped."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimline.slim.errors import SlimError
from slimline.slim.probes import (
    OWN_COMMAND,
    CommandCheck,
    HttpCheck,
    ProbeSet,
    ScriptCheck,
    parse_http_check,
)


@pytest.mark.parametrize(
    ("text", "port", "path"),
    [
        ("http://127.0.0.1:8000/health", 8000, "/health"),
        ("http://localhost:8000/a/b?x=1", 8000, "/a/b?x=1"),
        (":8080/health", 8080, "/health"),
        ("8080/health", 8080, "/health"),
        ("8080", 8080, "/"),
        ("127.0.0.1:9/x", 9, "/x"),
        ("localhost:9", 9, "/"),
        ("  http://127.0.0.1:80  ", 80, "/"),
    ],
)
def test_http_checks_are_spelled_many_ways(text: str, port: int, path: str) -> None:
    check = parse_http_check(text)
    assert (check.port, check.path) == (port, path)
    assert check.url == f"http://127.0.0.1:{port}{path}"


@pytest.mark.parametrize(
    "text",
    [
        "http://example.com:80/",
        "http://10.0.0.1:80/",
        "10.0.0.1:80/",
        "https://127.0.0.1:8443/",
        "http://127.0.0.1/",
        "http://127.0.0.1:99999/",
        "http://[::1]:80/",
    ],
)
def test_http_checks_only_ever_reach_the_loopback_address(text: str) -> None:
    with pytest.raises(SlimError):
        parse_http_check(text)


def test_http_check_expectations_and_validation() -> None:
    check = parse_http_check(":80/x", expect_status=204, expect_body="ok")
    assert (check.expect_status, check.expect_body) == (204, "ok")
    with pytest.raises(SlimError, match="not a TCP port"):
        HttpCheck(0, "/")
    with pytest.raises(SlimError, match="must start with /"):
        HttpCheck(80, "x")


def test_commands_are_split_like_a_shell_splits_them() -> None:
    check = CommandCheck.from_text("python3 -c 'print(1)'  --flag", expect_exit=0)
    assert check.argv == ("python3", "-c", "print(1)", "--flag")
    assert check.expect_exit == 0
    assert check.describe() == "command python3 -c 'print(1)' --flag"
    with pytest.raises(SlimError, match="cannot split"):
        CommandCheck.from_text("echo 'unbalanced")
    with pytest.raises(SlimError, match="empty"):
        CommandCheck.from_text("   ")
    with pytest.raises(SlimError, match="empty"):
        CommandCheck(())


def test_scripts_must_be_executable_files(tmp_path: Path) -> None:
    script = tmp_path / "check.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(SlimError, match="not executable"):
        ScriptCheck.from_path(str(script))
    script.chmod(0o755)
    assert ScriptCheck.from_path(str(script)).describe() == f"script {script}"
    with pytest.raises(SlimError, match="not a file"):
        ScriptCheck.from_path(str(tmp_path))


def test_a_probe_set_is_a_service_when_anything_asks_it_while_it_runs() -> None:
    assert not ProbeSet().is_service
    assert not ProbeSet(commands=(CommandCheck(("ls",)),)).is_service
    assert ProbeSet(service=True).is_service
    assert ProbeSet(http=(HttpCheck(80),)).is_service
    assert ProbeSet(scripts=(ScriptCheck("/bin/true"),)).is_service


def test_observation_keys_are_stable_distinct_and_in_run_order() -> None:
    probes = ProbeSet(
        commands=(CommandCheck(("ls", "-l")),),
        http=(HttpCheck(8000, "/a"),),
        scripts=(ScriptCheck("/bin/true"),),
    )
    assert probes.observation_keys() == (
        OWN_COMMAND,
        "GET http://127.0.0.1:8000/a",
        "command ls -l",
        "script /bin/true",
    )
    job = ProbeSet(commands=(CommandCheck(("ls",)), CommandCheck(("id",))))
    assert job.observation_keys() == (OWN_COMMAND, "command ls", "command id")


def test_a_probe_given_twice_or_a_bad_timeout_is_refused() -> None:
    with pytest.raises(SlimError, match="given twice"):
        ProbeSet(commands=(CommandCheck(("ls",)), CommandCheck(("ls",), expect_exit=0)))
    with pytest.raises(SlimError, match="timeout"):
        ProbeSet(timeout=0)
