"""What `analyze` finds in an image: the result types every report format renders."""

from __future__ import annotations

from dataclasses import dataclass, field

from slimline.findings import Practice, Severity
from slimline.image.sources.base import ImageConfig
from slimline.image.waste import WasteReport
from slimline.packages.base import OSRelease, Package


@dataclass(frozen=True, slots=True)
class ImageFinding:
    """Bloat or a risk found in the image's files.

    `bytes` is what removing the finding's files from the final image would save (0 when the
    finding is about risk, not size: a setuid file, a private key). `paths` lists up to a few
    dozen of the files concerned, largest first; `path_count` counts them all. `layers` are the
    indexes of the layers that added them.
    """

    rule: str
    practice: Practice
    severity: Severity
    title: str
    message: str
    bytes: int = 0
    paths: tuple[str, ...] = ()
    path_count: int = 0
    layers: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LayerSummary:
    """One layer: where it came from and what it did to the filesystem below it.

    `size` is the stored (possibly compressed) blob size; `content_bytes` the sum of its entries'
    sizes, which is what dive calls the layer's size. Added paths did not exist below; changed
    ones replaced a lower copy; removed ones were deleted by a whiteout or an opaque directory
    (counting every path below a removed directory). Bytes are those of the regular files.
    """

    index: int
    digest: str | None
    diff_id: str | None
    media_type: str
    size: int
    content_bytes: int
    entry_count: int
    created_by: str = ""
    created: str = ""
    comment: str = ""
    dockerfile_line: int | None = None
    dockerfile_instruction: str | None = None
    added_files: int = 0
    added_bytes: int = 0
    changed_files: int = 0
    changed_bytes: int = 0
    removed_files: int = 0
    removed_bytes: int = 0


@dataclass(frozen=True, slots=True)
class SizedPath:
    path: str
    bytes: int
    layer: int | None = None
    files: int = 1


@dataclass(frozen=True, slots=True)
class ImageAnalysis:
    """Everything `analyze` reports about one image.

    `size_bytes` is the sum of every layer's content (what the image costs on disk, shadowed
    copies included); `final_bytes` the regular files of the merged filesystem.
    """

    name: str
    platform: str
    config: ImageConfig
    layers: tuple[LayerSummary, ...]
    waste: WasteReport
    size_bytes: int
    final_bytes: int
    file_count: int
    os: OSRelease | None = None
    packages: tuple[Package, ...] = ()
    findings: tuple[ImageFinding, ...] = ()
    largest_files: tuple[SizedPath, ...] = ()
    largest_dirs: tuple[SizedPath, ...] = ()
    image_id: str | None = None
    repo_digests: tuple[str, ...] = ()
    dockerfile: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
