"""The bloat that static mode removes without tracing: what the image detectors of the
package-cache family find, plus documentation, translations, headers and static libraries.

Nothing here runs the app, so only files that no program reads at run time qualify: caches and
package indexes (rebuilt by the package manager on demand), documentation other than licences,
translations (programs fall back to their built-in English), and the files only a compiler
reads. Bytecode, data, build tools and shells stay: removing them needs evidence from a trace.
"""

from __future__ import annotations

from collections.abc import Sequence

from slimline.findings import Practice
from slimline.image.bloat import BloatContext, detect_all, detectors
from slimline.image.files import ImageFiles
from slimline.image.filetree import LayerTree
from slimline.packages.base import OSRelease, Package

# Beyond the package-cache family (every detector in it qualifies).
STATIC_DETECTORS = frozenset({"documentation", "translations", "headers", "static-libraries"})


def removable(
    files: ImageFiles,
    layers: Sequence[LayerTree],
    packages: Sequence[Package],
    os_release: OSRelease | None,
) -> set[str]:
    """The regular files static mode removes."""
    chosen = [
        d for d in detectors() if d.practice is Practice.PACKAGE_CACHE or d.name in STATIC_DETECTORS
    ]
    context = BloatContext(files, layers, packages, os_release)
    detect_all(context, chosen)
    return set(context.claimed)
