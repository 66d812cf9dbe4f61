"""`slimline check`: lint Dockerfiles."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from slimline import __version__
from slimline.cli._common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    emit,
    fail,
    split_list,
    wants_color,
)

ORDER = 10


def add_parser(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="lint Dockerfiles",
        description="Lint Dockerfiles: files, directories (searched recursively) or '-' for stdin.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH")
    check.add_argument(
        "-f", "--format", default="text", help="text, json, sarif or github (default: text)"
    )
    check.add_argument(
        "-o", "--output", help="write the report to this file (atomically) instead of stdout"
    )
    check.add_argument(
        "--select",
        action="append",
        help="only these rules: ids, id prefixes or practices, comma-separated",
    )
    check.add_argument(
        "--ignore",
        action="append",
        help="skip these rules: ids, id prefixes or practices, comma-separated",
    )
    check.add_argument("--severity", help="lowest severity to report: error, warning, info, style")
    check.add_argument(
        "--fail-on",
        help="lowest severity that makes the exit code 1, or 'never' (default: warning)",
    )
    check.add_argument(
        "--target", help="the build stage treated as the final image (default: the last)"
    )
    check.add_argument(
        "--exclude", action="append", help="gitignore-style pattern of files to skip in directories"
    )
    check.add_argument("--config", help="configuration file (.slimline.toml or pyproject.toml)")
    check.add_argument("--no-config", action="store_true", help="ignore configuration files")
    check.add_argument(
        "--pin-digests", action="store_true", help="require base images pinned by digest"
    )
    check.add_argument(
        "--pin-packages", action="store_true", help="require package versions to be pinned"
    )
    check.add_argument(
        "--stdin-filename", default="<stdin>", help="name to report for input read from '-'"
    )
    color = check.add_mutually_exclusive_group()
    color.add_argument(
        "--color", dest="color", action="store_true", default=None, help="colour the text output"
    )
    color.add_argument(
        "--no-color", dest="color", action="store_false", help="never colour the output"
    )
    check.add_argument("-j", "--jobs", type=int, help="worker processes for large directories")
    check.set_defaults(handler=_check)


def _format_names() -> list[str]:
    from slimline.report import available_formats

    return available_formats()


def _check(args: argparse.Namespace) -> int:
    from slimline import api
    from slimline.config import Config, ConfigError, discover, load_file
    from slimline.findings import Severity

    names = _format_names()
    if args.format not in names:
        raise UsageError(f"unknown format {args.format!r} (choose from: {', '.join(names)})")
    if args.jobs is not None and not 1 <= args.jobs <= 64:
        raise UsageError("--jobs must be between 1 and 64")
    try:
        if args.no_config:
            config = Config()
        elif args.config:
            config = load_file(Path(args.config))
        else:
            config = discover()
    except ConfigError as exc:
        fail(str(exc))
    fail_on = args.fail_on
    never = fail_on is not None and fail_on.strip().lower() in ("never", "none")
    try:
        config = config.with_overrides(
            select=split_list(args.select) or None,
            ignore=(config.ignore + split_list(args.ignore)) if args.ignore else None,
            severity=Severity.parse(args.severity) if args.severity else None,
            fail_on=Severity.parse(fail_on) if fail_on and not never else None,
            exclude=(config.exclude + tuple(args.exclude)) if args.exclude else None,
            target=args.target,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    options: dict[str, Any] = dict(config.options)
    if args.pin_digests:
        options["pin-digests"] = True
    if args.pin_packages:
        options["pin-packages"] = True
    config = config.with_overrides(options=options)
    known = set(api.rules())
    for selector in config.select + config.ignore:
        if selector.upper().startswith("SL") and not any(
            r.startswith(selector.upper()) for r in known
        ):
            raise UsageError(f"unknown rule {selector!r} (see 'slimline rules')")
    inputs = list(args.paths) or ["."]
    for item in inputs:
        if item != "-" and not os.path.exists(item):
            fail(f"{item}: no such file or directory")
    stdin_data = sys.stdin.buffer.read() if "-" in inputs else None
    report = api.check(inputs, config, stdin_data=stdin_data, jobs=args.jobs)
    if stdin_data is not None:
        from dataclasses import replace

        for result in report.files:
            if result.path == "<stdin>":
                result.path = args.stdin_filename
                result.findings = [replace(f, file=args.stdin_filename) for f in result.findings]
                if result.error is not None:
                    result.error = replace(result.error, file=args.stdin_filename)
    if not report.files:
        # Asking to check a tree with no Dockerfile in it is most likely a wrong path.
        fail("no Dockerfiles found in " + ", ".join(inputs))
    from slimline.report import RenderOptions, get_renderer

    text = get_renderer(args.format).render(
        report,
        RenderOptions(color=wants_color(args), tool_version=__version__, base_dir=os.getcwd()),
    )
    emit(text, args.output)
    if report.errors:
        if args.format != "text":
            for err in report.errors:
                sys.stderr.write(f"slimline: {err}\n")
        return EXIT_ERROR
    if not never and report.failed(config.fail_on):
        return EXIT_FINDINGS
    return EXIT_OK
