"""Node.js packages: the package.json at the root of each installed package.

A package root is a directory directly in a `node_modules` (`node_modules/<name>` or
`node_modules/@scope/<name>`, nested to any depth, global trees in /usr/lib/node_modules and
/usr/local/lib/node_modules included) or in one of Debian's Node.js directories
(usr/share/nodejs, usr/lib/nodejs, usr/lib/<triplet>/nodejs). Packages ship more package.json
files below their root (`dist/esm/package.json` saying only `{"type": "module"}`, test
fixtures with a name and a version): those are never roots, so they are never reported, and a
root package.json without both name and version (a stub) is skipped as syft does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from slimline.image.files import ImageFiles
from slimline.image.layers import EntryKind
from slimline.packages._owned import Ownership
from slimline.packages._purl import purl
from slimline.packages.base import Package

_SUFFIX = "/package.json"


def is_package_root_manifest(path: str) -> bool:
    """Whether `path` is the package.json at the root of an installed package."""
    if not path.endswith(_SUFFIX):
        return False
    package_dir = path[: -len(_SUFFIX)]
    parent, _, name = package_dir.rpartition("/")
    if not name or name.startswith(".") or not parent:
        return False
    if name.startswith("@"):
        # node_modules/@scope holds packages, it is not one
        return False
    container, _, container_name = parent.rpartition("/")
    if container_name.startswith("@"):
        container_name = container.rpartition("/")[2]
        container = container.rpartition("/")[0]
    if container_name == "node_modules":
        return True
    return container_name == "nodejs" and _is_debian_nodejs_parent(container)


def _is_debian_nodejs_parent(directory: str) -> bool:
    """usr/share, usr/lib or usr/lib/<triplet>: where Debian's nodejs directories are."""
    if directory in ("usr/share", "usr/lib"):
        return True
    return directory.startswith("usr/lib/") and directory.count("/") == 2


def package_name(document: dict[str, object]) -> tuple[str, str] | None:
    """(name, version) of a package.json, or None if either is missing or not a string."""
    name = document.get("name")
    version = document.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        return None
    name, version = name.strip(), version.strip()
    if not name or not version:
        return None
    return name, version


def licenses_of(document: dict[str, object]) -> tuple[str, ...]:
    """`license` as a string or the deprecated {"type": ...}; else the deprecated `licenses`."""
    found: dict[str, None] = {}
    for value in (document.get("license"), document.get("licenses")):
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                item = item.get("type")
            if isinstance(item, str) and item.strip():
                found[item.strip()] = None
        if found:
            break
    return tuple(found)


def dependency_names(document: dict[str, object]) -> tuple[str, ...]:
    dependencies = document.get("dependencies")
    if not isinstance(dependencies, dict):
        return ()
    return tuple(str(name) for name in dependencies)


def npm_purl(name: str, version: str) -> str:
    scope, slash, bare = name.rpartition("/")
    if not slash:
        return purl("npm", name, version)
    return purl("npm", bare, version, namespace=scope)


class NpmCataloger:
    name = "npm"

    def wants(self, path: str) -> bool:
        return is_package_root_manifest(path)

    def catalog(self, files: ImageFiles) -> Sequence[Package]:
        tree = files.files
        ownership = Ownership(files)
        packages: list[Package] = []
        for path in [p for p in tree if p.endswith(_SUFFIX)]:
            record = tree[path]
            if record.kind is not EntryKind.FILE or not is_package_root_manifest(path):
                continue
            try:
                package = _package(files, ownership, path, record.layer)
            except Exception:
                continue
            if package is not None:
                packages.append(package)
        return sorted(packages, key=lambda p: (p.name, p.version, p.location))


def _package(files: ImageFiles, ownership: Ownership, path: str, layer: int) -> Package | None:
    data = files.read(path)
    if data is None:
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    identity = package_name(document)
    if identity is None:
        return None
    name, version = identity
    owned, size = ownership.collect(_package_files(files, path[: -len(_SUFFIX)]))
    metadata: dict[str, str] = {}
    if document.get("private") is True:
        metadata["private"] = "true"
    return Package(
        name=name,
        version=version,
        ecosystem="npm",
        purl=npm_purl(name, version),
        location=path,
        cataloger=NpmCataloger.name,
        licenses=licenses_of(document),
        depends=dependency_names(document),
        files=owned,
        size_bytes=size,
        layer=layer,
        metadata=metadata,
    )


def _package_files(files: ImageFiles, package_dir: str) -> list[str]:
    """Every path under the package directory except its node_modules: those are packages of
    their own."""
    listed: list[str] = []
    stack = [package_dir]
    while stack:
        current = stack.pop()
        for child in files.children(current):
            record = files.files.get(child)
            if record is None:
                continue
            if record.kind is EntryKind.DIR:
                if not child.endswith("/node_modules"):
                    stack.append(child)
                continue
            listed.append(child)
    return sorted(listed)


CATALOGER = NpmCataloger()
