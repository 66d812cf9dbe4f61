"""Is the slim image the same as the original, as far as the probes can tell?

The original's runs set the expectations: per probe, the exit code (or HTTP status, or "still
running") every run agreed on, and the output when every run printed the same. A check's
explicit expectations (``--expect-exit``, ``--expect-output``...) win over what was observed,
and the original must meet them. An original that does not behave the same in every run, or
fails an explicit expectation, cannot be used to verify anything: that is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from slimline.slim.errors import SlimError
from slimline.slim.probes import OWN_COMMAND, CommandCheck, HttpCheck, ProbeSet, ScriptCheck
from slimline.slim.run import Observation, RunRecord
from slimline.slim.trace import Trace

# How much of an output line a difference quotes.
QUOTE_CHARS = 80


@dataclass(frozen=True)
class Expectation:
    """What a probe must observe: these ``exit_code``, ``status`` and ``timed_out`` exactly
    (None for an exit code: still running, or not a command), the standard output or body
    equal to ``output`` when set, and containing ``contains`` when set."""

    probe: str
    exit_code: int | None = None
    status: int | None = None
    timed_out: bool = False
    output: bytes | None = None
    contains: str | None = None


@dataclass(frozen=True)
class Expectations:
    items: tuple[Expectation, ...]
    # what is not compared, and why ("output varies between runs; ...")
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Expectation]:
        return iter(self.items)

    def get(self, probe: str) -> Expectation | None:
        for item in self.items:
            if item.probe == probe:
                return item
        return None


@dataclass(frozen=True)
class Difference:
    probe: str
    difference: str  # one line


Check = CommandCheck | HttpCheck | ScriptCheck


def expectations(reference: Sequence[RunRecord], probes: ProbeSet) -> Expectations:
    """The expectations set by the runs of the original image."""
    if not reference:
        raise SlimError("no run of the original image to compare with")
    every: list[Check] = [*probes.commands, *probes.http, *probes.scripts]
    checks = {check.describe(): check for check in every}
    items: list[Expectation] = []
    notes: list[str] = []
    for key in probes.observation_keys():
        observed = []
        for record in reference:
            observation = record.get(key)
            if observation is None:
                raise SlimError(f"the original image was not asked {key!r}")
            if observation.error:
                raise SlimError(f"the original image fails probe {key!r}: {observation.error}")
            observed.append(observation)
        _same_outcome(key, observed)
        first = observed[0]
        check = checks.get(key)
        contains = _explicit(key, check, observed)
        compare_output = contains is None and _output_compared(key, check, probes)
        output = None
        if compare_output:
            if all(o.output == first.output for o in observed):
                output = first.output
            else:
                what = "status" if isinstance(check, HttpCheck) else "exit code"
                notes.append(f"{key}: output varies between runs; only the {what} is compared")
        items.append(
            Expectation(key, first.exit_code, first.status, first.timed_out, output, contains)
        )
    return Expectations(tuple(items), tuple(notes))


def _outcome(observation: Observation) -> str:
    if observation.timed_out:
        return "still running at the deadline"
    if observation.status is not None:
        return f"HTTP status {observation.status}"
    if observation.exit_code is None:
        return "kept running"
    return f"exit code {observation.exit_code}"


def _same_outcome(key: str, observed: Sequence[Observation]) -> None:
    outcomes = [_outcome(o) for o in observed]
    if len(set(outcomes)) > 1:
        runs = ", ".join(f"{outcome} in run {n}" for n, outcome in enumerate(outcomes, start=1))
        raise SlimError(f"the original image is not stable under probe {key!r}: {runs}")


def _explicit(key: str, check: Check | None, observed: Sequence[Observation]) -> str | None:
    """Check the original against the explicit expectations of ``check``; the text its output
    must contain, if any."""
    first = observed[0]
    if isinstance(check, ScriptCheck) and first.exit_code != 0:
        raise SlimError(f"the original image fails probe {key!r}: {_outcome(first)}{_said(first)}")
    wanted_exit = check.expect_exit if isinstance(check, CommandCheck) else None
    if wanted_exit is not None and first.exit_code != wanted_exit:
        raise SlimError(
            f"the original image fails probe {key!r}: exit code {wanted_exit} expected, "
            f"got {_outcome(first)}{_said(first)}"
        )
    wanted_status = check.expect_status if isinstance(check, HttpCheck) else None
    if wanted_status is not None and first.status != wanted_status:
        raise SlimError(
            f"the original image fails probe {key!r}: HTTP status {wanted_status} expected, "
            f"got {_outcome(first)}"
        )
    contains = None
    if isinstance(check, CommandCheck):
        contains = check.expect_output
    elif isinstance(check, HttpCheck):
        contains = check.expect_body
    if contains is not None:
        for run, observation in enumerate(observed, start=1):
            if contains.encode() not in observation.output:
                raise SlimError(
                    f"the original image fails probe {key!r}: the output of run {run} does not "
                    f"contain {_quote(contains)}"
                )
    return contains


def _output_compared(key: str, check: Check | None, probes: ProbeSet) -> bool:
    """Scripts pass on their exit code alone; a service's own output is a log, not a result."""
    if isinstance(check, ScriptCheck):
        return False
    return not (key == OWN_COMMAND and probes.is_service)


