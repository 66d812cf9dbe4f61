"""Observe how an image behaves under a probe, and tell two observations apart.

Same behaviour means: for a command, the same exit code and the same standard output (standard
error carries warnings and timings that legitimately change); for an HTTP service, the same
status and body for every path. An observation of the original image that cannot serve as a
reference (it timed out under an explicit probe, or never served) raises, because nothing can be
concluded about the fix; the same failure of the fixed image is a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slimline.engine.errors import ProbeFailed, ProbeTimeout
from slimline.engine.probes import HttpProbe, Probe
from slimline.engine.run import HttpResponse, RunResult, probe_service, run_command

_SHOWN_BYTES = 60


@dataclass(frozen=True)
class Behaviour:
    """One image under one probe."""

    probe: Probe
    run: RunResult
    responses: tuple[HttpResponse, ...] = ()
    served: bool = False  # HTTP probes: whether the service answered at all

    def summary(self) -> str:
        if isinstance(self.probe, HttpProbe):
            if not self.served:
                return "did not serve"
            return ", ".join(f"GET {r.path} -> {r.status}" for r in self.responses)
        if self.run.timed_out:
            return f"still running after {self.run.seconds:.0f} s"
        return f"exit {self.run.exit_code}, {len(self.run.stdout)} bytes of output"


def observe(client: Any, image: str, probe: Probe, *, timeout: float, role: str) -> Behaviour:
    """Run ``probe`` against ``image``. Raises for a reference (``role == "original"``) that
    cannot be compared with anything."""
    if isinstance(probe, HttpProbe):
        service = probe_service(client, image, probe, timeout=timeout)
        behaviour = Behaviour(probe, service.run, service.responses, service.served)
        if role == "original" and not service.served:
            raise _not_served(behaviour, role, timeout)
        for response in service.responses:
            if role == "original" and response.error:
                raise ProbeFailed(
                    f"GET {probe.url(response.path)} failed on the original image: "
                    f"{response.error}",
                    role=role,
                )
        return behaviour
    result = run_command(
        client, image, argv=probe.argv, stdin=probe.stdin, env=dict(probe.env), timeout=timeout
    )
    explicit = bool(probe.argv) or probe.stdin is not None
    if role == "original" and result.timed_out and explicit:
        raise ProbeTimeout(
            f"the probe ({probe.describe()}) did not finish in {timeout:.0f} s on the original "
            "image",
            role=role,
        )
    return Behaviour(probe, result)


def _last_line(data: bytes) -> str:
    lines = data.decode(errors="replace").strip().splitlines()
    return lines[-1][:200] if lines else ""


def _not_served(behaviour: Behaviour, role: str, timeout: float) -> ProbeFailed:
    assert isinstance(behaviour.probe, HttpProbe)
    where = f"127.0.0.1:{behaviour.probe.port}"
    if behaviour.run.exit_code is not None:
        said = _last_line(behaviour.run.stderr) or _last_line(behaviour.run.stdout)
        return ProbeFailed(
            f"the {role} image exited with code {behaviour.run.exit_code} before serving on "
            f"{where}" + (f": {said}" if said else ""),
            role=role,
        )
    return ProbeTimeout(f"the {role} image did not answer on {where} in {timeout:.0f} s", role=role)


def _shown(data: bytes) -> str:
    text = data.decode(errors="replace")
    return repr(text if len(text) <= _SHOWN_BYTES else text[:_SHOWN_BYTES] + "...")


def differences(original: Behaviour, fixed: Behaviour) -> list[str]:
    """One line per way ``fixed`` behaves differently from ``original``; empty when the same."""
    if isinstance(original.probe, HttpProbe):
        return _http_differences(original, fixed)
    return _command_differences(original.run, fixed.run)


def _command_differences(original: RunResult, fixed: RunResult) -> list[str]:
    if original.timed_out and fixed.timed_out:
        return []  # two services that keep running: as alike as a command can tell
    if original.timed_out:
        return [f"the original keeps running; the fixed image exits with code {fixed.exit_code}"]
    if fixed.timed_out:
        return [f"the original exits with code {original.exit_code}; the fixed image keeps running"]
    found: list[str] = []
    if original.exit_code != fixed.exit_code:
        said = _last_line(fixed.stderr)
        found.append(
            f"exit code {original.exit_code} (original) vs {fixed.exit_code} (fixed)"
            + (f"; the fixed image says: {said}" if said else "")
        )
    if original.stdout != fixed.stdout:
        found.append(
            f"output {_shown(original.stdout)} (original) vs {_shown(fixed.stdout)} (fixed)"
        )
    return found


def _http_differences(original: Behaviour, fixed: Behaviour) -> list[str]:
    if not fixed.served:
        assert isinstance(fixed.probe, HttpProbe)
        return [str(_not_served(fixed, "fixed", fixed.run.seconds))]
    # Both served the first path, so both answered every path of the same probe.
    found: list[str] = []
    for before, after in zip(original.responses, fixed.responses, strict=True):
        if after.error:
            found.append(
                f"GET {before.path}: status {before.status} (original) vs {after.error} (fixed)"
            )
        elif before.status != after.status:
            found.append(
                f"GET {before.path}: status {before.status} (original) vs {after.status} (fixed)"
            )
        elif before.body != after.body:
            found.append(
                f"GET {before.path}: body {_shown(before.body)} (original) vs {_shown(after.body)} "
                "(fixed)"
            )
    return found
