"""What every command shares: exit codes, one-line usage errors and atomic writes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    pass


def fail(message: str) -> NoReturn:
    sys.stderr.write(f"slimline: error: {message}\n")
    sys.exit(EXIT_ERROR)


class Parser(argparse.ArgumentParser):
    """Usage errors become one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def split_list(values: Sequence[str] | None) -> tuple[str, ...]:
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


def emit(text: str, output: str | None) -> None:
    """A report to `output` (written atomically) or to standard output."""
    if output:
        try:
            write_atomic(output, text)
        except OSError as exc:
            fail(f"{output}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def wants_color(args: argparse.Namespace) -> bool:
    """--color/--no-color, else colour only for text on a terminal without NO_COLOR."""
    if args.color is not None:
        return bool(args.color)
    return (
        args.output is None
        and args.format == "text"
        and sys.stdout.isatty()
        and not os.environ.get("NO_COLOR")
    )
