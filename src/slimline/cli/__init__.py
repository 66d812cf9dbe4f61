"""The command line: argument parsing, output and exit codes. All work happens in slimline.api.

Exit codes: 0 nothing at or above the failure threshold; 1 findings at or above it;
2 usage or input error (one line on stderr, never a traceback).

Each command is one module of this package declaring ``ORDER`` (its place in the help) and
``add_parser(commands)``; modules import their heavy dependencies inside the handler, so that
building the parser stays cheap.

argparse rather than click: a single-file check must finish in 150 ms including interpreter
start, and importing click alone takes 30-50 ms of that here; argparse takes 1-2 ms.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from slimline import __version__
from slimline.cli._common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    Parser,
    UsageError,
    fail,
    write_atomic,
)

__all__ = ["EXIT_ERROR", "EXIT_FINDINGS", "EXIT_OK", "UsageError", "main", "write_atomic"]


def _command_modules() -> list[ModuleType]:
    modules = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda module: (getattr(module, "ORDER", 100), module.__name__))


def _build_parser() -> Parser:
    parser = Parser(
        prog="slimline",
        description="slimline: make container images small and safe, and prove it by measurement.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"slimline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in _command_modules():
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = _build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
        if args.command is None:
            parser.print_help(sys.stderr)
            sys.exit(EXIT_ERROR)
        sys.exit(args.handler(args))
    except UsageError as exc:
        fail(str(exc))
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
