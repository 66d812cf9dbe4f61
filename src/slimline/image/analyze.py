"""`analyze`: one pass over an image's layers, then every analysis on the result.

Data flows one way: source → layers streamed once (trees, captured package databases) → waste,
per-layer changes, bloat findings, packages → ImageAnalysis, which the report formats render.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from slimline.image.bloat import BloatContext, detect_all
from slimline.image.bloat import capture_predicate as bloat_capture
from slimline.image.files import ImageFiles
from slimline.image.filetree import FileRecord
from slimline.image.history import map_history
from slimline.image.layers import EntryKind
from slimline.image.model import ImageAnalysis, LayerSummary, SizedPath
from slimline.image.read import Progress, ReadImage, read_image
from slimline.image.sources.base import ImageSource
from slimline.image.waste import WasteReport, analyze_waste
from slimline.packages.base import OSRelease, Package, wanted_by
from slimline.packages.catalog import capture_predicate as package_capture
from slimline.packages.catalog import catalog_image

TOP_FILES = 20
TOP_DIRS = 20
TOP_INEFFICIENT = 50
_DIR_DEPTH = 3


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    """`packages`: run the catalogers; `findings`: run the bloat detectors; `dockerfile`: the
    text of the Dockerfile the image was built from, to name each layer's instruction."""

    packages: bool = True
    findings: bool = True
    # dive's figures, per-layer changes and the largest paths; an SBOM needs none of them
    layout: bool = True
    dockerfile: str | None = None
    dockerfile_path: str | None = None
    target: str | None = None


def analyze_image(
    image: ImageSource,
    options: AnalyzeOptions | None = None,
    progress: Progress | None = None,
) -> ImageAnalysis:
    """Everything `slimline analyze` reports; ImageError when the image cannot be read."""
    options = options or AnalyzeOptions()
    readers: list[Callable[[str], bool]] = []
    if options.packages or options.findings:
        # detectors use the packages (sizes of compilers, shells...), so both need the databases
        readers.append(package_capture())
    if options.findings:
        readers.append(bloat_capture())
    capture = wanted_by(readers) if readers else None
    read = read_image(image, capture, progress)
    os_release: OSRelease | None = None
    packages: list[Package] = []
    if options.packages or options.findings:
        os_release, packages = catalog_image(read.files)
    findings = (
        detect_all(BloatContext(read.files, read.layers, packages, os_release))
        if options.findings
        else []
    )
    waste = (
        analyze_waste(read.layers, read.files.tree, top=TOP_INEFFICIENT)
        if options.layout
        else _NO_WASTE
    )
    config = image.config
    return ImageAnalysis(
        name=image.name,
        platform=config.platform,
        config=config,
        layers=tuple(_layer_summaries(image, read, options)),
        waste=waste,
        size_bytes=sum(layer.size_bytes for layer in read.layers),
        final_bytes=sum(_file_bytes(record) for record in read.files.files.values()),
        file_count=sum(1 for r in read.files.files.values() if r.kind is not EntryKind.DIR),
        os=os_release,
        packages=tuple(packages) if options.packages else (),
        findings=tuple(findings),
        largest_files=tuple(largest_files(read.files, TOP_FILES)) if options.layout else (),
        largest_dirs=tuple(largest_dirs(read.files, TOP_DIRS)) if options.layout else (),
        image_id=getattr(image, "image_id", None),
        repo_digests=tuple(getattr(image, "repo_digests", ())),
        dockerfile=options.dockerfile_path,
    )


_NO_WASTE = WasteReport(
    score=1.0,
    wasted_bytes=0,
    user_wasted_percent=0.0,
    reclaimable_bytes=0,
    size_bytes=0,
    user_size_bytes=0,
    inefficient=(),
)


def _file_bytes(record: FileRecord) -> int:
    return record.size if record.kind is EntryKind.FILE else 0


def _layer_summaries(
    image: ImageSource, read: ReadImage, options: AnalyzeOptions
) -> list[LayerSummary]:
    refs = image.layers
    lines: dict[int, tuple[int, str]] = {}
    if options.dockerfile is not None:
        history = image.config.history
        by_entry = map_history(history, options.dockerfile, target=options.target)
        # history entries that made a layer, in order, line up with the layers
        layer_entries = [i for i, entry in enumerate(history) if not entry.empty_layer]
        offset = len(layer_entries) - len(refs)
        for layer_index in range(len(refs)):
            position = layer_index + offset
            if 0 <= position < len(layer_entries):
                match = by_entry.get(layer_entries[position])
                if match is not None:
                    lines[layer_index] = (match.line, match.instruction)
    summaries = []
    for ref, tree, change in zip(refs, read.layers, read.changes, strict=True):
        entry = ref.history
        line = lines.get(ref.index)
        summaries.append(
            LayerSummary(
                index=ref.index,
                digest=ref.digest,
                diff_id=ref.diff_id,
                media_type=ref.media_type,
                size=ref.size,
                content_bytes=tree.size_bytes,
                entry_count=tree.entry_count,
                created_by=entry.created_by if entry else "",
                created=entry.created if entry else "",
                comment=entry.comment if entry else "",
                dockerfile_line=line[0] if line else None,
                dockerfile_instruction=line[1] if line else None,
                added_files=change.added_files,
                added_bytes=change.added_bytes,
                changed_files=change.changed_files,
                changed_bytes=change.changed_bytes,
                removed_files=change.removed_files,
                removed_bytes=change.removed_bytes,
            )
        )
    return summaries


def largest_files(files: ImageFiles, count: int) -> list[SizedPath]:
    """The biggest regular files of the final filesystem, largest first, then by path."""
    biggest = heapq.nsmallest(
        count,
        (
            (-record.size, path, record.layer)
            for path, record in files.files.items()
            if record.kind is EntryKind.FILE and record.size
        ),
    )
    return [SizedPath(path, -negative, layer) for negative, path, layer in biggest]


def largest_dirs(files: ImageFiles, count: int, depth: int = _DIR_DEPTH) -> list[SizedPath]:
    """Directories up to `depth` levels deep by the bytes of every file beneath them, like
    `du --max-depth`: a parent is listed with its children, so read it as a tree."""
    totals: dict[str, list[int]] = {}
    for path, record in files.files.items():
        if record.kind is not EntryKind.FILE:
            continue
        parts = path.split("/")[:-1]
        for level in range(1, min(len(parts), depth) + 1):
            key = "/".join(parts[:level])
            slot = totals.get(key)
            if slot is None:
                totals[key] = [record.size, 1]
            else:
                slot[0] += record.size
                slot[1] += 1
    biggest = heapq.nsmallest(count, ((-size, path, n) for path, (size, n) in totals.items()))
    return [SizedPath(path, -negative, None, files=n) for negative, path, n in biggest]
