"""Human-readable analysis: a summary, then tables of layers, space, packages and findings.

Tables are drawn by rich into a string at the width the options give (100 columns unless told
otherwise); narrower widths shrink the command and message columns first. Sizes use decimal SI
units (1 MB = 1,000,000 bytes), like ``docker images`` and dive. Every string that comes from
the image (paths, commands, package names) is shown as plain text with control characters
neutralised, so an image cannot move the cursor or change colours of the terminal it is shown on.
"""

from __future__ import annotations

import re
from io import StringIO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from slimline.findings import Severity
from slimline.image.model import ImageAnalysis, ImageFinding, LayerSummary, SizedPath
from slimline.packages.base import Package
from slimline.report._common import display_path, human_bytes, one_line
from slimline.report.analysis._shared import (
    biggest_packages,
    ecosystem_counts,
    image_path,
    installers,
    instruction_of,
    layer_source,
    ordered_findings,
    platform_of,
    severity_counts,
    short_id,
)
from slimline.report.analysis.options import AnalysisOptions
from slimline.report.options import RenderOptions

NAME = "text"

MAX_PATHS_SHOWN = 3
# the narrowest width that shows the bytes added, changed and removed by each layer
WIDE = 100

_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold blue",
    Severity.STYLE: "bold magenta",
}
_PLURAL = {Severity.ERROR: "errors", Severity.WARNING: "warnings"}
# trailing padding, possibly wrapped in style codes, that rich leaves at the end of table rows
_TRAILING = re.compile(r"(?:[ ]|\x1b\[[0-9;]*m)+$")


def render(analysis: ImageAnalysis, options: RenderOptions) -> str:
    opts = AnalysisOptions.of(options)
    sections: list[RenderableType] = [_summary(analysis, opts)]
    sections.append(_layers(analysis, opts))
    inefficient = _inefficient(analysis, opts)
    if inefficient is not None:
        sections.append(inefficient)
    if analysis.largest_dirs:
        sections.append(_sized("Largest directories", analysis.largest_dirs, opts, dirs=True))
    if analysis.largest_files:
        sections.append(_sized("Largest files", analysis.largest_files, opts, dirs=False))
    if analysis.packages:
        sections.append(_packages(analysis, opts))
    sections.append(_findings(analysis))
    return _print(sections, opts)


def _console(options: AnalysisOptions, buffer: StringIO) -> Console:
    # Everything that rich would read from the environment or the terminal is fixed here: the
    # caller decides on colour and width, so the same analysis renders to the same text.
    return Console(
        file=buffer,
        width=options.columns,
        color_system="standard" if options.color else None,
        force_terminal=options.color,
        force_jupyter=False,
        force_interactive=False,
        no_color=not options.color,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
        _environ={},
    )


def _print(sections: list[RenderableType], options: AnalysisOptions) -> str:
    buffer = StringIO()
    console = _console(options, buffer)
    for index, section in enumerate(sections):
        if index:
            console.line()
        console.print(section)
    lines = [_without_padding(line) for line in buffer.getvalue().split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _without_padding(line: str) -> str:
    """`line` without trailing spaces; a style left open by what was cut is closed again."""
    match = _TRAILING.search(line)
    if match is None:
        return line
    cut = match.group(0)
    kept = line[: match.start()]
    if "\x1b[" in cut and "\x1b[" in kept:
        kept += "\x1b[0m"
    return kept


def _plain(text: str, style: str = "") -> Text:
    """Text from the image or the user, shown verbatim: never parsed as markup."""
    return Text(one_line(text), style=style)


def _table(*, expand: bool = False) -> Table:
    # `expand` lets a column with a ratio take the width left by the others
    return Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=expand,
        header_style="bold",
    )


def _section(title: str, body: RenderableType) -> RenderableType:
    # a heading of its own, not the table's title, which rich would wrap to the table's width
    return Group(Text(title, style="bold"), body)


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f} %"


