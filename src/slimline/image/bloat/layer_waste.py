"""layer-waste: bytes that a layer adds and a later layer hides, and what a build context should
never have sent."""

from __future__ import annotations

from collections.abc import Iterator

from slimline.findings import Practice, Severity
from slimline.image.bloat import MAX_PATHS, Detector, amount, count, human_bytes
from slimline.image.bloat.context import BloatContext
from slimline.image.filetree import ShadowedCopy
from slimline.image.model import ImageFinding


class ShadowedFiles(Detector):
    """Files added in one layer and deleted or overwritten in a later one still ship.

    Why: layers are stacked, never rewritten: `rm` or a new copy in a later RUN only hides the
    earlier bytes, which every pull still downloads. This is the waste that dive reports; the
    other detectors here find what a single layer adds for nothing.

    Counts: every copy of a file that a later layer deleted or replaced (or that a later entry
    of the same layer replaced), except copies whose bytes the final image still reaches
    through a hard link. `paths` are the largest hidden copies.

    Fix: delete files in the same RUN that creates them; set ownership and modes with
    `COPY --chown`/`--chmod` instead of a later `chown -R`/`chmod -R`; use a build stage for
    what only the build needs.
    """

    id = "SLI602"
    name = "shadowed-files"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    title = "files hidden by a later layer"
    refs = ("SL602", "SL605")

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        still_linked = context.index.links
        copies = [
            copy
            for copy in context.files.tree.shadowed
            if copy.size and (copy.layer, copy.path) not in still_linked
        ]
        if not copies:
            return
        total = sum(copy.size for copy in copies)
        deleted = sum(1 for copy in copies if copy.path not in context.files.files)
        copies.sort(key=lambda copy: (-copy.size, copy.path, copy.layer))
        biggest = _biggest_layers(copies)
        yield ImageFinding(
            rule=self.id,
            practice=self.practice,
            severity=self.severity,
            title=self.title,
            message=(
                f"{human_bytes(total)} in {count(len(copies), 'copy', 'copies')} of files that a "
                "later layer "
                f"deleted ({deleted}) or overwrote ({len(copies) - deleted}) still ship with "
                f"the image{biggest}; delete files in the RUN that creates them, and set owners "
                "and modes with COPY --chown/--chmod instead of a later chown/chmod -R"
            ),
            bytes=total,
            paths=tuple(dict.fromkeys("/" + copy.path for copy in copies))[:MAX_PATHS],
            path_count=len({copy.path for copy in copies}),
            layers=tuple(sorted({copy.layer for copy in copies})),
        )


def _biggest_layers(copies: list[ShadowedCopy]) -> str:
    by_pair: dict[tuple[int, int], int] = {}
    for copy in copies:
        key = (copy.layer, copy.by_layer)
        by_pair[key] = by_pair.get(key, 0) + copy.size
    (added, hidden), size = max(by_pair.items(), key=lambda item: (item[1], item[0]))
    return f" (most, {human_bytes(size)}, added by layer {added} and hidden by layer {hidden})"


class VcsMetadata(Detector):
    """A version-control directory (.git, .svn, .hg) was copied into the image.

    Why: `COPY . .` without a `.dockerignore` brings the repository's whole history along:
    often larger than the application, and it can hold secrets that were removed from the
    working tree long ago.

    Counts: the regular files below directories named `.git`, `.svn`, `.hg` or `.bzr`.

    Fix: add `.git` (and the other VCS directories) to `.dockerignore`.
    """

    id = "SLI650"
    name = "vcs-metadata"
    practice = Practice.LAYER_WASTE
    severity = Severity.WARNING
    title = "version-control metadata in the image"
    refs = ("DKL-LI-0003",)
    dir_names = frozenset({".git", ".svn", ".hg", ".bzr"})

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        directories = sorted(d for name in self.dir_names for d in context.index.dirs(name))
        paths = [p for d in directories for p in context.files_under(d)]
        paths = context.take(paths)
        measured = context.measure(paths)
        if not measured.bytes:
            return
        where = ", ".join("/" + d for d in directories[:3])
        yield self.sized(
            paths,
            measured,
            f"version-control metadata: {amount(measured, paths)} "
            f"under {where}; add `.git` to .dockerignore",
        )
