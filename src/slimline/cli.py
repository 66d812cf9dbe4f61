"""The command line: argument parsing, output and exit codes. All work happens in slimline.api.

Exit codes: 0 nothing at or above the failure threshold; 1 findings at or above it;
2 usage or input error (one line on stderr, never a traceback).

argparse rather than click: a single-file check must finish in 150 ms including interpreter
start, and importing click alone takes 30-50 ms of that here; argparse takes 1-2 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from slimline import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"slimline: error: {message}\n")
    sys.exit(EXIT_ERROR)


class _Parser(argparse.ArgumentParser):
    """Usage errors become one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _split(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())


def write_atomic(path: str, text: str) -> None:
    """Write through a temporary file in the same directory, then rename over the target."""
    import tempfile

    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _format_names() -> list[str]:
    from slimline.report import available_formats

    return available_formats()


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="slimline",
        description="slimline: make container images small and safe, and prove it by measurement.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"slimline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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

    rules = commands.add_parser(
        "rules", help="list the Dockerfile rules", description="List the Dockerfile rules."
    )
    rules.add_argument("--practice", help="only rules of this practice")
    rules.add_argument("-f", "--format", choices=["text", "json"], default="text")
    rules.set_defaults(handler=_rules)

    explain = commands.add_parser(
        "explain",
        help="print a rule's documentation",
        description="Print the documentation of rules (SL ids, or hadolint DL ids).",
    )
    explain.add_argument("rule_ids", nargs="+", metavar="RULE")
    explain.set_defaults(handler=_explain)
    return parser


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
        _fail(str(exc))
    fail_on = args.fail_on
    never = fail_on is not None and fail_on.strip().lower() in ("never", "none")
    try:
        config = config.with_overrides(
            select=_split(args.select) or None,
            ignore=(config.ignore + _split(args.ignore)) if args.ignore else None,
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
            _fail(f"{item}: no such file or directory")
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
        _fail("no Dockerfiles found in " + ", ".join(inputs))
    from slimline.report import RenderOptions, get_renderer

    use_color = args.color
    if use_color is None:
        use_color = (
            args.output is None
            and args.format == "text"
            and sys.stdout.isatty()
            and not os.environ.get("NO_COLOR")
        )
    text = get_renderer(args.format).render(
        report, RenderOptions(color=use_color, tool_version=__version__, base_dir=os.getcwd())
    )
    if args.output:
        try:
            write_atomic(args.output, text)
        except OSError as exc:
            _fail(f"{args.output}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if report.errors:
        if args.format != "text":
            for err in report.errors:
                sys.stderr.write(f"slimline: {err}\n")
        return EXIT_ERROR
    if not never and report.failed(config.fail_on):
        return EXIT_FINDINGS
    return EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    import json

    from slimline import api

    infos = [
        i
        for i in api.rules().values()
        if args.practice is None or i.practice.value == args.practice
    ]
    if args.practice is not None and not infos:
        _fail(f"no rules for practice {args.practice!r}")
    if args.format == "json":
        data = [
            {
                "id": i.id,
                "name": i.name,
                "practice": i.practice.value,
                "severity": i.severity.value,
                "summary": i.summary,
                "refs": list(i.refs),
                "fixable": i.fixable,
                "default_enabled": i.default_enabled,
            }
            for i in infos
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    width = max((len(i.name) for i in infos), default=10)
    for i in infos:
        opt_in = "" if i.default_enabled else " (opt-in)"
        refs = f" [{', '.join(i.refs)}]" if i.refs else ""
        sys.stdout.write(
            f"{i.id}  {i.name:<{width}}  {i.practice.value:<15} {i.severity.value:<8} {i.summary}{opt_in}{refs}\n"
        )
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from slimline import api

    infos = api.rules()
    out: list[str] = []
    for raw in args.rule_ids:
        rid = raw.strip().upper()
        matches = (
            [infos[rid]]
            if rid in infos
            else [i for i in infos.values() if rid in (r.upper() for r in i.refs)]
        )
        if not matches:
            _fail(f"unknown rule {raw!r} (see 'slimline rules')")
        for info in matches:
            enabled = "enabled by default" if info.default_enabled else "opt-in"
            block = [
                f"{info.id} {info.name}",
                f"practice: {info.practice.value}   severity: {info.severity.value}   "
                f"fixable: {'yes' if info.fixable else 'no'}   {enabled}",
            ]
            if info.refs:
                block.append(f"equivalents: {', '.join(info.refs)}")
            block += ["", info.doc]
            out.append("\n".join(block))
    sys.stdout.write("\n\n".join(out) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> None:
    parser = _build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
        if args.command is None:
            parser.print_help(sys.stderr)
            sys.exit(EXIT_ERROR)
        sys.exit(args.handler(args))
    except UsageError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        sys.stderr.write("slimline: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (`slimline check . | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)
    except Exception as exc:  # a bug: still one line, never a traceback
        if os.environ.get("SLIMLINE_DEBUG"):
            raise
        sys.stderr.write(
            f"slimline: internal error: {type(exc).__name__}: {exc} (set SLIMLINE_DEBUG=1 for details)\n"
        )
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
