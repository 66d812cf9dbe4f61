"""Which distribution packages are build tools, and what removing some packages would remove.

Removing a package frees its own files and those of every package that only it (and the other
removed packages) depended on: what `apt-get purge X && apt-get autoremove` does when the
dependencies were installed automatically. Packages that the distribution marks essential or
required are never counted as removed, and neither is a package that nothing depends on (it was
installed on purpose, and autoremove keeps it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from slimline.packages.base import Package

_NAME = re.compile(r"\s*([^\s(:|,]+)")
_PROTECTED_PRIORITIES = frozenset({"required", "important"})


def relation_names(entries: Iterable[str]) -> set[str]:
    """Package names in Depends-like entries: "libc6 (>= 2.36)", "perl:any", "a | b"."""
    names = set()
    for entry in entries:
        for part in re.split(r"[|,]", entry):
            found = _NAME.match(part)
            if found:
                names.add(found.group(1))
    return names


def _depends(package: Package) -> set[str]:
    """What `package` cannot work without, by name."""
    entries = list(package.depends)
    for key in ("pre_depends", "pre-depends"):
        value = package.metadata.get(key)
        if value:
            entries.append(value)
    return relation_names(entries)


def _keeps(package: Package) -> set[str]:
    """What `package` keeps installed: its dependencies and recommendations, which apt's
    autoremove also honours (APT::AutoRemove::RecommendsImportant)."""
    kept = _depends(package)
    value = package.metadata.get("recommends")
    if value:
        kept |= relation_names([value])
    return kept


def _provides(package: Package) -> set[str]:
    value = package.metadata.get("provides", "")
    return relation_names([value]) if value else set()


def _protected(package: Package) -> bool:
    meta = package.metadata
    return meta.get("essential", "").lower() == "yes" or (
        meta.get("priority", "").lower() in _PROTECTED_PRIORITIES
    )


class _Graph:
    """Who keeps whom installed, with virtual names (c-compiler, awk) resolved to providers."""

    def __init__(self, packages: Mapping[str, Package]) -> None:
        self.packages = packages
        self.keeps: dict[str, set[str]] = {}
        self.kept_by: dict[str, set[str]] = {}
        self.depends: dict[str, set[str]] = {}
        providers: dict[str, set[str]] = {}
        for name, package in packages.items():
            for virtual in _provides(package):
                providers.setdefault(virtual, set()).add(name)
        for name, package in packages.items():
            self.keeps[name] = self._real(_keeps(package), providers)
            self.depends[name] = self._real(_depends(package), providers)
            for dependency in self.keeps[name]:
                self.kept_by.setdefault(dependency, set()).add(name)

    def _real(self, names: set[str], providers: Mapping[str, set[str]]) -> set[str]:
        real = {name for name in names if name in self.packages}
        for name in names:
            real |= providers.get(name, set())
        return real

    def closure(self, roots: set[str]) -> set[str]:
        """`roots` and the packages that only they, directly or not, keep installed."""
        removed = set(roots)
        work = list(removed)
        while work:
            for dependency in self.keeps.get(work.pop(), ()):
                if dependency in removed or _protected(self.packages[dependency]):
                    continue
                if self.kept_by.get(dependency, set()) <= removed:
                    removed.add(dependency)
                    work.append(dependency)
        return removed


def removal_set(roots: Iterable[str], packages: Mapping[str, Package]) -> set[str]:
    """What removing the `roots` packages removes: the roots that no other package needs, and
    the packages that only they keep installed.

    A root that a package outside the removed set depends on (Debian's npm depends on node-gyp)
    cannot go without it, so it stays, and so does what it keeps.
    """
    graph = _Graph(packages)
    chosen = {name for name in roots if name in packages and not _protected(packages[name])}
    while True:
        removed = graph.closure(chosen)
        pinned = {
            root
            for root in chosen
            for user in graph.kept_by.get(root, ())
            if user not in removed and root in graph.depends.get(user, ())
        }
        if not pinned:
            return removed
        chosen -= pinned
