"""Wall time and peak memory of `slimline analyze` and `dive` on the same ~1 GB image.

Both read the same `docker save` archive (and, with --engine, the same image from the engine), one
fresh process per run; the best of N runs is kept. dive writes its JSON report (`--json`), slimline
its JSON report (`--format json`): the figures both compute, efficiency score and wasted bytes, are
compared. The last line is the ratio: dive's time over slimline's (above 1: slimline is faster).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import _images as im

# The targets of the issue: no slower than dive on a 1 GB image, under 300 MB of memory.
MEMORY_TARGET = 300 * 1000 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", "3")),
        help="runs of each command; the best wall time is kept (default 3, or $BENCH_REPEAT)",
    )
    parser.add_argument(
        "--image",
        default="big",
        choices=sorted(im.DOCKERFILES),
        help="big (default), or big-deletions: a last layer that deletes ~1000 directories",
    )
    parser.add_argument(
        "--engine",
        action="store_true",
        help="also time both tools reading the image from the engine (dive --source docker, "
        "slimline docker:TAG)",
    )
    args = parser.parse_args()

    image = im.bench_image(args.image)
    archive = im.ensure_archive(image)
    stats = im.image_stats(archive)
    dive, slimline = im.tool("dive"), im.tool("slimline")
    out = im.RESULTS
    dive_json, slim_json = out / "analyze.dive.json", out / "analyze.slimline.json"

    print(f"machine: {im.machine()}; best of {args.repeat} runs each")
    print(
        f"image: {image.tag}: {stats.layers} layers, {im.mb(stats.content_bytes)} of files "
        f"({im.mb(stats.layer_bytes)} of layer tars), {stats.entries:,} layer entries"
    )
    print(f"archive: {archive.relative_to(im.ROOT)} ({im.mb(stats.archive_bytes)})")
    im.warm(archive)

    def clear_dive() -> None:
        # dive 0.13 does not truncate an existing --json file: remove it before every run.
        dive_json.unlink(missing_ok=True)

    im.progress("dive --source docker-archive --json")
    d = im.measure(
        "dive",
        [dive, str(archive), "--source", "docker-archive", "--json", str(dive_json)],
        args.repeat,
        before=clear_dive,
    )
    im.progress("slimline analyze docker-archive: --format json")
    s = im.measure(
        "slimline",
        [
            slimline,
            "analyze",
            f"docker-archive:{archive}",
            "--format",
            "json",
            "--no-progress",
            "-o",
            str(slim_json),
        ],
        args.repeat,
    )
    for name, run in (("dive", d), ("slimline", s)):
        if run.returncode != 0:
            print(
                f"{name} failed (exit {run.returncode}): {run.stderr.decode(errors='replace')[-2000:]}"
            )
    im.progress("slimline analyze --no-packages (layers and waste only, like dive)")
    s_bare = im.measure(
        "slimline --no-packages",
        [
            slimline,
            "analyze",
            f"docker-archive:{archive}",
            "--format",
            "json",
            "--no-progress",
            "--no-packages",
            "-o",
            os.devnull,
        ],
        args.repeat,
    )

    engine: tuple[im.Run, im.Run] | None = None
    if args.engine:
        im.ensure_image(image)
        im.progress("from the engine: dive --source docker, slimline analyze docker:TAG")
        engine_json = out / "analyze.dive-engine.json"
        de = im.measure(
            "dive (engine)",
            [dive, image.tag, "--source", "docker", "--json", str(engine_json)],
            args.repeat,
            before=lambda: engine_json.unlink(missing_ok=True),
        )
        se = im.measure(
            "slimline (engine)",
            [
                slimline,
                "analyze",
                f"docker:{image.tag}",
                "--format",
                "json",
                "--no-progress",
                "-o",
                os.devnull,
            ],
            args.repeat,
        )
        engine = (de, se)

    print()
    print(f"dive 0.13 (docker-archive): {d.seconds:.2f} s, peak RSS {im.mb(d.max_rss)}")
    print(
        f"slimline analyze (docker-archive): {s.seconds:.2f} s, peak RSS {im.mb(s.max_rss)}"
        f"{im.tree_note(s)}"
    )
    print(
        f"slimline analyze --no-packages: {s_bare.seconds:.2f} s, "
        f"peak RSS {im.mb(s_bare.max_rss)}{im.tree_note(s_bare)}"
    )
    if engine:
        de, se = engine
        print(f"dive (engine): {de.seconds:.2f} s, peak RSS {im.mb(de.max_rss)}")
        print(
            f"slimline analyze docker:{image.tag}: {se.seconds:.2f} s, "
            f"peak RSS {im.mb(se.max_rss)}{im.tree_note(se)}"
        )
        print(f"engine ratio (dive s / slimline s): {de.seconds / se.seconds:.2f}x")
    agreement(dive_json, slim_json)
    peak = max(s.max_rss, s.tree_peak)
    print(
        f"targets: no slower than dive: {'yes' if s.seconds <= d.seconds else 'no'}; "
        f"under 300 MB: {'yes' if peak < MEMORY_TARGET else 'no'} ({im.mb(peak)})"
    )
    print(f"ratio (dive s / slimline s, >1: slimline is faster): {d.seconds / s.seconds:.2f}x")


def agreement(dive_json: Path, slim_json: Path) -> None:
    try:
        theirs = json.loads(dive_json.read_text())["image"]
        ours = json.loads(slim_json.read_text())
    except (OSError, ValueError, KeyError) as e:
        print(f"agreement: cannot compare ({e})")
        return
    eff = ours["efficiency"]
    pairs = [
        ("efficiency score", theirs["efficiencyScore"], eff["score"]),
        ("wasted bytes", theirs["inefficientBytes"], eff["wasted_bytes"]),
        ("image size bytes", theirs["sizeBytes"], ours["image"]["size_bytes"]),
    ]
    for label, a, b in pairs:
        same = abs(a - b) < 1e-9 if isinstance(a, float) or isinstance(b, float) else a == b
        print(f"{label}: dive {a}, slimline {b}: {'agree' if same else 'DIFFER'}")
    dive_paths = {
        r["file"]: (r["count"], r["sizeBytes"]) for r in theirs.get("fileReference") or []
    }
    our_paths = {p["path"]: (p["count"], p["total_bytes"]) for p in eff["inefficient_paths"]}
    if len(our_paths) < len(dive_paths):
        # slimline keeps only the top of its list: compare the paths it kept.
        dive_paths = {k: v for k, v in dive_paths.items() if k in our_paths}
    differ = sorted(
        k for k in dive_paths.keys() | our_paths.keys() if dive_paths.get(k) != our_paths.get(k)
    )
    print(
        f"inefficient paths: dive {len(theirs.get('fileReference') or [])}, slimline "
        f"{len(eff['inefficient_paths'])}; compared {len(our_paths)}, differing {len(differ)}"
        + (f" (e.g. {', '.join(differ[:3])})" if differ else "")
    )
    user = eff.get("user_wasted_percent")
    if user is not None:
        print(
            f"user wasted (slimline, dive's ratio): {user:.4f}; reclaimable: {im.mb(eff['reclaimable_bytes'])}"
        )


if __name__ == "__main__":
    main()
