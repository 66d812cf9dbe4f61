"""`slimline fix`: rewrite Dockerfiles so that the fixable findings go away.

Without --write it prints a unified diff and exits 1 when there is something to change (as
`ruff format --diff` does), 0 when there is nothing; with --write it replaces each changed
file atomically and exits 0. Notes on stderr say what was fixed and, for each finding of a
fixable rule that is left, why not. Exit 2 on a usage or input error; a file that does not
parse is left untouched and the others are still fixed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slimline.cli._common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    fail,
    split_list,
    write_atomic,
)

if TYPE_CHECKING:
    from slimline.config import Config
    from slimline.dockerfile.fix import FixReport

ORDER = 20
BACKUP_SUFFIX = ".orig"


def add_parser(commands: Any) -> None:
    fix = commands.add_parser(
        "fix",
        help="rewrite Dockerfiles to fix what can be fixed safely",
        description=(
            "Fix Dockerfiles with minimal edits: files, directories (searched recursively) or "
            "'-' for stdin. Prints a unified diff unless --write is given."
        ),
        epilog=(
            "Exit codes: 0 nothing to change, or the changes were written; 1 changes are "
            "pending (the diff was printed); 2 a usage or input error (a file that does not "
            "parse is left untouched; the others are still fixed). With '-' and --write the "
            "fixed text goes to stdout."
        ),
    )
    fix.add_argument("paths", nargs="*", metavar="PATH")
    fix.add_argument(
        "-w",
        "--write",
        action="store_true",
        help="apply the changes (atomically) instead of printing a diff",
    )
    fix.add_argument(
        "--diff", action="store_true", help="print a unified diff (the default without --write)"
    )
    fix.add_argument(
        "--backup",
        action="store_true",
        help=f"with --write, keep the original as PATH{BACKUP_SUFFIX}",
    )
    fix.add_argument(
        "--select",
        action="append",
        help=(
            "only fix these rules: ids, id prefixes or practices, comma-separated "
            "('maintainer' for the MAINTAINER -> LABEL rewrite)"
        ),
    )
    fix.add_argument(
        "--ignore",
        action="append",
        help="do not fix these rules: ids, id prefixes or practices, comma-separated",
    )
    fix.add_argument(
        "--target", help="the build stage treated as the final image (default: the last)"
    )
    fix.add_argument(
        "--context",
        metavar="DIR",
        help="the build context (for package.json and lock files; default: each file's directory)",
    )
    fix.add_argument(
        "--online",
        action="store_true",
        help="ask registries for current tags and digests (never needed otherwise)",
    )
    fix.add_argument(
        "--pin-digest",
        "--pin-digests",
        dest="pin_digest",
        action="store_true",
        help="pin base images by digest (from the local engine, or the registry with --online)",
    )
    fix.add_argument(
        "--exclude", action="append", help="gitignore-style pattern of files to skip in directories"
    )
    fix.add_argument("--config", help="configuration file (.slimline.toml or pyproject.toml)")
    fix.add_argument("--no-config", action="store_true", help="ignore configuration files")
    fix.add_argument(
        "--stdin-filename", default="<stdin>", help="name to report for input read from '-'"
    )
    fix.add_argument(
        "--split",
        action="store_true",
        help="separate build and runtime stages (Python, Node, Go, C/C++ with make): the final"
        " image keeps no compilers, headers, VCS or dev dependencies",
    )
    fix.add_argument(
        "--dev",
        action="store_true",
        help=f"with --split, also write PATH{'.dev'}: a development image that keeps the tools",
    )
    fix.add_argument(
        "--rebase",
        action="store_true",
        help="move the final image to the slimmest official variant of its base"
        " (python:3.12 -> python:3.12-slim), adding the packages the variant lacks",
    )
    fix.add_argument(
        "--alpine",
        action="store_true",
        help="with --rebase, allow a switch to the alpine (musl) variant, mapping apt packages"
        " to apk names (read the warnings)",
    )
    fix.add_argument(
        "--build",
        action="store_true",
        help="build the original and the fixed Dockerfile with the Docker engine, run both and"
        " compare; a fix that breaks the build or changes the behaviour is not written",
    )
    fix.add_argument(
        "--probe",
        metavar="CMD",
        help="with --build: the command to run in both images instead of their own",
    )
    fix.add_argument(
        "--probe-http",
        metavar="PORT[/PATH]",
        help="with --build: start both images on the host network and compare a GET of"
        " http://127.0.0.1:PORT/PATH",
    )
    fix.add_argument(
        "--keep-images", action="store_true", help="with --build: keep the built images"
    )
    fix.add_argument(
        "-q", "--quiet", action="store_true", help="no notes on stderr, only the diff and errors"
    )
    fix.set_defaults(handler=_fix)


def _config(args: argparse.Namespace) -> Config:
    from slimline import api
    from slimline.config import Config, ConfigError, discover, load_file

    try:
        if args.no_config:
            config = Config()
        elif args.config:
            config = load_file(Path(args.config))
        else:
            config = discover()
    except ConfigError as exc:
        fail(str(exc))
    try:
        config = config.with_overrides(
            select=split_list(args.select) or None,
            ignore=(config.ignore + split_list(args.ignore)) if args.ignore else None,
            exclude=(config.exclude + tuple(args.exclude)) if args.exclude else None,
            target=args.target,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    known = set(api.rules())
    for selector in config.select + config.ignore:
        if selector.upper().startswith("SL") and not any(
            r.startswith(selector.upper()) for r in known
        ):
            raise UsageError(f"unknown rule {selector!r} (see 'slimline rules')")
    return config


def _fix(args: argparse.Namespace) -> int:
    from slimline import api

    if args.backup and not args.write:
        raise UsageError("--backup needs --write")
    if args.diff and args.write:
        raise UsageError("--diff and --write exclude each other")
    if args.context is not None and not os.path.isdir(args.context):
        fail(f"{args.context}: not a directory")
    if args.dev and not args.split:
        raise UsageError("--dev needs --split")
    if args.alpine and not args.rebase:
        raise UsageError("--alpine needs --rebase")
    if (args.probe or args.probe_http or args.keep_images) and not args.build:
        raise UsageError("--probe, --probe-http and --keep-images need --build")
    from slimline.dockerfile.structural import StructuralOptions

    structural = StructuralOptions(
        split=args.split, dev=args.dev, rebase=args.rebase, alpine=args.alpine, target=args.target
    )
    config = _config(args)
    inputs = list(args.paths) or ["."]
    for item in inputs:
        if item != "-" and not os.path.exists(item):
            fail(f"{item}: no such file or directory")
    stdin_data = sys.stdin.buffer.read() if "-" in inputs else None
    reports = api.fix(
        inputs,
        config,
        stdin_data=stdin_data,
        stdin_path=args.stdin_filename,
        online=args.online,
        pin_digests=args.pin_digest,
        context_dir=args.context,
        structural=structural,
    )
    if not reports:
        fail("no Dockerfiles found in " + ", ".join(inputs))
    errors = 0
    pending = 0
    for report in reports:
        if report.error is not None:
            errors += 1
            sys.stderr.write(f"slimline: error: {report.error}\n")
            continue
        from_stdin = stdin_data is not None and report.path == args.stdin_filename
        if args.build and not from_stdin and report.changed and not _verified(report, args):
            errors += 1
            continue
        if args.write and from_stdin:
            sys.stdout.write(report.text)  # a filter: the fixed text goes to stdout
        elif args.write and report.changed:
            if not _write(report, backup=args.backup):
                errors += 1
                continue
        elif report.changed:
            pending += 1
            sys.stdout.write(report.diff())
            for companion, text in report.companions.items():
                sys.stdout.write(_new_file_diff(text, companion))
        if not args.quiet:
            _notes(report, written=args.write)
    sys.stdout.flush()
    if not args.quiet:
        _summary(reports, written=args.write)
    if errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if pending else EXIT_OK


def _write(report: FixReport, *, backup: bool) -> bool:
    """Replace the file (through a temporary file and a rename; a symbolic link is followed,
    so the link stays a link); with ``backup``, keep the original next to it first."""
    target = os.path.realpath(report.path)
    try:
        if backup:
            write_atomic(target + BACKUP_SUFFIX, report.original)
        write_atomic(target, report.text)
        for companion, text in report.companions.items():
            if os.path.exists(companion):
                sys.stderr.write(f"slimline: {companion} exists; left as it is\n")
                continue
            write_atomic(companion, text)
    except OSError as exc:
        sys.stderr.write(f"slimline: error: {report.path}: cannot write: {exc.strerror or exc}\n")
        return False
    return True


def _new_file_diff(text: str, path: str) -> str:
    import difflib

    lines = difflib.unified_diff([], text.splitlines(keepends=True), "/dev/null", path)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _verified(report: FixReport, args: argparse.Namespace) -> bool:
    """Build and run the original and the fixed Dockerfile; print the comparison. False (and
    the reason on stderr) when the fix breaks the build or changes what the image does."""
    from slimline.engine import EngineError, probe_from_options, verify_fix

    context = args.context or os.path.dirname(os.path.abspath(report.path))
    try:
        probe = probe_from_options(args.probe, args.probe_http)
    except (EngineError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    try:
        result = verify_fix(
            report.original,
            report.text,
            context,
            probe=probe,
            keep_images=args.keep_images,
            dockerfile=os.path.relpath(os.path.abspath(report.path), context),
        )
    except EngineError as exc:
        sys.stderr.write(f"slimline: error: {report.path}: --build: {exc}\n")
        return False
    sys.stderr.write(f"{report.path}: {result.summary()}\n")
    if not result.same_behaviour:
        for difference in result.differences:
            sys.stderr.write(f"{report.path}: --build: {difference}\n")
        sys.stderr.write(
            f"slimline: error: {report.path}: the fix changes behaviour; not written\n"
        )
        return False
    return True


def _notes(report: FixReport, *, written: bool) -> None:
    verb = "fixed" if written else "fix"
    for applied in report.applied:
        sys.stderr.write(f"{report.path}: {applied.rule} line {applied.line}: {verb}: ")
        sys.stderr.write(f"{applied.description}\n")
    for skipped in report.skipped:
        sys.stderr.write(f"{report.path}: {skipped.note()}\n")
    for note in report.notes:
        sys.stderr.write(f"{report.path}: {note}\n")


def _summary(reports: list[FixReport], *, written: bool) -> None:
    applied = sum(len(r.applied) for r in reports)
    files = sum(1 for r in reports if r.changed)
    skipped = sum(len(r.skipped) for r in reports)
    if applied == 0:
        text = "nothing to fix"
    else:
        fixes = f"{applied} fix{'es' if applied != 1 else ''}"
        where = f"{files} file{'s' if files != 1 else ''}"
        text = f"{'applied' if written else 'would apply'} {fixes} to {where}"
    if skipped:
        text += (
            f"; {skipped} finding{'s' if skipped != 1 else ''} of fixable rules left as they are"
        )
    sys.stderr.write(text + "\n")
