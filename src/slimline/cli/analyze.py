"""`slimline analyze IMAGE`: where an image's bytes go, its packages and its bloat."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from slimline.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    UsageError,
    emit,
    fail,
    wants_color,
)

ORDER = 30


def add_image_arguments(parser: Any) -> None:
    """The arguments every command that opens an image takes."""
    parser.add_argument(
        "image",
        metavar="IMAGE",
        help="an engine image (name, id or docker:NAME), docker-archive:PATH[:REF],"
        " oci:DIR[:REF], oci-archive:PATH[:REF], registry:HOST/REPO[:TAG|@DIGEST] or dir:PATH",
    )
    parser.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform image")
    parser.add_argument("-o", "--output", help="write the report to this file (atomically)")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar while reading layers"
    )


def add_parser(commands: Any) -> None:
    analyze = commands.add_parser(
        "analyze",
        help="show an image's layers, wasted bytes, bloat and packages",
        description="Open an image and report its layers, dive-compatible efficiency and wasted"
        " bytes, the bytes really reclaimable, in-layer bloat (caches, docs, build tools,"
        " secrets, data) and its packages.",
    )
    add_image_arguments(analyze)
    analyze.add_argument("-f", "--format", default="text", help="text or json (default: text)")
    analyze.add_argument(
        "--dockerfile", help="the Dockerfile the image was built from, to name each layer's line"
    )
    analyze.add_argument("--target", help="the Dockerfile stage the image was built from")
    analyze.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="CONDITION",
        help="exit 1 when a condition holds: efficiency<0.95, wasted>20MB, user-wasted>10%%,"
        " reclaimable>5MB, size>1GB, final-size>, bloat>, packages>N, layers>N, or a severity"
        " (warning: any finding at or above it); repeat or comma-separate",
    )
    analyze.add_argument(
        "--no-packages", action="store_true", help="skip the package catalogers in the report"
    )
    color = analyze.add_mutually_exclusive_group()
    color.add_argument("--color", dest="color", action="store_true", default=None)
    color.add_argument("--no-color", dest="color", action="store_false")
    analyze.add_argument("--width", type=int, help="text width (default: the terminal's)")
    analyze.set_defaults(handler=_analyze)


def open_and_analyze(
    args: argparse.Namespace, *, packages: bool, findings: bool, layout: bool = True
) -> Any:
    """Open args.image and analyze it, with a progress bar on a terminal; exits 2 on bad input."""
    from slimline.image.analyze import AnalyzeOptions, analyze_image
    from slimline.image.sources import ImageError, open_image

    dockerfile_text = None
    dockerfile = getattr(args, "dockerfile", None)
    if dockerfile:
        try:
            with open(dockerfile, encoding="utf-8-sig") as handle:
                dockerfile_text = handle.read()
        except OSError as exc:
            fail(f"{dockerfile}: cannot read: {exc.strerror or exc}")
        except UnicodeDecodeError:
            fail(f"{dockerfile}: not UTF-8 text")
    options = AnalyzeOptions(
        packages=packages,
        findings=findings,
        layout=layout,
        dockerfile=dockerfile_text,
        dockerfile_path=dockerfile,
        target=getattr(args, "target", None),
    )
    show_progress = not args.no_progress and sys.stderr.isatty()
    try:
        with open_image(args.image, platform=args.platform) as image:
            if not show_progress:
                return analyze_image(image, options)
            from slimline.cli._progress import LayerProgress

            with LayerProgress(image) as progress:
                return analyze_image(image, options, progress.update)
    except ImageError as exc:
        fail(str(exc))
    except _dockerfile_errors() as exc:
        fail(f"{dockerfile}: {exc}")
    except MemoryError:
        fail(f"{args.image}: out of memory while reading the image")


def _dockerfile_errors() -> tuple[type[Exception], ...]:
    from slimline.dockerfile.parse import ParseError

    return (ParseError,)


def _analyze(args: argparse.Namespace) -> int:
    from slimline import __version__
    from slimline.image.gates import failed_gates, parse_gates
    from slimline.report.analysis import available_formats, get_renderer

    names = available_formats()
    if args.format not in names:
        raise UsageError(f"unknown format {args.format!r} (choose from: {', '.join(names)})")
    try:
        gates = parse_gates(args.fail_on)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    analysis = open_and_analyze(args, packages=not args.no_packages, findings=True)
    from slimline.report.analysis.options import AnalysisOptions

    width = args.width
    if width is not None and width < 40:
        raise UsageError("--width must be at least 40")
    if width is None and args.output is None and sys.stdout.isatty():
        import shutil

        width = shutil.get_terminal_size().columns
    options = AnalysisOptions(
        color=wants_color(args), tool_version=__version__, base_dir=os.getcwd(), width=width
    )
    emit(get_renderer(args.format).render(analysis, options), args.output)
    reasons = failed_gates(analysis, gates)
    for reason in reasons:
        sys.stderr.write(f"slimline: fail-on: {reason}\n")
    return EXIT_FINDINGS if reasons else EXIT_OK


__all__ = ["add_image_arguments", "open_and_analyze"]
