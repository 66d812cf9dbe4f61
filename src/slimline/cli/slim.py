"""`slimline slim IMAGE --tag NEW`: a minimal image that still does what the original did."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from slimline.cli._common import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, UsageError, emit, fail

ORDER = 40

MODES = ("static", "packages", "files")


class _ProbeAction(argparse.Action):
    """Probes in the order given; an --expect-* option applies to the probe before it."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        probes: list[dict[str, Any]] = list(getattr(namespace, "probes", None) or [])
        kind = self.dest
        if kind.startswith("expect_"):
            wanted = {"expect_exit": "cmd", "expect_output": "cmd"}.get(kind, "http")
            if not probes or probes[-1]["kind"] != wanted:
                follows = "--probe-cmd" if wanted == "cmd" else "--probe-http"
                raise UsageError(f"{option_string} must follow a {follows}")
            if kind in probes[-1]:
                raise UsageError(f"{option_string} given twice for one probe")
            probes[-1][kind] = values
        else:
            probes.append({"kind": kind.removeprefix("probe_"), "value": values})
        namespace.probes = probes


def add_parser(commands: Any) -> None:
    slim = commands.add_parser(
        "slim",
        help="build a minimal image from an existing one and verify it still works",
        description="Run the image traced under probes, keep what it uses (whole packages, or"
        " only the files), write a one-layer image with the same config, and verify it behaves"
        " like the original before tagging or writing it. Exit 0: written and verified;"
        " 1: verification failed, nothing written; 2: bad input.",
    )
    slim.add_argument(
        "image",
        metavar="IMAGE",
        help="an engine image (name, id or docker:NAME), docker-archive:PATH[:REF],"
        " oci:DIR[:REF], oci-archive:PATH[:REF] or registry:HOST/REPO[:TAG|@DIGEST]",
    )
    slim.add_argument("--tag", "-t", help="tag the slim image in the engine with this name")
    slim.add_argument("--output", help="write the slim image as a docker-archive to this file")
    slim.add_argument(
        "--mode",
        choices=MODES,
        default="packages",
        help="static: remove caches, indexes, docs, headers and static libraries, no tracing;"
        " packages (default): keep whole packages the app uses, with their dependencies;"
        " files: keep only the files the app uses, their libraries and a safety set",
    )
    slim.add_argument("--runs", type=int, default=3, help="traced runs to merge (default: 3)")
    slim.add_argument("--verify-runs", type=int, default=5, help="verification runs (default: 5)")
    probes = slim.add_argument_group("probes")
    probes.add_argument(
        "--probe-cmd",
        dest="probe_cmd",
        action=_ProbeAction,
        metavar="CMD",
        help="a command run inside the running service (or, for an image that runs to"
        " completion, as the command of a fresh container); compared with the original",
    )
    probes.add_argument(
        "--expect-exit",
        dest="expect_exit",
        action=_ProbeAction,
        type=int,
        metavar="CODE",
        help="the exit code the previous --probe-cmd must give",
    )
    probes.add_argument(
        "--expect-output",
        dest="expect_output",
        action=_ProbeAction,
        metavar="TEXT",
        help="text the previous --probe-cmd's output must contain",
    )
    probes.add_argument(
        "--probe-http",
        dest="probe_http",
        action=_ProbeAction,
        metavar="URL",
        help="GET http://127.0.0.1:PORT/PATH (or :PORT/PATH, PORT/PATH) while the service runs"
        " on the host network",
    )
    probes.add_argument(
        "--expect-status",
        dest="expect_status",
        action=_ProbeAction,
        type=int,
        metavar="CODE",
        help="the HTTP status the previous --probe-http must give",
    )
    probes.add_argument(
        "--expect-body",
        dest="expect_body",
        action=_ProbeAction,
        metavar="TEXT",
        help="text the previous --probe-http's body must contain",
    )
    probes.add_argument(
        "--probe-script",
        dest="probe_script",
        action=_ProbeAction,
        metavar="PATH",
        help="your own test program, run on this machine while the service runs (env:"
        " SLIMLINE_CONTAINER, SLIMLINE_HOST, SLIMLINE_PORTS); exit 0 passes",
    )
    probes.add_argument("--stdin", metavar="FILE", help="feed this file to the image's own command")
    probes.add_argument(
        "--service",
        action="store_true",
        help="the image runs a service: start it, probe it, stop it (implied by --probe-http"
        " and --probe-script)",
    )
    probes.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds a run may take, or a service to start answering (default: 60)",
    )
    slim.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="PATH",
        help="always keep this path (a directory keeps everything below it; globs allowed)",
    )
    slim.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATH",
        help="never keep this path (a directory drops everything below it; globs allowed)",
    )
    slim.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform image")
    slim.add_argument("-f", "--format", default="text", help="text or json (default: text)")
    slim.add_argument("--report", metavar="FILE", help="write the report to this file")
    slim.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    slim.set_defaults(handler=_slim, probes=[])


