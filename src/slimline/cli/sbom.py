"""`slimline sbom IMAGE`: the image's packages as a CycloneDX or SPDX document."""

from __future__ import annotations

import argparse
import os
from typing import Any

from slimline.cli._common import EXIT_OK, UsageError, emit
from slimline.cli.analyze import add_image_arguments, open_and_analyze

ORDER = 40


def add_parser(commands: Any) -> None:
    sbom = commands.add_parser(
        "sbom",
        help="write an SBOM of an image (CycloneDX 1.6 or SPDX 2.3 JSON)",
        description="List every package of an image (dpkg, apk, Python, npm) as an SBOM.",
    )
    add_image_arguments(sbom)
    sbom.add_argument(
        "-f", "--format", default="cyclonedx", help="cyclonedx or spdx (default: cyclonedx)"
    )
    sbom.set_defaults(handler=_sbom)


def _sbom(args: argparse.Namespace) -> int:
    from slimline import __version__
    from slimline.report.sbom import available_formats, get_renderer
    from slimline.report.sbom._common import creation_time
    from slimline.report.sbom.options import SbomOptions

    names = available_formats()
    if args.format not in names:
        raise UsageError(f"unknown format {args.format!r} (choose from: {', '.join(names)})")
    try:
        # SOURCE_DATE_EPOCH makes the document reproducible; check it before reading the image
        options = SbomOptions(tool_version=__version__, base_dir=os.getcwd())
        creation_time(options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    analysis = open_and_analyze(args, packages=True, findings=False, layout=False)
    emit(get_renderer(args.format).render(analysis, options), args.output)
    return EXIT_OK
