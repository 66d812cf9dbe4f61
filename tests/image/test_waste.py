"""dive-compatible efficiency and wasted bytes, and reclaimable bytes, on hand-made layers."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest

from slimline.image.filetree import LayerTree
from slimline.image.layers import read_layer
from slimline.image.waste import InefficientPath, WasteReport, analyze_waste

from .builders import Op, layer_tar


def report(*layers: Sequence[Op]) -> WasteReport:
    trees = [
        LayerTree.from_entries(i, read_layer(io.BytesIO(layer_tar(ops))))
        for i, ops in enumerate(layers)
    ]
    return analyze_waste(trees)


def test_no_duplicates_is_fully_efficient() -> None:
    r = report([("file", "a", 10)], [("file", "b", 20)])
    assert r.score == 1.0
    assert r.wasted_bytes == 0 and r.reclaimable_bytes == 0 and r.inefficient == ()
    assert r.size_bytes == 30 and r.user_size_bytes == 20 and r.user_wasted_percent == 0.0


def test_overwrite_counts_every_copy_as_wasted_but_only_the_old_as_reclaimable() -> None:
    r = report([("file", "a", 100)], [("file", "a", 30)])
    assert r.wasted_bytes == 130
    assert r.reclaimable_bytes == 100
    assert r.score == pytest.approx(30 / 130)
    assert r.user_wasted_percent == pytest.approx(130 / 30)
    assert r.inefficient == (InefficientPath("/a", 2, 130),)


def test_deleted_file_counts_zero_and_deleted_directory_counts_its_content() -> None:
    r = report(
        [("dir", "d", None), ("file", "d/x", 40), ("file", "d/y", 60), ("file", "f", 7)],
        [("whiteout", "d", None), ("whiteout", "f", None)],
    )
    # /f has copies of 7 and 0; /d has one copy, the whiteout, weighing all it held
    assert r.wasted_bytes == 7
    assert r.score == pytest.approx((40 + 60 + 0 + 100) / (40 + 60 + 7 + 100))
    assert r.reclaimable_bytes == 107


def test_directory_implied_by_a_later_file_is_not_a_directory_to_dive() -> None:
    r = report(
        [("dir", "d", None), ("file", "d/x", 40)],
        [("file", "d/y", 5)],
        [("whiteout", "d", None)],
    )
    assert r.score == pytest.approx(45 / 45)
    assert r.reclaimable_bytes == 45


def test_whiteout_of_a_missing_path_stops_the_layer() -> None:
    r = report([("file", "a", 10), ("file", "z", 10)], [("whiteout", "b", None), ("file", "z", 3)])
    # dive never reaches /z in the second layer: it comes after the failing /b, which dive
    # registered with a smallest size of -1
    assert r.wasted_bytes == 0
    assert r.score == pytest.approx((10 + 10 - 1) / 20)
    assert r.reclaimable_bytes == 10


def test_opaque_marker_is_ignored_by_the_dive_figures() -> None:
    r = report([("file", "app/a", 10)], [("opaque", "app", None), ("file", "app/b", 1)])
    assert r.score == 1.0 and r.wasted_bytes == 0
    assert r.reclaimable_bytes == 10


def test_three_copies_sorted_largest_first() -> None:
    r = report(
        [("file", "x", 1), ("file", "y", 50)],
        [("file", "x", 2), ("file", "y", 50)],
        [("file", "x", 3)],
    )
    assert r.inefficient == (InefficientPath("/y", 2, 100), InefficientPath("/x", 3, 6))
    assert r.wasted_bytes == 106
    assert r.reclaimable_bytes == 53
    assert analyze_waste([], None).score == 1.0


def test_top_limits_the_list() -> None:
    layers = [
        LayerTree.from_entries(
            i, read_layer(io.BytesIO(layer_tar([("file", "x", 1), ("file", "y", 5)])))
        )
        for i in range(2)
    ]
    assert analyze_waste(layers, top=1).inefficient == (InefficientPath("/y", 2, 10),)
    assert analyze_waste(layers).wasted_bytes == 12


def test_empty_layers() -> None:
    r = analyze_waste([LayerTree(0), LayerTree(1)])
    assert (r.score, r.wasted_bytes, r.user_wasted_percent, r.reclaimable_bytes) == (1.0, 0, 0.0, 0)