def compare(expected: Expectations, candidate: RunRecord) -> list[Difference]:
    """How a run of the slim image differs from the expectations; empty when it does not."""
    found: list[Difference] = []
    for expectation in expected:
        observation = candidate.get(expectation.probe)
        difference = "not run" if observation is None else _difference(expectation, observation)
        if difference:
            found.append(Difference(expectation.probe, difference))
    return found


def _difference(expectation: Expectation, observation: Observation) -> str:
    if observation.error:
        return f"{observation.error}{_said(observation)}"
    expected = _outcome_of(expectation)
    got = _outcome(observation)
    if expected != got:
        return f"{expected} expected, got {got}{_said(observation)}"
    if expectation.contains is not None and expectation.contains.encode() not in observation.output:
        return (
            f"the output should contain {_quote(expectation.contains)}; "
            f"got {_quote(_first_line(observation.output))}"
        )
    if expectation.output is not None and observation.output != expectation.output:
        return f"the output differs from the original's: {_first_change(expectation.output, observation.output)}"
    return ""


def _outcome_of(expectation: Expectation) -> str:
    return _outcome(
        Observation(
            expectation.probe,
            expectation.exit_code,
            expectation.status,
            b"",
            expectation.timed_out,
        )
    )


def missing_files(trace: Trace, original: Callable[[str], bool]) -> list[str]:
    """The paths a traced run of the slim image looked for in vain that the original has."""
    return sorted(path for path in trace.missing if original(path))


# ---- one-line quotes ------------------------------------------------------------------------


def _quote(text: str) -> str:
    short = text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
    return repr(short)


def _first_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[0] if lines else ""


def _said(observation: Observation) -> str:
    """ "; stderr says: <its last line>" when the program said something there."""
    lines = [
        line.strip()
        for line in observation.stderr.decode("utf-8", "replace").splitlines()
        if line.strip()
    ]
    return f"; stderr says: {_quote(lines[-1])}" if lines else ""


def _first_change(before: bytes, after: bytes) -> str:
    old = before.decode("utf-8", "replace").splitlines()
    new = after.decode("utf-8", "replace").splitlines()
    for number, (was, now) in enumerate(zip(old, new, strict=False), start=1):
        if was != now:
            return f"line {number} was {_quote(was)}, is {_quote(now)}"
    if len(old) != len(new):
        return f"{len(old)} lines expected, got {len(new)}"
    return f"{len(before)} bytes expected, got {len(after)}"  # only line endings differ
