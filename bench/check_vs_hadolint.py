"""Throughput of `slimline check` and `hadolint` over one directory, plus single-file latency.

Both tools get the same list of files in one invocation each; the wall time of the whole
process is measured (interpreter or runtime start included). The last line is the ratio.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from slimline.discovery import discover_files

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install the bench extra (pip install -e '.[bench]')")
    return found


def timed(cmd: list[str], repeat: int) -> float:
    """Best of ``repeat`` wall times, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "corpus"
    files = discover_files(directory)
    if not files:
        sys.exit(f"no Dockerfiles in {directory}")
    slimline, hadolint = tool("slimline"), tool("hadolint")
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    print(f"files: {len(files)} from {directory}")
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")

    s_all = timed([slimline, "check", "--no-config", "--format", "json", *files], repeat)
    h_all = timed([hadolint, "--no-fail", "--format", "json", *files], repeat)
    s_rate, h_rate = len(files) / s_all, len(files) / h_all
    print(f"slimline: {s_all:.2f} s, {s_rate:,.0f} files/s")
    print(f"hadolint: {h_all:.2f} s, {h_rate:,.0f} files/s")

    one = files[len(files) // 2]
    singles = []
    for _ in range(max(15, repeat * 5)):
        start = time.perf_counter()
        subprocess.run(
            [slimline, "check", "--no-config", one], stdout=subprocess.DEVNULL, check=False
        )
        singles.append(time.perf_counter() - start)
    h_single = timed([hadolint, "--no-fail", one], 5)
    print(
        f"single file ({one}): slimline median {statistics.median(singles) * 1000:.0f} ms, "
        f"best {min(singles) * 1000:.0f} ms; hadolint best {h_single * 1000:.0f} ms"
    )
    agreement(slimline, hadolint, files)
    print(f"ratio (slimline files/s / hadolint files/s): {s_rate / h_rate:.1f}x")


def agreement(slimline: str, hadolint: str, files: list[str]) -> None:
    """Where both tools have an equivalent rule: how many of hadolint's hits slimline makes
    on the same instruction, and what each tool fails to parse."""
    ours = json.loads(
        subprocess.run(
            [
                slimline,
                "check",
                "--no-config",
                "-f",
                "json",
                "--select",
                ",".join(sorted(set().union(*_mapped().values()))),
                *files,
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    )
    theirs = json.loads(
        subprocess.run(
            [hadolint, "--no-fail", "-f", "json", *files],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        or "[]"
    )
    refs = _mapped()
    # hadolint reports an instruction's first line, slimline the line of the command at
    # fault: compare by instruction.
    ours_at: dict[tuple[str, int], set[str]] = {}
    for f in ours["findings"]:
        path = os.path.abspath(f["file"])
        for ref in f["refs"]:
            ours_at.setdefault((path, _instruction_start(path, f["line"])), set()).add(ref)
    hadolint_failed = {os.path.abspath(h["file"]) for h in theirs if h["code"] == "DL1000"}
    ours_failed = {os.path.abspath(e["file"]) for e in ours["errors"]}
    print(
        f"parse failures: slimline {len(ours_failed)}, hadolint {len(hadolint_failed)} of {len(files)} files"
    )
    by_code: dict[str, list[int]] = {}
    for h in theirs:
        code = h["code"]
        if code not in refs:
            continue
        path = os.path.abspath(h["file"])
        hit = code in ours_at.get((path, _instruction_start(path, h["line"])), set())
        counts = by_code.setdefault(code, [0, 0])
        counts[0] += 1
        counts[1] += hit
    for code, (total, same) in sorted(by_code.items()):
        opt_in = " (opt-in in slimline)" if refs[code] & _opt_in() else ""
        print(
            f"  {code} ~ {', '.join(sorted(refs[code]))}{opt_in}: hadolint {total}, slimline on the same instruction {same}"
        )


@functools.cache
def _instructions(path: str) -> list[tuple[int, int]]:
    from slimline.dockerfile.parse import ParseError, parse_bytes

    try:
        doc = parse_bytes(Path(path).read_bytes(), path)
    except ParseError:
        return []
    return [(i.line, i.end_line) for i in doc.instructions]


def _instruction_start(path: str, line: int) -> int:
    for start, end in _instructions(path):
        if start <= line <= end:
            return start
    return line


def _opt_in() -> set[str]:
    from slimline import api

    return {info.id for info in api.rules().values() if not info.default_enabled}


def _mapped() -> dict[str, set[str]]:
    from slimline import api

    out: dict[str, set[str]] = {}
    for info in api.rules().values():
        for ref in info.refs:
            if ref.startswith("DL"):
                out.setdefault(ref, set()).add(info.id)
    return out


if __name__ == "__main__":
    main()
