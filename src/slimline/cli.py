"""The command line: argument parsing, output and exit codes. All work happens in slimline.api.

Exit codes: 0 nothing at or above the failure threshold; 1 findings at or above it;
2 usage or input error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from slimline import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _fail(message: str) -> NoReturn:
    click.echo(f"slimline: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def write_atomic(path: str, text: str) -> None:
    """Write through a temporary file in the same directory, then rename over the target."""
    import tempfile

    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def _format_names() -> list[str]:
    from slimline.report import available_formats

    return available_formats()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="slimline")
def cli() -> None:
    """slimline: make container images small and safe, and prove it by measurement."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "-f",
    "--format",
    "fmt",
    default="text",
    show_default=True,
    help="Output format: text, json, sarif or github.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the report to this file (atomically) instead of stdout.",
)
@click.option(
    "--select",
    multiple=True,
    help="Only these rules (ids, id prefixes or practices; comma-separated).",
)
@click.option(
    "--ignore",
    multiple=True,
    help="Skip these rules (ids, id prefixes or practices; comma-separated).",
)
@click.option("--severity", help="Lowest severity to report: error, warning, info, style.")
@click.option("--fail-on", help="Lowest severity that makes the exit code 1 (or 'never').")
@click.option("--target", help="The build stage treated as the final image (default: the last).")
@click.option(
    "--exclude", multiple=True, help="Gitignore-style pattern of files to skip in directories."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Configuration file (.slimline.toml or pyproject.toml).",
)
@click.option("--no-config", is_flag=True, help="Ignore configuration files.")
@click.option(
    "--pin-digests", is_flag=True, default=None, help="Require base images pinned by digest."
)
@click.option(
    "--pin-packages", is_flag=True, default=None, help="Require package versions to be pinned."
)
@click.option("--stdin-filename", default="<stdin>", help="Name to report for input read from '-'.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text output (default: when writing to a terminal).",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 64), help="Worker processes for large directories."
)
def check(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    severity: str | None,
    fail_on: str | None,
    target: str | None,
    exclude: tuple[str, ...],
    config_path: str | None,
    no_config: bool,
    pin_digests: bool | None,
    pin_packages: bool | None,
    stdin_filename: str,
    color: bool | None,
    jobs: int | None,
) -> None:
    """Lint Dockerfiles (files, directories searched recursively, or '-' for stdin)."""
    from slimline import api
    from slimline.config import Config, ConfigError, discover, load_file
    from slimline.findings import Severity

    names = _format_names()
    if fmt not in names:
        _fail(f"unknown format {fmt!r} (choose from: {', '.join(names)})")
    try:
        if no_config:
            config = Config()
        elif config_path:
            config = load_file(Path(config_path))
        else:
            config = discover()
    except ConfigError as exc:
        _fail(str(exc))
    never = fail_on is not None and fail_on.strip().lower() in ("never", "none")
    try:
        config = config.with_overrides(
            select=_split(select) or None,
            ignore=(config.ignore + _split(ignore)) if ignore else None,
            severity=Severity.parse(severity) if severity else None,
            fail_on=Severity.parse(fail_on) if fail_on and not never else None,
            exclude=(config.exclude + tuple(exclude)) if exclude else None,
            target=target,
        )
    except ValueError as exc:
        _fail(str(exc))
    options: dict[str, Any] = dict(config.options)
    if pin_digests:
        options["pin-digests"] = True
    if pin_packages:
        options["pin-packages"] = True
    config = config.with_overrides(options=options)
    known = set(api.rules())
    for selector in config.select + config.ignore:
        if selector.upper().startswith("SL") and not any(
            r.startswith(selector.upper()) for r in known
        ):
            _fail(f"unknown rule {selector!r} (see 'slimline rules')")
    inputs = list(paths) or ["."]
    for item in inputs:
        if item != "-" and not os.path.exists(item):
            _fail(f"{item}: no such file or directory")
    stdin_data = sys.stdin.buffer.read() if "-" in inputs else None
    report = api.check(inputs, config, stdin_data=stdin_data, jobs=jobs)
    if stdin_data is not None:
        for result in report.files:
            if result.path == "<stdin>":
                result.path = stdin_filename
                result.findings = [_renamed(f, stdin_filename) for f in result.findings]
                if result.error is not None:
                    from dataclasses import replace

                    result.error = replace(result.error, file=stdin_filename)
    if not report.files:
        click.echo("slimline: no Dockerfiles found in " + ", ".join(inputs), err=True)
    from slimline.report import RenderOptions, get_renderer

    use_color = (
        color if color is not None else (output is None and sys.stdout.isatty() and fmt == "text")
    )
    text = get_renderer(fmt).render(
        report, RenderOptions(color=use_color, tool_version=__version__, base_dir=os.getcwd())
    )
    if output:
        try:
            write_atomic(output, text)
        except OSError as exc:
            _fail(f"{output}: cannot write: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if report.errors:
        for err in report.errors:
            if fmt != "text":
                click.echo(f"slimline: {err}", err=True)
        sys.exit(EXIT_ERROR)
    if not never and report.failed(config.fail_on):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


def _renamed(finding: Any, name: str) -> Any:
    from dataclasses import replace

    return replace(finding, file=name)


@cli.command("rules")
@click.option("--practice", help="Only rules of this practice.")
@click.option(
    "-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def rules_command(practice: str | None, fmt: str) -> None:
    """List the Dockerfile rules."""
    import json

    from slimline import api

    infos = [i for i in api.rules().values() if practice is None or i.practice.value == practice]
    if practice is not None and not infos:
        _fail(f"no rules for practice {practice!r}")
    if fmt == "json":
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
        click.echo(json.dumps(data, indent=2))
        return
    width = max((len(i.name) for i in infos), default=10)
    for i in infos:
        flags = "" if i.default_enabled else " (opt-in)"
        refs = f" [{', '.join(i.refs)}]" if i.refs else ""
        click.echo(
            f"{i.id}  {i.name:<{width}}  {i.practice.value:<15} {i.severity.value:<8} {i.summary}{flags}{refs}"
        )


@cli.command()
@click.argument("rule_ids", nargs=-1, required=True)
def explain(rule_ids: tuple[str, ...]) -> None:
    """Print the documentation of one or more rules (SL ids or hadolint DL ids)."""
    from slimline import api

    infos = api.rules()
    for n, raw in enumerate(rule_ids):
        rid = raw.strip().upper()
        matches = (
            [infos[rid]]
            if rid in infos
            else [i for i in infos.values() if rid in (r.upper() for r in i.refs)]
        )
        if not matches:
            _fail(f"unknown rule {raw!r} (see 'slimline rules')")
        for info in matches:
            if n:
                click.echo("")
            click.echo(f"{info.id} {info.name}")
            click.echo(
                f"practice: {info.practice.value}   severity: {info.severity.value}   fixable: {'yes' if info.fixable else 'no'}   {'enabled by default' if info.default_enabled else 'opt-in'}"
            )
            if info.refs:
                click.echo(f"equivalents: {', '.join(info.refs)}")
            click.echo("")
            click.echo(info.doc)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="slimline",
            standalone_mode=False,
        )
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else "", err=True)
        sys.exit(EXIT_ERROR)
    except click.UsageError as exc:
        hint = (
            f" (see 'slimline {exc.ctx.info_name} --help')"
            if exc.ctx and exc.ctx.parent
            else " (see 'slimline --help')"
        )
        _fail(exc.format_message() + hint)
    except click.ClickException as exc:
        _fail(exc.format_message())
    except click.Abort:
        click.echo("slimline: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("slimline: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: still one line, never a traceback
        if os.environ.get("SLIMLINE_DEBUG"):
            raise
        click.echo(
            f"slimline: internal error: {type(exc).__name__}: {exc} (set SLIMLINE_DEBUG=1 for details)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
