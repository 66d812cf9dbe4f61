"""Per-layer trees and the merged view, against hand-made layers and a reference model."""

from __future__ import annotations

import io
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from slimline.image.filetree import FileRecord, LayerTree, MergedTree, merge_layers
from slimline.image.layers import EntryKind, read_layer

from .builders import Op, layer_tar

FILE, DIR = EntryKind.FILE, EntryKind.DIR


def tree(index: int, ops: Sequence[Op]) -> LayerTree:
    return LayerTree.from_entries(index, read_layer(io.BytesIO(layer_tar(ops))))


def merged(*layers: Sequence[Op]) -> MergedTree:
    return merge_layers(tree(i, ops) for i, ops in enumerate(layers))


def view(m: MergedTree) -> dict[str, tuple[int, int, str]]:
    return {path: (r.layer, r.size, str(r.kind)) for path, r in m.files.items()}


def test_layer_tree_separates_markers() -> None:
    layer = tree(
        3,
        [
            ("file", "a/x", 5),
            ("file", "a/x", 7),
            ("whiteout", "b", None),
            ("opaque", "c", None),
            ("symlink", "l", "/etc"),
        ],
    )
    assert layer.files["a/x"][:4] == FileRecord(3, 7, FILE)[:4]
    assert layer.files["l"][:4] == FileRecord(3, 0, EntryKind.SYMLINK, "/etc")[:4]
    assert layer.whiteouts == {"b": 0}
    assert layer.opaque_dirs == {"c"}
    assert layer.size_bytes == 12 and layer.entry_count == 5
    assert [(c.path, c.size) for c in layer.duplicates] == [("a/x", 5)]


def test_overwrite_across_layers_shadows_the_old_copy() -> None:
    m = merged([("file", "etc/conf", 100)], [("file", "etc/conf", 30)])
    assert m.files["etc/conf"][:4] == FileRecord(1, 30, FILE)[:4]
    assert m.files["etc"][:4] == FileRecord(0, 0, DIR)[:4]
    assert m.reclaimable_bytes == 100
    assert [(s.path, s.layer, s.size, s.by_layer) for s in m.shadowed] == [("etc/conf", 0, 100, 1)]


def test_whiteout_removes_a_file() -> None:
    m = merged([("file", "a", 10), ("file", "b", 20)], [("whiteout", "a", None)])
    assert set(m.files) == {"b"}
    assert m.reclaimable_bytes == 10


def test_deleting_a_directory_removes_everything_beneath() -> None:
    m = merged(
        [("dir", "var", None), ("file", "var/lib/x", 10), ("file", "var/lib/deep/y", 20)],
        [("file", "keep", 1), ("whiteout", "var/lib", None)],
    )
    assert set(m.files) == {"var", "keep"}
    assert m.reclaimable_bytes == 30
    assert m.children("var") == set()


def test_opaque_directory_hides_lower_content_only() -> None:
    m = merged(
        [("file", "app/old", 10), ("file", "app/sub/older", 5), ("file", "other", 1)],
        [("file", "app/new", 3), ("opaque", "app", None)],
    )
    assert set(m.files) == {"app", "app/new", "other"}
    assert m.reclaimable_bytes == 15


def test_opaque_root() -> None:
    m = merged([("file", "a", 4), ("file", "b/c", 6)], [("opaque", "", None), ("file", "d", 1)])
    assert set(m.files) == {"d"}
    assert m.reclaimable_bytes == 10


def test_file_replacing_a_directory_and_back() -> None:
    m = merged([("file", "x/y", 8)], [("file", "x", 2)], [("file", "x/z", 1)])
    assert view(m) == {"x": (2, 0, "dir"), "x/z": (2, 1, "file")}
    assert m.reclaimable_bytes == 10


def test_links_devices_and_whiteout_of_missing_path() -> None:
    m = merged(
        [("file", "bin/busybox", 50), ("hardlink", "bin/sh", "bin/busybox")],
        [
            ("symlink", "bin/ls", "busybox"),
            ("device", "dev/null", None),
            ("whiteout", "nope", None),
        ],
    )
    assert m.files["bin/sh"][:4] == FileRecord(0, 0, EntryKind.HARDLINK, "bin/busybox")[:4]
    assert m.files["bin/ls"].kind is EntryKind.SYMLINK
    assert m.files["dev/null"].kind is EntryKind.OTHER
    assert m.reclaimable_bytes == 0


def test_directory_metadata_change_keeps_children() -> None:
    m = merged([("dir", "d", None), ("file", "d/f", 3)], [("dir", "d", None)])
    assert view(m) == {"d": (1, 0, "dir"), "d/f": (0, 3, "file")}


# --- the merged tree equals a plain dict applied step by step -----------------------------

NAMES = st.sampled_from(["a", "b", "c"])
PATHS = st.lists(NAMES, min_size=1, max_size=3).map("/".join)
OPS = st.one_of(
    st.tuples(st.just("file"), PATHS, st.integers(0, 50)),
    st.tuples(st.just("dir"), PATHS, st.none()),
    st.tuples(st.just("whiteout"), PATHS, st.none()),
    st.tuples(st.just("opaque"), PATHS, st.none()),
)


def unique_layer(ops: list[Op]) -> list[Op]:
    # one entry per tar name: a layer writing the same name twice is a separate test
    seen: dict[tuple[str, str], Op] = {}
    for op in ops:
        kind = op[0] if op[0] in ("whiteout", "opaque") else "entry"
        seen.setdefault((kind, op[1]), op)
    return list(seen.values())


LAYERS = st.lists(st.lists(OPS, max_size=8).map(unique_layer), min_size=1, max_size=5)


def reference(layers: list[list[Op]]) -> tuple[dict[str, tuple[int, int, str]], int]:
    files: dict[str, tuple[int, int, str]] = {}
    wasted = 0

    def drop(path: str, itself: bool = True) -> None:
        nonlocal wasted
        for p in [p for p in files if (itself and p == path) or p.startswith(path + "/")]:
            wasted += files.pop(p)[1]

    for index, ops in enumerate(layers):
        for op, path, _ in ops:
            if op == "whiteout":
                drop(path)
        for op, path, _ in ops:
            if op == "opaque":
                drop(path, itself=False)
        for op, path, size in ops:
            if op not in ("file", "dir"):
                continue
            parts = path.split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                if parent in files and files[parent][2] != "dir":
                    drop(parent)
                if parent not in files:
                    files[parent] = (index, 0, "dir")
            kind = "file" if op == "file" else "dir"
            if path in files and not (kind == "dir" and files[path][2] == "dir"):
                drop(path)
            files[path] = (index, int(str(size)) if op == "file" else 0, kind)
    return files, wasted


@given(LAYERS)
def test_merged_tree_matches_reference_model(layers: list[list[Op]]) -> None:
    m = merged(*layers)
    expected, wasted = reference(layers)
    assert view(m) == expected
    assert m.reclaimable_bytes == wasted
    for path in m.files:
        parent = path.rpartition("/")[0]
        if parent:
            assert path in m.children(parent)
