"""Files added, changed and removed by each layer."""

from __future__ import annotations

from slimline.image.filetree import LayerChanges
from slimline.image.read import read_image

from .test_files import image_of


def test_added_changed_removed() -> None:
    image = image_of(
        [
            [("file", "etc/a", 10), ("file", "etc/b", 20), ("file", "var/lib/x/1", 5)],
            [("file", "etc/a", 11), ("file", "etc/c", 30), ("whiteout", "var/lib/x", None)],
            [("opaque", "etc", None), ("file", "etc/a", 12)],
        ]
    )
    changes = read_image(image).changes
    assert changes[0] == LayerChanges(added_files=3, added_bytes=35)
    assert changes[1] == LayerChanges(
        added_files=1,
        added_bytes=30,
        changed_files=1,
        changed_bytes=11,
        removed_files=1,
        removed_bytes=5,
    )
    # the opaque directory removes b and c; a is written again, so it counts as changed
    assert changes[2] == LayerChanges(
        changed_files=1, changed_bytes=12, removed_files=2, removed_bytes=50
    )


def test_whiteout_of_a_missing_path_removes_nothing() -> None:
    image = image_of([[("file", "a", 1)], [("whiteout", "nothing", None)]])
    assert read_image(image).changes[1] == LayerChanges()
