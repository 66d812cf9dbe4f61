"""Every cataloger over one image, and the links between what they found.

A language package whose metadata file a distribution package owns (Debian's python3-flask owns
Flask's egg-info, node-semver owns usr/share/nodejs/semver/package.json) is listed once, with
`installed_by` naming the distribution package: Trivy drops such packages and Syft lists them
twice, but both facts matter, the language ecosystem's version for advisories and the owner for
updates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from slimline.image.files import ImageFiles
from slimline.packages import os_release
from slimline.packages.base import OSRelease, Package, catalogers

DISTRIBUTION_ECOSYSTEMS = frozenset({"deb", "apk"})


def capture_predicate() -> Callable[[str], bool]:
    """Whether a file's bytes must be kept while the layers stream: the union of every
    cataloger's `wants` and os-release's."""
    tests = (os_release.wants, *(cataloger.wants for cataloger in catalogers()))

    def wants(path: str) -> bool:
        # a plain loop: this runs once per file of every layer, and any() over a generator
        # costs twice as much
        for test in tests:  # noqa: SIM110
            if test(path):
                return True
        return False

    return wants


def catalog_image(files: ImageFiles) -> tuple[OSRelease | None, list[Package]]:
    """The distribution and every package found, distribution packages first.

    A cataloger that fails is left out rather than failing the analysis; each cataloger already
    skips single packages whose metadata is corrupt.
    """
    os = os_release.read_os_release(files)
    found: list[Package] = []
    for cataloger in catalogers():
        try:
            found.extend(cataloger.catalog(files))
        except Exception:
            continue
    return os, link_installed_by(_unique(found))


def _unique(packages: list[Package]) -> list[Package]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for package in packages:
        key = (package.purl, package.location)
        if key not in seen:
            seen.add(key)
            unique.append(package)
    return unique


def link_installed_by(packages: list[Package]) -> list[Package]:
    """Distribution packages first, then language packages with `installed_by` set when a
    distribution package owns their metadata file."""
    distribution = [p for p in packages if p.ecosystem in DISTRIBUTION_ECOSYSTEMS]
    owner: dict[str, str] = {}
    for package in distribution:
        for path in package.files:
            owner.setdefault(path, package.purl)
    linked = list(distribution)
    for package in packages:
        if package.ecosystem in DISTRIBUTION_ECOSYSTEMS:
            continue
        by = owner.get(package.location)
        if by is not None and package.installed_by is None:
            package = dataclasses.replace(package, installed_by=by)
        linked.append(package)
    return linked
