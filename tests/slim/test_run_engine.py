"""Running images under probes against the real engine, traced and not: a non-root job that
changes directory and reads its input, a command that never ends, an HTTP service asked over
127.0.0.1 with a command run inside it and a script run here, and a distroless image."""

from __future__ import annotations

import functools
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest

from slimline.engine.run import free_port
from slimline.image.sources.base import ImageConfig
from slimline.slim.errors import SlimError
from slimline.slim.probes import OWN_COMMAND, CommandCheck, ProbeSet, ScriptCheck, parse_http_check
from slimline.slim.run import PROBE_LABEL, RUN_LABEL, Observation, RunRecord, run_image
from slimline.slim.trace import Tracer
from tests.support import engine

pytestmark = pytest.mark.engine

JOB_SCRIPT = """\
#!/bin/sh
cd data
cat used.txt
cat ../data/../data/used.txt > /dev/null
[ -e nothere ] || echo "no nothere"
read line
echo "got $line as $(id -u)"
"""

JOB = {
    "Dockerfile": """\
FROM debian:bookworm-slim
COPY run.sh /app/run.sh
COPY used.txt unused.txt other.txt /app/data/
WORKDIR /app
USER 1000:1000
ENTRYPOINT ["/app/run.sh"]
""",
    "run.sh": JOB_SCRIPT,
    "used.txt": "hello\n",
    "unused.txt": "never read\n",
    "other.txt": "read by a check\n",
}

GO_READER = """\
package main

import (
	"fmt"
	"os"
)

func main() {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		os.Exit(3)
	}
	_, missing := os.Stat("/etc/not-here")
	fmt.Println(len(data) > 0, os.IsNotExist(missing))
}
"""

DISTROLESS = {
    "Dockerfile": """\
FROM golang:1.27 AS build
WORKDIR /src
COPY main.go .
RUN CGO_ENABLED=0 go build -o /reader main.go
FROM gcr.io/distroless/static-debian12
COPY --from=build /reader /reader
USER 65532
ENTRYPOINT ["/reader"]
""",
    "main.go": GO_READER,
}


def _service_context(port: int) -> dict[str, str | bytes]:
    # SIGINT: http.server as PID 1 ignores SIGTERM and would wait out the whole grace period
    return {
        "Dockerfile": f"""\
FROM python:3.12-slim
COPY index.html /srv/www/index.html
WORKDIR /srv
EXPOSE {port}
STOPSIGNAL SIGINT
CMD ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", "/srv/www"]
""",
        "index.html": "<p>slim me</p>\n",
    }


def _config(tag: str) -> ImageConfig:
    info = engine.client().api.inspect_image(tag)
    config = info.get("Config") or {}
    return ImageConfig(
        architecture=info.get("Architecture", ""),
        os=info.get("Os", ""),
        env=tuple(config.get("Env") or ()),
        entrypoint=tuple(config["Entrypoint"]) if config.get("Entrypoint") else None,
        cmd=tuple(config["Cmd"]) if config.get("Cmd") else None,
        workdir=config.get("WorkingDir") or "",
        user=config.get("User") or "",
        exposed_ports=tuple(sorted(config.get("ExposedPorts") or {})),
    )


@functools.cache
def _tracer() -> Tracer:
    return Tracer.from_host()


def _run(tag: str, probes: ProbeSet, *, traced: bool, label: str = "test") -> RunRecord:
    tracer = _tracer() if traced else None
    return run_image(engine.client(), tag, _config(tag), probes, tracer=tracer, label=label)


def _seen(observation: Observation | None) -> tuple[Any, ...]:
    assert observation is not None
    return (observation.exit_code, observation.status, observation.output, observation.error)


def _no_probe_containers_left(label: str) -> bool:
    # only this test's: tests running in parallel have their own containers
    filters = {"label": [f"{PROBE_LABEL}=1", f"{RUN_LABEL}={label}"]}
    return not engine.client().containers.list(all=True, filters=filters)


@pytest.fixture(scope="module")
def job_image() -> str:
    return engine.build("slim-run-job", JOB)


