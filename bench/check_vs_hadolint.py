"""Throughput of `slimline check` and `hadolint` over one directory, plus single-file latency.

Both tools get the same list of files in one invocation each; the wall time of the whole
process is measured (interpreter or runtime start included). The last line is the ratio.
"""

from __future__ import annotations

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
    for _ in range(max(5, repeat * 3)):
        start = time.perf_counter()
        subprocess.run(
            [slimline, "check", "--no-config", one], stdout=subprocess.DEVNULL, check=False
        )
        singles.append(time.perf_counter() - start)
    h_single = timed([hadolint, "--no-fail", one], 5)
    print(
        f"single file ({Path(one).name}): slimline median {statistics.median(singles) * 1000:.0f} ms, "
        f"hadolint best {h_single * 1000:.0f} ms"
    )
    print(f"ratio (slimline files/s / hadolint files/s): {s_rate / h_rate:.1f}x")


if __name__ == "__main__":
    main()