def _summary(analysis: ImageAnalysis, options: AnalysisOptions) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    waste = analysis.waste

    def row(label: str, *parts: Text | str) -> None:
        value = Text()
        for part in parts:
            value.append(part if isinstance(part, Text) else Text(part))
        grid.add_row(label, value)

    row("Image", _plain(analysis.name, "bold"))
    platform = platform_of(analysis)
    if platform:
        row("Platform", _plain(platform))
    os_name = _os_name(analysis)
    row("OS", _plain(os_name) if os_name else Text("unknown", style="dim"))
    if analysis.image_id:
        row("Image ID", _plain(short_id(analysis.image_id)))
    for digest in analysis.repo_digests:
        row("Digest", _plain(digest))
    row(
        "Size",
        Text(human_bytes(analysis.size_bytes), style="bold"),
        f" in {_count(len(analysis.layers), 'layer')}",
    )
    row(
        "Final files",
        Text(human_bytes(analysis.final_bytes), style="bold"),
        f" in {_count(analysis.file_count, 'file')}",
    )
    row(
        "Efficiency",
        Text(_percent(waste.score), style="bold"),
        "  wasted ",
        Text(human_bytes(waste.wasted_bytes), style="bold"),
        f" ({_percent(waste.user_wasted_percent)} of the user layers), as dive counts",
    )
    row(
        "Reclaimable",
        Text(human_bytes(waste.reclaimable_bytes), style="bold green"),
        "  in copies that a later layer overwrote or deleted",
    )
    if analysis.packages:
        by_ecosystem = ", ".join(
            f"{n:,} {name}" for name, n in ecosystem_counts(analysis.packages).items()
        )
        row("Packages", f"{len(analysis.packages):,} ({by_ecosystem})")
    row("Findings", _findings_summary(analysis.findings))
    if analysis.dockerfile:
        row("Dockerfile", _plain(display_path(analysis.dockerfile, options.base_dir)))
    return grid


def _os_name(analysis: ImageAnalysis) -> str:
    release = analysis.os
    if release is None:
        return ""
    if release.pretty_name:
        return release.pretty_name
    return " ".join(part for part in (release.id, release.version_id) if part)


def _findings_summary(findings: tuple[ImageFinding, ...]) -> Text:
    text = Text(_count(len(findings), "finding"), style="bold")
    counts = [
        Text(f"{n} {s.value if n == 1 else _PLURAL.get(s, s.value)}", style=_SEVERITY_STYLE[s])
        for s, n in severity_counts(findings).items()
        if n
    ]
    if counts:
        text.append(" (")
        text.append(Text(", ").join(counts))
        text.append(")")
    return text


def _files_and_bytes(files: int, size: int, sign: str) -> Text:
    if not files:
        return Text("")
    return Text(f"{sign}{files:,} {human_bytes(size)}")


