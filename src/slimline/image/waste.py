"""dive-compatible efficiency and wasted bytes, and the bytes that could really be reclaimed.

dive's numbers are reproduced exactly, quirks included, so that a user comparing the two tools
sees the same figures:

- every leaf of every layer's tree is one "copy" of its path; a directory with children in that
  layer is not counted, an empty one is (with its declared size, normally 0);
- a whiteout's copy weighs 0 when it deleted a file and the sum of everything beneath when it
  deleted a directory, looked up in the stack of the layers below; the directory only counts as one
  if the topmost layer that mentions it did so with a directory entry (a path implied by a file
  beneath it is not a directory to dive);
- a whiteout of a path that no lower layer has stops dive's walk of that layer, so the leaves after
  it (in sorted order) are not counted, and if the path was never seen before it adds -1 to the
  sum of smallest sizes (its "smallest size" is still the -1 that means "none yet");
- opaque-directory markers hide nothing: dive ignores them;
- score = sum over paths of the smallest copy / sum of all copies; wasted bytes = all copies of
  every path seen in two or more layers, the kept one included.

`reclaimable_bytes` is slimline's own figure: only the copies that a later layer overwrote or
deleted, which is what rebuilding the image without them would save.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from slimline.image.filetree import LayerTree, MergedTree, dirname, merge_layers
from slimline.image.layers import WHITEOUT_PREFIX, EntryKind


@dataclass(frozen=True, slots=True)
class InefficientPath:
    path: str
    count: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class WasteReport:
    """dive's figures (score, wasted_bytes, user_wasted_percent, inefficient) next to slimline's.

    `user_wasted_percent` is a ratio, like dive's of the same name: wasted bytes over the bytes of
    every layer after the first. `inefficient` is sorted largest first, then by path.
    """

    score: float
    wasted_bytes: int
    user_wasted_percent: float
    reclaimable_bytes: int
    size_bytes: int
    user_size_bytes: int
    inefficient: tuple[InefficientPath, ...]


# a node of dive's tree for one layer: (is_dir, size, is_whiteout)
_Node = tuple[bool, int, bool]
_IMPLICIT: _Node = (False, 0, False)


def _with_parents(nodes: dict[str, _Node], path: str, node: _Node) -> None:
    nodes[path] = node
    parent = dirname(path)
    while parent and parent not in nodes:
        nodes[parent] = _IMPLICIT
        parent = dirname(parent)


def _dive_nodes(layer: LayerTree) -> dict[str, _Node]:
    """dive's tree of one layer, keyed by raw path (a whiteout keeps its `.wh.` name)."""
    nodes: dict[str, _Node] = {}
    for path, record in layer.files.items():
        _with_parents(nodes, path, (record.kind is EntryKind.DIR, record.size, False))
    for target, size in layer.whiteouts.items():
        parent, name = posixpath.split(target)
        raw = posixpath.join(parent, WHITEOUT_PREFIX + name)
        if raw not in nodes:
            _with_parents(nodes, raw, (False, size, True))
    for directory in layer.marker_dirs:
        if directory and directory not in nodes:
            _with_parents(nodes, directory, _IMPLICIT)
    return nodes


_LAST = "\U0010ffff"


def _child_first_key(path: str) -> list[str]:
    # the order of dive's depth-first walk: siblings by name, a node after everything beneath it
    # (no name sorts after the highest code point, which stands for "the node itself")
    return [*path.split("/"), _LAST]


def _leaf_key(path: str) -> list[str]:
    return path.split("/")


def _strip_whiteout(path: str) -> str:
    parent, name = posixpath.split(path)
    return posixpath.join(parent, name[len(WHITEOUT_PREFIX) :])


