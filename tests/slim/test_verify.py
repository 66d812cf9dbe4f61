"""Expectations from the original's runs and a slim image's run compared with them."""

from __future__ import annotations

import pytest

from slimline.slim.errors import SlimError
from slimline.slim.probes import OWN_COMMAND, CommandCheck, HttpCheck, ProbeSet, ScriptCheck
from slimline.slim.run import Observation, RunRecord
from slimline.slim.trace import Trace
from slimline.slim.verify import Difference, compare, expectations, missing_files

LS = CommandCheck(("ls", "/app"))
HEALTH = HttpCheck(8000, "/health")
SCRIPT = ScriptCheck("/checks/smoke")
JOB = ProbeSet(commands=(LS,))
SERVICE = ProbeSet(commands=(LS,), http=(HEALTH,), scripts=(SCRIPT,))


def _exit(
    probe: str, code: int | None, output: bytes = b"", *, error: str = "", stderr: bytes = b""
) -> Observation:
    return Observation(probe, code, None, output, False, error, stderr)


def _http(status: int, body: bytes = b"ok") -> Observation:
    return Observation(HEALTH.describe(), None, status, body, False)


def _job(own: Observation | None = None, ls: Observation | None = None) -> RunRecord:
    return RunRecord(
        (
            own or _exit(OWN_COMMAND, 0, b"done\n"),
            ls or _exit(LS.describe(), 0, b"a\nb\n"),
        ),
        None,
    )


def _service(
    own: Observation | None = None,
    http: Observation | None = None,
    ls: Observation | None = None,
    script: Observation | None = None,
) -> RunRecord:
    return RunRecord(
        (
            own or _exit(OWN_COMMAND, None, b"log line with a time 12:00:01\n"),
            http or _http(200),
            ls or _exit(LS.describe(), 0, b"a\nb\n"),
            script or _exit(SCRIPT.describe(), 0, b"whatever\n"),
        ),
        None,
    )


def test_identical_runs_expect_exit_codes_and_outputs() -> None:
    expected = expectations([_job(), _job()], JOB)
    own = expected.get(OWN_COMMAND)
    assert own is not None and (own.exit_code, own.output) == (0, b"done\n")
    assert expected.notes == ()
    assert compare(expected, _job()) == []


def test_output_that_varies_between_runs_is_not_compared_and_says_so() -> None:
    expected = expectations(
        [_job(own=_exit(OWN_COMMAND, 0, b"t=1\n")), _job(own=_exit(OWN_COMMAND, 0, b"t=2\n"))],
        JOB,
    )
    own = expected.get(OWN_COMMAND)
    assert own is not None and own.output is None
    assert expected.notes == (
        f"{OWN_COMMAND}: output varies between runs; only the exit code is compared",
    )
    assert compare(expected, _job(own=_exit(OWN_COMMAND, 0, b"t=3\n"))) == []


def test_an_original_that_is_not_stable_cannot_be_verified() -> None:
    with pytest.raises(SlimError, match=r"^the original image is not stable under probe "):
        expectations([_job(), _job(ls=_exit(LS.describe(), 2))], JOB)
    with pytest.raises(SlimError, match="still running at the deadline in run 2"):
        expectations([_job(), _job(own=Observation(OWN_COMMAND, None, None, b"", True))], JOB)


def test_an_original_that_fails_an_explicit_expectation_cannot_be_verified() -> None:
    strict = ProbeSet(commands=(CommandCheck(("ls", "/app"), expect_exit=3),))
    with pytest.raises(SlimError, match="fails probe 'command ls /app': exit code 3 expected"):
        expectations([_job()], strict)
    wants = ProbeSet(commands=(CommandCheck(("ls", "/app"), expect_output="zzz"),))
    with pytest.raises(SlimError, match="does not contain 'zzz'"):
        expectations([_job()], wants)
    with pytest.raises(SlimError, match="cannot start"):
        expectations([_job(ls=_exit(LS.describe(), None, error="cannot start: exec: ls"))], JOB)


def test_explicit_expectations_win_over_the_observed_output() -> None:
    probes = ProbeSet(commands=(CommandCheck(("ls", "/app"), expect_output="a"),))
    expected = expectations([_job(), _job()], probes)
    assert compare(expected, _job(ls=_exit(LS.describe(), 0, b"a\nc\n"))) == []
    found = compare(expected, _job(ls=_exit(LS.describe(), 0, b"x\n")))
    assert found == [Difference(LS.describe(), "the output should contain 'a'; got 'x'")]


