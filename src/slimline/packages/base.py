"""What every cataloger returns, and the registry that finds the catalogers.

A cataloger module declares ``CATALOGER`` (an object with ``name``, ``wants(path)`` and
``catalog(files)``). ``wants`` selects the files whose bytes must be captured while the layers
stream past (it is called once per regular file in every layer, so keep it cheap: test the base
name or a suffix before anything else); ``catalog`` reads them from the merged filesystem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from slimline.image.files import ImageFiles
from slimline.plugins import package_modules


@dataclass(frozen=True, slots=True)
class OSRelease:
    """The distribution, from /etc/os-release (or /usr/lib/os-release)."""

    id: str = ""
    version_id: str = ""
    version_codename: str = ""
    pretty_name: str = ""
    id_like: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package.

    `ecosystem` is the purl type ("deb", "apk", "pypi", "npm"). `files` are root-relative paths
    that the package owns and that exist in the image; `size_bytes` is the sum of their sizes.
    `location` is the metadata file the package was read from. `installed_by` is the purl of the
    distribution package that installed this language package (Debian's python3-flask owns
    Flask's dist-info), else None.
    """

    name: str
    version: str
    ecosystem: str
    purl: str
    location: str
    cataloger: str
    arch: str = ""
    source_name: str = ""
    source_version: str = ""
    licenses: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    size_bytes: int = 0
    installed_by: str | None = None
    layer: int | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class Cataloger(Protocol):
    name: str

    def wants(self, path: str) -> bool: ...

    def catalog(self, files: ImageFiles) -> Sequence[Package]: ...


_catalogers: list[Cataloger] | None = None


def catalogers() -> list[Cataloger]:
    """Every module of this package that declares CATALOGER, in name order."""
    global _catalogers
    if _catalogers is None:
        modules = package_modules(__name__.rpartition(".")[0])
        found = [getattr(module, "CATALOGER", None) for module in modules]
        _catalogers = [cast(Cataloger, item) for item in found if item is not None]
    return _catalogers


def wanted_by(readers: Sequence[Callable[[str], bool]]) -> Callable[[str], bool]:
    """One capture predicate for several readers."""
    tests = tuple(readers)
    if len(tests) == 1:
        return tests[0]

    def wants(path: str) -> bool:
        # a plain loop: a generator per call would cost more than the tests themselves
        for test in tests:  # noqa: SIM110
            if test(path):
                return True
        return False

    return wants