class _Stack:
    """dive's stacked tree of the layers below the one being scored."""

    def __init__(self, first: dict[str, _Node]) -> None:
        self.nodes: dict[str, tuple[bool, int]] = {}
        self.children: dict[str, set[str]] = {}
        for path, (is_dir, size, _) in first.items():
            self._set(path, is_dir, size)

    def _set(self, path: str, is_dir: bool, size: int) -> None:
        if path not in self.nodes:
            self.children.setdefault(dirname(path), set()).add(path)
        self.nodes[path] = (is_dir, size)

    def add(self, path: str, is_dir: bool, size: int) -> None:
        missing = []
        parent = dirname(path)
        while parent and parent not in self.nodes:
            missing.append(parent)
            parent = dirname(parent)
        for ancestor in reversed(missing):
            self._set(ancestor, False, 0)
        self._set(path, is_dir, size)

    def remove(self, path: str) -> None:
        if path not in self.nodes:
            return
        self.children[dirname(path)].discard(path)
        stack = [path]
        while stack:
            current = stack.pop()
            del self.nodes[current]
            stack.extend(self.children.pop(current, ()))

    def subtree_size(self, path: str) -> int:
        total = 0
        stack = [path]
        while stack:
            current = stack.pop()
            total += self.nodes[current][1]
            stack.extend(self.children.get(current, ()))
        return total

    def stack(self, layer: dict[str, _Node]) -> None:
        for path in sorted(layer, key=_child_first_key):
            is_dir, size, is_whiteout = layer[path]
            if is_whiteout:
                self.remove(_strip_whiteout(path))
            else:
                self.add(path, is_dir, size)


def dive_efficiency(
    layers: Sequence[LayerTree],
) -> tuple[float, int, list[InefficientPath]]:
    """dive's score, wasted bytes and inefficient paths (largest first)."""
    copies: dict[str, list[int]] = {}  # path -> [count, cumulative size, smallest size]
    trees = [_dive_nodes(layer) for layer in layers]
    # the stacked tree only serves to weigh whiteouts; without any, skip building it
    needs_stack = any(layer.whiteouts for layer in layers)
    stack = _Stack({})
    for index, nodes in enumerate(trees):
        # dive looks whiteouts of the first layer up in that layer itself
        lower = _Stack(nodes if needs_stack else {}) if index == 0 else stack
        parents = {dirname(path) for path in nodes}
        leaves: Iterable[str] = (p for p in nodes if p not in parents)
        if layers[index].whiteouts:
            # dive's walk order matters only where a whiteout can stop it
            leaves = sorted(leaves, key=_leaf_key)
        for raw in leaves:
            _, size, is_whiteout = nodes[raw]
            path = raw
            if is_whiteout:
                path = _strip_whiteout(raw)
                found = lower.nodes.get(path)
                if found is None:
                    # dive registers the path (smallest size still -1) before the lookup fails
                    copies.setdefault(path, [0, 0, -1])
                    break
                size = lower.subtree_size(path) if found[0] else 0
            data = copies.get(path)
            if data is None:
                copies[path] = [1, size, size]
            else:
                data[0] += 1
                data[1] += size
                data[2] = size if data[2] < 0 else min(data[2], size)
        if not needs_stack:
            continue
        if index == 0:
            # dive stacks the first layer onto a copy of itself, keeping its whiteout nodes
            stack = lower
        stack.stack(nodes)
    minimum = sum(data[2] for data in copies.values())
    discovered = sum(data[1] for data in copies.values())
    score = 1.0 if discovered == 0 else minimum / discovered
    inefficient = [
        InefficientPath("/" + path, data[0], data[1])
        for path, data in copies.items()
        if data[0] >= 2
    ]
    inefficient.sort(key=lambda item: (-item.total_bytes, item.path))
    wasted = sum(item.total_bytes for item in inefficient)
    return score, wasted, inefficient


def analyze_waste(
    layers: Sequence[LayerTree],
    merged: MergedTree | None = None,
    *,
    top: int | None = None,
) -> WasteReport:
    score, wasted, inefficient = dive_efficiency(layers)
    size = sum(layer.size_bytes for layer in layers)
    user_size = sum(layer.size_bytes for layer in layers[1:])
    # dive divides by zero here (NaN or +Inf); a single-layer image wastes nothing a user added
    user_percent = wasted / user_size if user_size else 0.0
    if merged is None:
        merged = merge_layers(layers)
    return WasteReport(
        score=score,
        wasted_bytes=wasted,
        user_wasted_percent=user_percent,
        reclaimable_bytes=merged.reclaimable_bytes,
        size_bytes=size,
        user_size_bytes=user_size,
        inefficient=tuple(inefficient if top is None else inefficient[:top]),
    )
