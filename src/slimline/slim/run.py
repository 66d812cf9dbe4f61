"""One run of an image under a probe set, traced or not: what each probe observed.

A job image runs its own command without a network until it exits (or the timeout), then
each command check runs in a fresh container with the entrypoint cleared. A service image is
started on the host network (the only way to reach it on an engine without bridges; it is
only ever contacted on 127.0.0.1), asked once its ports answer, and stopped as ``docker stop``
would. The program runs exactly as Docker runs it: the image's entrypoint and command, its
environment, working directory and user; when traced, strace only stands beside it.

Every container is labelled ``org.slimline.probe=1`` and removed afterwards, whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from slimline.engine.probes import LOOPBACK
from slimline.engine.run import (
    MAX_OUTPUT_BYTES,
    POLL_SECONDS,
    port_answers,
    start_with_input,
    wait_for_exit,
)
from slimline.image.sources.base import ImageConfig
from slimline.slim.errors import SlimError
from slimline.slim.probes import OWN_COMMAND, CommandCheck, HttpCheck, ProbeSet, ScriptCheck
from slimline.slim.trace import Trace, Tracer, start_failure

PROBE_LABEL = "org.slimline.probe"
# the run a container belongs to (RunRecord.label), to find it among others
RUN_LABEL = "org.slimline.run"
# Between the stop signal and SIGKILL, as `docker stop -t`.
STOP_GRACE_SECONDS = 3
# A service without ports to wait for gets this long to start before it is asked anything.
SETTLE_SECONDS = 1.0
HTTP_TIMEOUT_SECONDS = 10.0
_EXEC_FAILED = "OCI runtime exec failed"


@dataclass(frozen=True)
class Observation:
    """What one probe saw. The image's own command and command checks: ``exit_code`` (None
    when still running at the deadline: ``timed_out``; for a service, None while it kept
    running) and standard output. HTTP checks: ``status`` and the body in ``output``. Script
    checks: ``exit_code``. ``error`` says why there is no result (the container could not start,
    nothing answered); ``stderr`` is kept for the report and never compared."""

    probe: str
    exit_code: int | None
    status: int | None
    output: bytes
    timed_out: bool
    error: str = ""
    stderr: bytes = b""


@dataclass(frozen=True)
class RunRecord:
    observations: tuple[Observation, ...]
    trace: Trace | None
    label: str = ""

    def get(self, probe: str) -> Observation | None:
        for observation in self.observations:
            if observation.probe == probe:
                return observation
        return None


def run_image(
    client: Any,
    image: str,
    config: ImageConfig,
    probes: ProbeSet,
    *,
    tracer: Tracer | None,
    label: str,
) -> RunRecord:
    """Run ``image`` (an engine reference whose config is ``config``) under ``probes``; with a
    ``tracer``, every program the run starts is traced and the record carries the trace."""
    if tracer is not None:
        tracer.check_platform(config)
    runner = _Runner(client, image, config, probes, tracer, label)
    return runner.service() if probes.is_service else runner.job()


def _one_line(text: object) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _cut(data: bytes | None) -> bytes:
    return bytes(data or b"")[:MAX_OUTPUT_BYTES]


def exposed_tcp_ports(config: ImageConfig) -> list[int]:
    """The TCP ports the image exposes ("8000/tcp", "8000"), in order."""
    ports = []
    for spelled in config.exposed_ports:
        number, _, protocol = spelled.partition("/")
        if number.isdigit() and protocol in ("", "tcp") and int(number) not in ports:
            ports.append(int(number))
    return ports


class _Runner:
    def __init__(
        self,
        client: Any,
        image: str,
        config: ImageConfig,
        probes: ProbeSet,
        tracer: Tracer | None,
        label: str,
    ) -> None:
        self.client = client
        self.image = image
        self.config = config
        self.probes = probes
        self.tracer = tracer
        self.label = label
        self.workdir = config.workdir or "/"

    # ---- jobs ---------------------------------------------------------------------------

    def job(self) -> RunRecord:
        observations = []
        traces = []
        own, trace = self._job_container(OWN_COMMAND, None, self.probes.stdin)
        observations.append(own)
        traces.append(trace)
        for check in self.probes.commands:
            observation, trace = self._job_container(check.describe(), check.argv, None)
            observations.append(observation)
            traces.append(trace)
        return RunRecord(tuple(observations), self._merged(traces), self.label)

    def _job_container(
        self, key: str, argv: Sequence[str] | None, stdin: bytes | None
    ) -> tuple[Observation, Trace | None]:
        """``argv`` as the whole command (None: the image's own), to completion."""
        entrypoint = self._entrypoint(argv)
        if entrypoint is None and self.tracer is not None:
            return Observation(key, None, None, b"", False, "the image has no command"), Trace()
        with self._container(entrypoint, "none", stdin is not None) as container:
            failure = self._start(container, stdin)
            if failure:
                return Observation(key, None, None, b"", False, failure), self._nothing_traced()
            exit_code = wait_for_exit(container, self.probes.timeout)
            if exit_code is None:
                _stop(container)
            stdout, stderr = _logs(container)
            trace = self._collect(container, stderr)
        observation = Observation(key, exit_code, None, stdout, exit_code is None, "", stderr)
        return self._unless_unstarted(observation), trace

    # ---- services -----------------------------------------------------------------------

    def service(self) -> RunRecord:
        probes = self.probes
        exposed = exposed_tcp_ports(self.config)
        # what must answer before the service is asked anything
        ports = [check.port for check in probes.http] or exposed
        for port in sorted(set(ports)):
            if port_answers(port):
                raise SlimError(
                    f"something already listens on {LOOPBACK}:{port}; the probes would ask it "
                    "instead of the image"
                )
        checks: list[HttpCheck | CommandCheck | ScriptCheck] = [
            *probes.http,
            *probes.commands,
            *probes.scripts,
        ]
        entrypoint = self._entrypoint(None)
        if entrypoint is None and self.tracer is not None:
            error = "the image has no command"
            observations = tuple(_not_run(key, error) for key in probes.observation_keys())
            return RunRecord(observations, Trace(), self.label)
        with self._container(entrypoint, "host", probes.stdin is not None) as container:
            failure = self._start(container, probes.stdin)
            if failure:
                unstarted = tuple(_not_run(key, failure) for key in probes.observation_keys())
                return RunRecord(unstarted, self._nothing_traced(), self.label)
            error, exited = self._await(container, ports)
            results: list[Observation] = []
            messages: list[bytes] = []
            for number, check in enumerate(checks, start=1):
                if exited is not None:
                    results.append(
                        _not_run(check.describe(), f"the service exited with code {exited} first")
                    )
                elif isinstance(check, HttpCheck):
                    results.append(_get(check, self.probes.timeout))
                elif isinstance(check, CommandCheck):
                    observation = self._exec(container, check, f"exec-{number}")
                    messages.append(observation.stderr)
                    results.append(observation)
                else:
                    results.append(_script(check, container.id, exposed, probes.timeout))
            if exited is None:
                exited = _exit_code_if_stopped(container)
            if exited is None:
                _stop(container)
            stdout, stderr = _logs(container)
            own = self._unless_unstarted(
                Observation(OWN_COMMAND, exited, None, stdout, False, error, stderr)
            )
            trace = self._collect(container, stderr, *messages)
        return RunRecord((own, *results), trace, self.label)

    def _await(self, container: Any, ports: Sequence[int]) -> tuple[str, int | None]:
        """Wait until every port answers: ("", None) when they do; the container's exit
        code when it exits first; an error when the timeout passes first."""
        deadline = time.monotonic() + self.probes.timeout
        pending = list(dict.fromkeys(ports))
        settle = time.monotonic() + SETTLE_SECONDS if not pending else 0.0
        while True:
            pending = [port for port in pending if not port_answers(port)]
            exited = _exit_code_if_stopped(container)
            if exited is not None:
                return "", exited
            if not pending and time.monotonic() >= settle:
                return "", None
            if time.monotonic() >= deadline:
                where = ", ".join(f"{LOOPBACK}:{port}" for port in pending)
                return f"nothing answered on {where} within {self.probes.timeout:g}s", None
            time.sleep(POLL_SECONDS)

    def _exec(self, container: Any, check: CommandCheck, output_name: str) -> Observation:
        """``docker exec`` of the check inside the running container, up to the timeout."""
        argv = list(check.argv)
        if self.tracer is not None:
            # not daemonized: an exec'd program must end with the exec, not be adopted by PID 1
            argv = self.tracer.wrap(argv, output_name, daemonize=False)
        key = check.describe()
        outcome: dict[str, Any] = {}

        def execute() -> None:
            try:
                outcome["result"] = container.exec_run(argv, demux=True)
            except Exception as exc:  # reported as the probe's error, never lost in a thread
                outcome["error"] = exc

        worker = threading.Thread(target=execute, name=f"slimline exec {key}", daemon=True)
        worker.start()
        worker.join(self.probes.timeout)
        if worker.is_alive():
            return Observation(key, None, None, b"", True)
        if "error" in outcome:
            return _not_run(key, f"cannot run it in the container: {_one_line(outcome['error'])}")
        result = outcome["result"]
        stdout, stderr = result.output if result.output is not None else (None, None)
        observation = Observation(
            key, result.exit_code, None, _cut(stdout), False, "", _cut(stderr)
        )
        if self.tracer is None and result.exit_code in (126, 127):
            # the engine's word for a program it could not start, in place of its output
            said = _one_line(observation.output.decode("utf-8", "replace"))
            if said.startswith(_EXEC_FAILED):
                return _not_run(key, "cannot start: " + said.removeprefix(_EXEC_FAILED).strip(": "))
        return self._unless_unstarted(observation)

    def _unless_unstarted(self, observation: Observation) -> Observation:
        """A traced program strace could not start reads like an untraced container that
        could not start: an error, not strace's own exit code."""
        if self.tracer is None or observation.exit_code != 1:
            return observation
        failure = start_failure(observation.stderr)
        if failure is None:
            return observation
        return Observation(observation.probe, None, None, b"", False, failure, observation.stderr)

    # ---- containers ---------------------------------------------------------------------

    def _entrypoint(self, argv: Sequence[str] | None) -> list[str] | None:
        """What replaces the image's entrypoint: nothing for the image's own command untraced,
        the check's argv for a check (so the image's entrypoint and command are both dropped),
        strace in front of either when tracing. None with a tracer: nothing to run."""
        if argv is None and self.tracer is None:
            return None
        command = list(argv) if argv is not None else self._own_argv()
        if self.tracer is None:
            return command
        return self.tracer.wrap(command, "main") if command else None

    def _own_argv(self) -> list[str]:
        return [*(self.config.entrypoint or ()), *(self.config.cmd or ())]

    @contextmanager
    def _container(self, entrypoint: list[str] | None, network: str, stdin: bool) -> Iterator[Any]:
        import docker.errors

        options: dict[str, Any] = {
            "network_mode": network,
            "labels": {PROBE_LABEL: "1", RUN_LABEL: self.label},
            "stdin_open": stdin,
            # the SDK makes stdin close after the input (StdinOnce) only for attached creation
            "detach": not stdin,
        }
        if entrypoint is not None:
            options["entrypoint"] = entrypoint
        try:
            container = self.client.containers.create(self.image, **options)
        except docker.errors.APIError as exc:
            raise SlimError(
                f"{self.label}: cannot create a container of {self.image}: "
                f"{_one_line(exc.explanation or exc)}"
            ) from exc
        try:
            if self.tracer is not None:
                self.tracer.inject(container)
            yield container
        finally:
            _remove(container)

    def _start(self, container: Any, stdin: bytes | None) -> str:
        """Start the container and send ``stdin``; the reason when it cannot start."""
        import docker.errors

        try:
            start_with_input(container, stdin)
        except docker.errors.APIError as exc:
            return f"cannot start: {_one_line(exc.explanation or exc)}"
        return ""

    def _collect(self, container: Any, *messages: bytes) -> Trace | None:
        if self.tracer is None:
            return None
        return self.tracer.collect(container, workdir=self.workdir, messages=messages)

    def _nothing_traced(self) -> Trace | None:
        return Trace() if self.tracer is not None else None

    def _merged(self, traces: Sequence[Trace | None]) -> Trace | None:
        if self.tracer is None:
            return None
        return Trace.merge(*(trace for trace in traces if trace is not None))


def _not_run(key: str, error: str) -> Observation:
    return Observation(key, None, None, b"", False, error)


def _get(check: HttpCheck, timeout: float) -> Observation:
    import httpx

    key = check.describe()
    # trust_env=False: no proxy from the environment may see (or reroute) loopback probes
    with httpx.Client(trust_env=False, timeout=min(HTTP_TIMEOUT_SECONDS, timeout)) as http:
        try:
            answer = http.get(check.url)
        except httpx.TimeoutException:
            return Observation(key, None, None, b"", True, "no answer in time")
        except httpx.HTTPError as exc:
            return _not_run(key, _one_line(exc) or type(exc).__name__)
    return Observation(key, None, answer.status_code, _cut(answer.content), False)


def _script(
    check: ScriptCheck, container_id: str, ports: Sequence[int], timeout: float
) -> Observation:
    key = check.describe()
    environment = {
        **os.environ,
        "SLIMLINE_CONTAINER": container_id,
        "SLIMLINE_HOST": LOOPBACK,
        "SLIMLINE_PORTS": ",".join(str(port) for port in ports),
    }
    try:
        done = subprocess.run(
            [check.path],
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return Observation(key, None, None, _cut(exc.stdout), True, "", _cut(exc.stderr))
    except OSError as exc:
        return _not_run(key, f"cannot run the script: {exc.strerror or exc}")
    return Observation(key, done.returncode, None, _cut(done.stdout), False, "", _cut(done.stderr))


def _exit_code_if_stopped(container: Any) -> int | None:
    container.reload()
    if container.status in ("exited", "dead"):
        return wait_for_exit(container, 1.0)
    return None


def _stop(container: Any) -> None:
    """``docker stop``: the image's stop signal, then SIGKILL after the grace period."""
    import docker.errors
    import requests

    try:
        container.stop(timeout=STOP_GRACE_SECONDS)
    except docker.errors.APIError:
        pass  # it stopped by itself in the meantime
    except requests.RequestException:
        with suppress(docker.errors.APIError, requests.RequestException):
            container.kill()
    wait_for_exit(container, STOP_GRACE_SECONDS)


def _logs(container: Any) -> tuple[bytes, bytes]:
    stdout = _cut(container.logs(stdout=True, stderr=False))
    stderr = _cut(container.logs(stdout=False, stderr=True))
    return stdout, stderr


def _remove(container: Any) -> None:
    import docker.errors
    import requests

    with suppress(docker.errors.APIError, requests.RequestException):
        container.remove(force=True)
