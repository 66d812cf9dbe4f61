"""Images assembled from layer ops for the cataloger tests, read the way `analyze` reads them."""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence

from slimline.image.files import ImageFiles
from slimline.image.filetree import LayerTree, MergedTree
from slimline.image.layers import EntryKind, LayerEntry
from slimline.image.read import read_image
from slimline.image.sources import Image, ImageConfig, LayerRef
from slimline.packages.catalog import capture_predicate
from tests.image.builders import Op, layer_tar

DEBIAN_OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""

ALPINE_OS_RELEASE = b"""NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
"""


def image_of(*layers: Sequence[Op]) -> Image:
    refs = []
    for index, ops in enumerate(layers):
        data = layer_tar(ops)
        refs.append(
            LayerRef(
                index=index,
                digest=None,
                diff_id=None,
                media_type="application/vnd.oci.image.layer.v1.tar",
                size=len(data),
                history=None,
                opener=functools.partial(io.BytesIO, data),
            )
        )
    return Image("test", ImageConfig(), refs)


def image_files(*layers: Sequence[Op]) -> ImageFiles:
    """The merged filesystem of `layers` (bottom first), with every file a cataloger wants."""
    return read_image(image_of(*layers), capture_predicate()).files


def debian_base() -> list[Op]:
    """A merged-/usr Debian root: os-release as a link into usr/lib, bin and lib as links."""
    return [
        ("dir", "usr/lib", None),
        ("file", "usr/lib/os-release", DEBIAN_OS_RELEASE),
        ("symlink", "etc/os-release", "../usr/lib/os-release"),
        ("symlink", "bin", "usr/bin"),
        ("symlink", "lib", "usr/lib"),
        ("dir", "usr/bin", None),
    ]


def stanza(**fields: str) -> str:
    """A deb822 paragraph; field names use _ for - ("Pre_Depends")."""
    return "".join(f"{name.replace('_', '-')}: {value}\n" for name, value in fields.items())


def files_from(contents: Mapping[str, bytes | int]) -> ImageFiles:
    """A one-layer filesystem of regular files without going through a tar: bytes are captured
    contents, ints are sizes of files whose contents nobody asked for."""
    tree = LayerTree(0)
    captured: dict[str, bytes] = {}
    for path, value in contents.items():
        size = len(value) if isinstance(value, bytes) else value
        tree.add(LayerEntry(path, EntryKind.FILE, size, 0o644, 0, 0, ""))
        if isinstance(value, bytes):
            captured[path] = value
    merged = MergedTree()
    merged.apply(tree)
    return ImageFiles(merged, {0: captured})
