"""Run an image: a command to completion, or a service long enough to ask it over HTTP.

Every container is removed afterwards, whatever happens. Commands run without a network;
services run on the host network because that is the only way to reach them on an engine
without bridges, and they are only ever contacted on 127.0.0.1.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from slimline.engine.errors import EngineError, ProbeFailed
from slimline.engine.probes import LOOPBACK, HttpProbe

# Output beyond this is cut before comparing: a probe's output is evidence, not a payload.
MAX_OUTPUT_BYTES = 4 * 1024**2
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class RunResult:
    """How a container ended. ``exit_code`` is None when it was still running at the
    deadline (``timed_out``) and was killed."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    seconds: float


@dataclass(frozen=True)
class HttpResponse:
    path: str
    status: int  # 0 when the request got no answer; ``error`` says why
    body: bytes
    error: str = ""


@dataclass(frozen=True)
class ServiceResult:
    """What an HTTP service did: its answers (empty if it never answered), and how its
    container ended once stopped (or by itself, when it exited before serving)."""

    responses: tuple[HttpResponse, ...]
    run: RunResult
    served: bool
    startup_timed_out: bool


@contextmanager
def _container(
    client: Any,
    image: str,
    *,
    argv: Sequence[str],
    env: Mapping[str, str],
    network_mode: str,
    stdin: bool = False,
) -> Iterator[Any]:
    """A created (not started) container that is removed on the way out."""
    import docker.errors

    try:
        container = client.containers.create(
            image,
            command=list(argv) or None,
            environment=dict(env),
            stdin_open=stdin,
            # The SDK sets StdinOnce (stdin closes once the input is sent) only for a container
            # created attached; "detach" here only shapes that configuration.
            detach=not stdin,
            network_mode=network_mode,
            labels={"org.slimline.probe": "1"},
        )
    except docker.errors.APIError as exc:
        raise ProbeFailed(f"cannot create a container of {image}: {exc.explanation}") from exc
    try:
        yield container
    finally:
        with suppress(docker.errors.NotFound):
            container.remove(force=True)


def _logs(container: Any) -> tuple[bytes, bytes]:
    stdout = bytes(container.logs(stdout=True, stderr=False))[:MAX_OUTPUT_BYTES]
    stderr = bytes(container.logs(stdout=False, stderr=True))[:MAX_OUTPUT_BYTES]
    return stdout, stderr


def wait_for_exit(container: Any, timeout: float) -> int | None:
    """The exit code, or None if the container is still running after ``timeout`` seconds."""
    import requests

    try:
        status = container.wait(timeout=max(timeout, 0.1))
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        return None
    return int(status.get("StatusCode", -1))


def start_with_input(container: Any, stdin: bytes | None) -> None:
    """Start a created container and send it ``stdin`` (None: none), then close its input.
    The input is attached before the start, as `docker run -i` does, so none is lost; a start
    the engine refuses raises the SDK's APIError."""
    import docker.errors

    attached = None
    if stdin is not None:
        attached = container.attach_socket(params={"stdin": 1, "stream": 1})
    try:
        container.start()
    except docker.errors.APIError:
        if attached is not None:
            attached.close()
        raise
    if attached is not None and stdin is not None:
        _close_after_write(attached, stdin)


def _close_after_write(attached: Any, data: bytes) -> None:
    raw = getattr(attached, "_sock", attached)
    try:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the command exited without reading everything; its exit code tells the rest
    finally:
        raw.close()


def run_command(
    client: Any,
    image: str,
    *,
    argv: Sequence[str] = (),
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    network_mode: str = "none",
    timeout: float = 60.0,
) -> RunResult:
    """Run ``image`` with ``argv`` as its CMD (its own command when empty) and wait up to
    ``timeout`` seconds; a container still running then is killed and reported timed out."""
    import docker.errors

    started = time.monotonic()
    with _container(
        client, image, argv=argv, env=env or {}, network_mode=network_mode, stdin=stdin is not None
    ) as container:
        try:
            start_with_input(container, stdin)
        except docker.errors.APIError as exc:
            raise ProbeFailed(f"cannot start {image}: {exc.explanation}") from exc
        exit_code = wait_for_exit(container, timeout)
        if exit_code is None:
            _kill(container)
        stdout, stderr = _logs(container)
    return RunResult(exit_code, stdout, stderr, exit_code is None, time.monotonic() - started)


def _kill(container: Any) -> None:
    import docker.errors

    with suppress(docker.errors.APIError):  # it may have stopped by itself in the meantime
        container.kill()


def port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((LOOPBACK, port)) == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def probe_service(
    client: Any, image: str, probe: HttpProbe, *, timeout: float = 60.0
) -> ServiceResult:
    """Start ``image`` on the host network, wait up to ``timeout`` seconds for
    ``127.0.0.1:port`` to answer, GET each of the probe's paths, then stop the container."""
    import docker.errors
    import httpx

    if port_answers(probe.port):
        raise ProbeFailed(
            f"something already listens on {LOOPBACK}:{probe.port}; the probe would ask it "
            "instead of the image"
        )
    started = time.monotonic()
    deadline = started + timeout
    responses: list[HttpResponse] = []
    with _container(
        client, image, argv=probe.argv, env=dict(probe.env), network_mode="host"
    ) as container:
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise ProbeFailed(f"cannot start {image}: {exc.explanation}") from exc
        exited = False
        # trust_env=False: no proxy from the environment may see (or reroute) loopback probes.
        with httpx.Client(trust_env=False, timeout=max(1.0, min(10.0, timeout))) as http:
            first: httpx.Response | None = None
            while first is None and time.monotonic() < deadline:
                try:
                    first = http.get(probe.url(probe.paths[0]))
                except httpx.TransportError:
                    container.reload()
                    if container.status in ("exited", "dead"):
                        exited = True
                        break
                    time.sleep(POLL_SECONDS)
            if first is not None:
                responses.append(HttpResponse(probe.paths[0], first.status_code, first.content))
                for path in probe.paths[1:]:
                    try:
                        answer = http.get(probe.url(path))
                    except httpx.TransportError as exc:
                        responses.append(HttpResponse(path, 0, b"", str(exc) or type(exc).__name__))
                        continue
                    responses.append(HttpResponse(path, answer.status_code, answer.content))
        exit_code = wait_for_exit(container, 0.1) if exited else None
        if exit_code is None:
            _stop(container)
            exit_code = wait_for_exit(container, 10.0)
        stdout, stderr = _logs(container)
    served = bool(responses)
    run = RunResult(exit_code, stdout, stderr, False, time.monotonic() - started)
    return ServiceResult(tuple(responses), run, served, not served and not exited)


def _stop(container: Any) -> None:
    import docker.errors
    import requests

    try:
        container.stop(timeout=2)
    except docker.errors.APIError:
        pass  # already stopped
    except requests.RequestException as exc:
        raise EngineError(f"cannot stop a probe container: {exc}") from exc