def _layers(analysis: ImageAnalysis, options: AnalysisOptions) -> RenderableType:
    if not analysis.layers:
        return Text("No layers: the image has no filesystem.", style="dim")
    # below WIDE the bytes of each kind of change give way to the instruction
    wide = options.columns >= WIDE
    table = _table(expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    if wide:
        table.add_column("added", justify="right", no_wrap=True)
        table.add_column("changed", justify="right", no_wrap=True)
        table.add_column("removed", justify="right", no_wrap=True)
    else:
        table.add_column("files", justify="right", no_wrap=True)
    table.add_column("instruction", no_wrap=True, overflow="ellipsis", ratio=1)
    # the header names the file in full; the narrow column needs only its name and the line
    dockerfile = (
        display_path(analysis.dockerfile, options.base_dir).rpartition("/")[2]
        if analysis.dockerfile
        else None
    )
    for layer in analysis.layers:
        changes = [
            (layer.added_files, layer.added_bytes, "+"),
            (layer.changed_files, layer.changed_bytes, "~"),
            (layer.removed_files, layer.removed_bytes, "-"),
        ]
        if wide:
            cells = [_files_and_bytes(files, size, sign) for files, size, sign in changes]
        else:
            cells = [Text(" ".join(f"{sign}{files:,}" for files, _, sign in changes if files))]
        table.add_row(
            str(layer.index),
            human_bytes(layer.content_bytes),
            *cells,
            _instruction(layer, dockerfile),
        )
    return _section("Layers", table)


def _instruction(layer: LayerSummary, dockerfile: str | None) -> Text:
    text = Text()
    source = layer_source(layer, dockerfile)
    if source:
        text.append(one_line(source), style="cyan")
        text.append(" ")
    instruction = instruction_of(layer.created_by)
    if instruction:
        text.append(one_line(instruction))
    elif layer.dockerfile_instruction:
        text.append(one_line(layer.dockerfile_instruction))
    else:
        text.append("(no history)", style="dim")
    return text


def _inefficient(analysis: ImageAnalysis, options: AnalysisOptions) -> RenderableType | None:
    paths = analysis.waste.inefficient[: options.top]
    if not paths:
        return None
    table = _table()
    table.add_column("bytes", justify="right", no_wrap=True)
    table.add_column("copies", justify="right", no_wrap=True)
    table.add_column("path", overflow="fold")
    for item in paths:
        table.add_row(human_bytes(item.total_bytes), f"{item.count:,}", _plain(item.path))
    return _section("Paths in several layers (dive's wasted bytes)", table)


def _sized(
    title: str, items: tuple[SizedPath, ...], options: AnalysisOptions, *, dirs: bool
) -> RenderableType:
    table = _table()
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("files" if dirs else "layer", justify="right", no_wrap=True)
    table.add_column("path", overflow="fold")
    for item in items[: options.top]:
        extra = f"{item.files:,}" if dirs else ("" if item.layer is None else str(item.layer))
        table.add_row(human_bytes(item.bytes), extra, _plain(image_path(item.path)))
    return _section(title, table)


def _packages(analysis: ImageAnalysis, options: AnalysisOptions) -> RenderableType:
    shown = biggest_packages(analysis.packages, options.top)
    by_purl = installers(analysis.packages)
    table = _table()
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("files", justify="right", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("version", overflow="fold")
    linked = any(package.installed_by for package in shown)
    if linked:
        table.add_column("installed by", overflow="fold")
    for package in shown:
        cells: list[RenderableType] = [
            human_bytes(package.size_bytes),
            f"{len(package.files):,}",
            _plain(package.ecosystem),
            _plain(package.name, "bold"),
            _plain(package.version),
        ]
        if linked:
            cells.append(_installer(package, by_purl))
        table.add_row(*cells)
    return _section(f"Biggest packages ({len(shown)} of {len(analysis.packages):,})", table)


def _installer(package: Package, by_purl: dict[str, Package]) -> Text:
    if package.installed_by is None:
        return Text("")
    owner = by_purl.get(package.installed_by)
    if owner is None:
        return _plain(package.installed_by, "dim")
    return _plain(f"{owner.name} ({owner.ecosystem})")


def _findings(analysis: ImageAnalysis) -> RenderableType:
    if not analysis.findings:
        return Text("No findings.", style="green")
    table = _table(expand=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("saves", justify="right", no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=1)
    for finding in ordered_findings(analysis.findings):
        table.add_row(
            Text(one_line(finding.rule), style="bold"),
            Text(finding.severity.value, style=_SEVERITY_STYLE[finding.severity]),
            Text(human_bytes(finding.bytes), style="green") if finding.bytes else Text(""),
            _finding_details(finding),
        )
    return _section("Findings", table)


def _finding_details(finding: ImageFinding) -> RenderableType:
    lines: list[Text] = []
    head = _plain(finding.title, "bold")
    head.append(Text(f" [{finding.practice.value}]", style="cyan"))
    lines.append(head)
    message = one_line(finding.message)
    if message:
        lines.append(Text(message))
    if finding.paths:
        shown = [image_path(path) for path in finding.paths[:MAX_PATHS_SHOWN]]
        total = max(finding.path_count, len(finding.paths))
        more = total - len(shown)
        text = Text("paths: ", style="dim")
        text.append(one_line(", ".join(shown)))
        if more > 0:
            text.append(f" (+{more:,} more)", style="dim")
        lines.append(text)
    if finding.layers:
        label = "layer" if len(finding.layers) == 1 else "layers"
        lines.append(Text(f"{label}: " + ", ".join(map(str, finding.layers)), style="dim"))
    return Group(*lines)