def probe_set(args: argparse.Namespace) -> Any:
    """The ProbeSet the options describe; UsageError for a probe that cannot be."""
    from slimline.slim.errors import SlimError
    from slimline.slim.probes import CommandCheck, ProbeSet, ScriptCheck, parse_http_check

    commands, http, scripts = [], [], []
    try:
        for probe in args.probes:
            if probe["kind"] == "cmd":
                check = CommandCheck.from_text(probe["value"])
                commands.append(
                    CommandCheck(check.argv, probe.get("expect_exit"), probe.get("expect_output"))
                )
            elif probe["kind"] == "http":
                parsed = parse_http_check(probe["value"])
                http.append(
                    type(parsed)(
                        parsed.port,
                        parsed.path,
                        probe.get("expect_status"),
                        probe.get("expect_body"),
                    )
                )
            else:
                path = probe["value"]
                if not os.path.isfile(path) or not os.access(path, os.X_OK):
                    raise UsageError(f"--probe-script {path}: not an executable file")
                scripts.append(ScriptCheck(os.path.abspath(path)))
    except SlimError as exc:
        raise UsageError(str(exc)) from None
    stdin = None
    if args.stdin:
        try:
            with open(args.stdin, "rb") as handle:
                stdin = handle.read()
        except OSError as exc:
            raise UsageError(f"--stdin {args.stdin}: {exc.strerror or exc}") from None
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    return ProbeSet(
        commands=tuple(commands),
        http=tuple(http),
        scripts=tuple(scripts),
        service=args.service,
        stdin=stdin,
        timeout=args.timeout,
    )


def _slim(args: argparse.Namespace) -> int:
    from slimline import __version__
    from slimline.engine.errors import EngineError
    from slimline.image.sources import ImageError
    from slimline.report.slim import RenderOptions, available_formats, get_renderer
    from slimline.slim.errors import SlimError
    from slimline.slim.pipeline import SlimOptions, slim
    from slimline.slim.plan import Mode, Selection

    names = available_formats()
    if args.format not in names:
        raise UsageError(f"unknown format {args.format!r} (choose from: {', '.join(names)})")
    if not args.tag and not args.output:
        raise UsageError("say where the slim image goes: --tag NAME or --output FILE")
    if args.runs < 1 or args.verify_runs < 1:
        raise UsageError("--runs and --verify-runs must be at least 1")
    if args.output and os.path.isdir(args.output):
        raise UsageError(f"--output {args.output} is a directory")
    options = SlimOptions(
        mode=Mode(args.mode),
        tag=args.tag,
        output=args.output,
        runs=args.runs,
        verify_runs=args.verify_runs,
        probes=probe_set(args),
        selection=Selection(tuple(args.include), tuple(args.exclude)),
        platform=args.platform,
    )

    def step(message: str) -> None:
        if not args.quiet:
            sys.stderr.write(f"slimline: {message}\n")
            sys.stderr.flush()

    try:
        result = slim(args.image, options, on_step=step)
    except (SlimError, ImageError, EngineError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.stderr.write("slimline: interrupted; nothing written\n")
        return EXIT_ERROR
    render_options = RenderOptions(tool_version=__version__)
    emit(get_renderer(args.format).render(result, render_options), args.report)
    if not result.verification.ok:
        for failure in result.verification.failures:
            missing = (
                "; missing in the slim image: "
                + ", ".join("/" + m.lstrip("/") for m in failure.missing[:10])
                if failure.missing
                else ""
            )
            sys.stderr.write(
                f"slimline: verification run {failure.run} failed: {failure.probe}: "
                f"{failure.difference}{missing}\n"
            )
        sys.stderr.write(
            "slimline: error: the slim image does not behave like the original; nothing written\n"
        )
        return EXIT_FINDINGS
    return EXIT_OK
