"""The slim result for a terminal: sizes, what went, what a scanner still finds, and the
verification."""

from __future__ import annotations

from slimline.report.options import RenderOptions
from slimline.slim.result import SlimResult

NAME = "text"
MAX_LISTED = 12


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(count) >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _listing(items: tuple[str, ...] | list[str]) -> str:
    shown = list(items[:MAX_LISTED])
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def render(result: SlimResult, options: RenderOptions) -> str:
    lines: list[str] = []
    original, slim = result.original, result.slim
    lines.append(f"slim {result.image} ({result.mode.value} mode)")
    lines.append(
        f"  size      {_size(original.size_bytes)} -> {_size(slim.size_bytes)}"
        f" ({result.saving_ratio:.1%} smaller)"
    )
    lines.append(f"  files     {original.files} -> {slim.files}")
    lines.append(f"  packages  {original.packages} -> {slim.packages}")
    if result.traced_files:
        lines.append(
            f"  traced    {result.traced_files} files, {_size(result.traced_bytes)}"
            " (the smallest runnable set the runs showed)"
        )
    if result.closure_bytes:
        lines.append(
            f"  closure   {result.closure_packages} packages, {_size(result.closure_bytes)}"
        )
    if result.removed_packages:
        removed = [f"{p.name} ({p.ecosystem})" for p in result.removed_packages]
        lines.append(f"  removed   {len(removed)} packages: " + _listing(removed))
    if result.removed_shells:
        lines.append("  removed shells: " + _listing(result.removed_shells))
    if result.removed_package_managers:
        lines.append("  removed package managers: " + _listing(result.removed_package_managers))
    scanners = [f"{p.name} {p.version}" for p in result.remaining_packages]
    lines.append(
        f"  remaining for scanners: {len(scanners)} packages"
        + (f" ({_listing(scanners)})" if scanners else "")
    )
    if result.remaining_shells:
        lines.append("  still has shells: " + _listing(result.remaining_shells))
    if result.remaining_package_managers:
        lines.append("  still has package managers: " + _listing(result.remaining_package_managers))
    verification = result.verification
    lines.append(f"  verified  {verification.passed} of {verification.runs} runs passed")
    for note in verification.notes:
        lines.append(f"  note: {note}")
    if verification.repaired:
        lines.append(
            f"  added back after a failed run: {_listing(['/' + p for p in verification.repaired])}"
        )
    for failure in verification.failures:
        lines.append(f"  FAILED run {failure.run}: {failure.probe}: {failure.difference}")
        if failure.missing:
            missing = ["/" + m.lstrip("/") for m in failure.missing]
            lines.append("    missing in the slim image: " + _listing(missing))
    if result.written:
        where = " and ".join(
            x
            for x in (
                result.tag and f"tagged {result.tag}",
                result.output and f"written to {result.output}",
            )
            if x
        )
        lines.append(f"  {where} ({result.image_id})")
    else:
        lines.append("  nothing written: the slim image did not behave like the original")
    return "\n".join(lines) + "\n"