def test_a_traced_job_behaves_as_untraced_and_shows_what_it_read(job_image: str) -> None:
    probes = ProbeSet(
        commands=(CommandCheck(("cat", "/app/data/other.txt")),), stdin=b"input-line\n"
    )
    plain = _run(job_image, probes, traced=False, label="read")
    traced = _run(job_image, probes, traced=True, label="read")
    own = traced.get(OWN_COMMAND)
    assert own is not None
    assert own.output == b"hello\nno nothere\ngot input-line as 1000\n"
    assert (own.exit_code, own.error) == (0, "")
    for key in probes.observation_keys():
        assert _seen(plain.get(key)) == _seen(traced.get(key)), key
    assert plain.trace is None
    trace = traced.trace
    assert trace is not None
    assert {"app/data/used.txt", "app/data", "app"} <= trace.found
    assert "app/data/other.txt" in trace.found  # by the command check, in its own container
    assert "app/data/unused.txt" not in trace.paths
    assert "app/data/nothere" in trace.missing
    assert "app/run.sh" in trace.executed
    assert any(p.endswith("bin/cat") for p in trace.executed)
    assert not any(p.startswith(".slimline-trace") for p in trace.paths)
    assert _no_probe_containers_left("read")


def test_a_command_that_never_ends_is_seen_still_running(job_image: str) -> None:
    probes = ProbeSet(commands=(CommandCheck(("sleep", "60")),), stdin=b"x\n", timeout=3)
    record = _run(job_image, probes, traced=True, label="never-ends")
    hanging = record.get("command sleep 60")
    assert hanging is not None
    assert (hanging.timed_out, hanging.exit_code, hanging.error) == (True, None, "")
    assert record.trace is not None and any(p.endswith("bin/sleep") for p in record.trace.executed)
    assert _no_probe_containers_left("never-ends")


def test_a_service_is_asked_over_loopback_traced_and_not(tmp_path: Path) -> None:
    port = free_port()
    tag = engine.build("slim-run-service", _service_context(port))
    script = tmp_path / "check.sh"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            [ -n "$SLIMLINE_CONTAINER" ] && [ "$SLIMLINE_HOST" = 127.0.0.1 ] || exit 5
            [ "$SLIMLINE_PORTS" = {port} ] || exit 6
            echo "checked"
            """
        )
    )
    script.chmod(0o755)
    reader = "print(open('/srv/www/index.html').read(), end='')"
    probes = ProbeSet(
        http=(parse_http_check(f":{port}/index.html"), parse_http_check(f":{port}/absent")),
        commands=(CommandCheck(("python3", "-c", reader)),),
        scripts=(ScriptCheck(str(script)),),
        timeout=30,
    )
    plain = _run(tag, probes, traced=False, label="service")
    traced = _run(tag, probes, traced=True, label="service")
    for record in (plain, traced):
        page = record.get(f"GET http://127.0.0.1:{port}/index.html")
        assert page is not None and (page.status, page.output) == (200, b"<p>slim me</p>\n")
        absent = record.get(f"GET http://127.0.0.1:{port}/absent")
        assert absent is not None and absent.status == 404
        command = record.get(probes.commands[0].describe())
        assert command is not None
        assert (command.exit_code, command.output) == (0, b"<p>slim me</p>\n")
        checked = record.get(f"script {script}")
        assert checked is not None and (checked.exit_code, checked.output) == (0, b"checked\n")
        own = record.get(OWN_COMMAND)
        assert own is not None and (own.exit_code, own.error) == (None, "")
        assert b"GET /index.html" in own.stderr  # the service's log
    trace = traced.trace
    assert trace is not None
    assert "srv/www/index.html" in trace.found
    assert "srv/www/absent" in trace.missing
    assert any(p.endswith("bin/python3") or "python3" in p for p in trace.executed)
    assert _no_probe_containers_left("service")


def test_a_taken_port_is_refused_before_anything_starts() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        probes = ProbeSet(http=(parse_http_check(f":{port}/"),))
        with pytest.raises(SlimError, match=f"already listens on 127.0.0.1:{port}"):
            _run("debian:bookworm-slim", probes, traced=False)


def test_a_distroless_program_is_traced_with_no_shell_or_libc_in_the_image() -> None:
    tag = engine.build("slim-run-distroless", DISTROLESS)
    record = _run(tag, ProbeSet(), traced=True)
    own = record.get(OWN_COMMAND)
    assert own is not None and (own.exit_code, own.output) == (0, b"true true\n")
    assert record.trace is not None
    assert "etc/os-release" in record.trace.found
    assert "etc/not-here" in record.trace.missing
    assert record.trace.executed == {"reader"}


def test_a_service_that_exits_first_is_seen_exiting(job_image: str) -> None:
    # the job's script ends at once without input: as a service it exits before any check
    probes = ProbeSet(service=True, commands=(CommandCheck(("true",)),))
    record = _run(job_image, probes, traced=False)
    own = record.get(OWN_COMMAND)
    assert own is not None and own.exit_code == 0
    check = record.get("command true")
    assert check is not None and check.error == "the service exited with code 0 first"
