"""Reading an image once: every layer streamed a single time into its tree, with the bytes of the
files that catalogers and detectors asked for, then merged into the final filesystem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slimline.image.files import ImageFiles
from slimline.image.filetree import LayerChanges, LayerTree, MergedTree, layer_changes
from slimline.image.layers import EntryKind
from slimline.image.sources.base import ImageError, ImageSource, LayerRef

# called with a layer and the bytes of its entries read so far
Progress = Callable[[LayerRef, int], None]

# Package databases and the other files read for their bytes are small (a big Debian image
# holds a few tens of MB of them); a hostile image could ask for far more.
MAX_CAPTURED_BYTES = 512 * 1024**2


@dataclass(slots=True)
class ReadImage:
    layers: list[LayerTree]
    files: ImageFiles
    # per layer, what it did to the filesystem below it
    changes: list[LayerChanges]


def read_image(
    image: ImageSource,
    capture: Callable[[str], bool] | None = None,
    progress: Progress | None = None,
) -> ReadImage:
    """Stream every layer once; ImageError when a layer is corrupt or its digest is wrong.

    `progress(layer, done)` is called now and then with the bytes of entries read so far in
    `layer`, and once more when the layer is complete.
    """
    trees: list[LayerTree] = []
    contents: dict[int, dict[str, bytes]] = {}
    merged = MergedTree()
    changes: list[LayerChanges] = []
    captured_total = 0
    for ref in image.layers:
        tree = LayerTree(ref.index)
        captured: dict[str, bytes] = {}
        done = 0
        next_report = 1 << 24
        for entry in ref.entries(capture):
            tree.add(entry)
            if entry.content is not None:
                captured[entry.path] = entry.content
                captured_total += len(entry.content)
                if captured_total > MAX_CAPTURED_BYTES:
                    raise ImageError(
                        f"{image.name}: more than {MAX_CAPTURED_BYTES // 1024**2} MiB of package"
                        " metadata and other files to read: refusing the image"
                    )
            elif entry.kind is EntryKind.HARDLINK and entry.link_target in captured:
                captured[entry.path] = captured[entry.link_target]
            if progress is not None:
                done += entry.size
                if done >= next_report:
                    progress(ref, done)
                    next_report = done + (1 << 24)
        if progress is not None:
            progress(ref, tree.size_bytes)
        trees.append(tree)
        if captured:
            contents[ref.index] = captured
        changes.append(layer_changes(merged, tree))
        merged.apply(tree)
    return ReadImage(trees, ImageFiles(merged, contents), changes)