def test_a_different_exit_code_names_the_last_error_line() -> None:
    expected = expectations([_job()], JOB)
    failed = _exit(LS.describe(), 127, stderr=b"warming up\nls: not found\n\n")
    assert compare(expected, _job(ls=failed)) == [
        Difference(
            LS.describe(), "exit code 0 expected, got exit code 127; stderr says: 'ls: not found'"
        )
    ]


def test_changed_output_and_errors_are_one_line_each() -> None:
    expected = expectations([_job()], JOB)
    changed = compare(expected, _job(ls=_exit(LS.describe(), 0, b"a\nc\n")))
    assert changed == [
        Difference(LS.describe(), "the output differs from the original's: line 2 was 'b', is 'c'")
    ]
    shorter = compare(expected, _job(ls=_exit(LS.describe(), 0, b"a\n")))
    assert shorter[0].difference.endswith("2 lines expected, got 1")
    errors = compare(expected, _job(own=_exit(OWN_COMMAND, None, error="cannot start: exec: x")))
    assert errors == [Difference(OWN_COMMAND, "cannot start: exec: x")]
    assert compare(expected, RunRecord((), None)) == [
        Difference(OWN_COMMAND, "not run"),
        Difference(LS.describe(), "not run"),
    ]
    for difference in changed + shorter + errors:
        assert "\n" not in difference.difference


def test_a_timed_out_job_is_expected_to_time_out_again() -> None:
    hanging = Observation(OWN_COMMAND, None, None, b"", True)
    expected = expectations([_job(own=hanging)], JOB)
    assert compare(expected, _job(own=hanging)) == []
    assert compare(expected, _job(own=_exit(OWN_COMMAND, 1))) == [
        Difference(OWN_COMMAND, "still running at the deadline expected, got exit code 1")
    ]


def test_services_compare_status_bodies_commands_and_scripts_but_not_logs() -> None:
    expected = expectations([_service(), _service()], SERVICE)
    assert compare(expected, _service(own=_exit(OWN_COMMAND, None, b"other log\n"))) == []
    assert compare(expected, _service(http=_http(500))) == [
        Difference(HEALTH.describe(), "HTTP status 200 expected, got HTTP status 500")
    ]
    assert compare(expected, _service(script=_exit(SCRIPT.describe(), 0, b"other\n"))) == []
    assert compare(expected, _service(script=_exit(SCRIPT.describe(), 1))) == [
        Difference(SCRIPT.describe(), "exit code 0 expected, got exit code 1")
    ]
    exited = compare(expected, _service(own=_exit(OWN_COMMAND, 2, stderr=b"boom\n")))
    assert exited == [
        Difference(OWN_COMMAND, "kept running expected, got exit code 2; stderr says: 'boom'")
    ]


def test_a_failing_script_or_silent_service_in_the_original_is_an_error() -> None:
    with pytest.raises(SlimError, match="fails probe 'script /checks/smoke': exit code 1"):
        expectations([_service(script=_exit(SCRIPT.describe(), 1))], SERVICE)
    silent = Observation(HEALTH.describe(), None, None, b"", False, "connection refused")
    with pytest.raises(SlimError, match="connection refused"):
        expectations([_service(http=silent)], SERVICE)
    with pytest.raises(SlimError, match="HTTP status 204 expected"):
        expectations([_service()], ProbeSet(http=(HttpCheck(8000, "/health", 204),)))


def test_http_bodies_that_vary_leave_only_the_status() -> None:
    expected = expectations(
        [_service(http=_http(200, b"1")), _service(http=_http(200, b"2"))], SERVICE
    )
    assert f"{HEALTH.describe()}: output varies between runs; only the status is compared" in (
        expected.notes
    )
    assert compare(expected, _service(http=_http(200, b"3"))) == []


def test_nothing_to_compare_with_is_an_error() -> None:
    with pytest.raises(SlimError):
        expectations([], JOB)


def test_missing_files_are_those_the_original_has() -> None:
    trace = Trace(
        frozenset({"usr/lib/a.so", "etc/x.conf", "nowhere", "app/found"}),
        frozenset(),
        frozenset({"usr/lib/a.so", "etc/x.conf", "nowhere"}),
    )
    original = {"usr/lib/a.so", "etc/x.conf", "app/found"}
    assert missing_files(trace, original.__contains__) == ["etc/x.conf", "usr/lib/a.so"]
