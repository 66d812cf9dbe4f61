"""Finding Dockerfiles in a directory tree: ``Dockerfile*``, ``*.Dockerfile``, ``*.dockerfile``,
``Containerfile*``, honouring ``.gitignore`` files, ``.dockerignore``-style excludes given in the
configuration or on the command line, and skipping VCS and dependency directories."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pathspec

_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".ruff_cache"})  # fmt: skip
_NOT_DOCKERFILES = (".dockerignore", ".md", ".txt", ".rst", ".html", ".orig", ".rej", ".swp", "~")


def is_dockerfile_name(name: str) -> bool:
    low = name.lower()
    if low.endswith(_NOT_DOCKERFILES):
        return False
    return (
        low.startswith("dockerfile")
        or low.startswith("containerfile")
        or low.endswith(".dockerfile")
        or low.endswith(".containerfile")
    )


def _gitignore(directory: Path) -> pathspec.PathSpec[Any] | None:
    path = directory / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover_files(root: Path, excludes: Iterable[str] = ()) -> list[str]:
    """Dockerfiles under ``root``, sorted, as paths joined onto ``root``."""
    exclude_spec = pathspec.GitIgnoreSpec.from_lines(list(excludes))
    found: list[str] = []
    # (directory, spec) pairs: each .gitignore applies below its own directory.
    specs: list[tuple[str, pathspec.PathSpec[Any]]] = []
    root_str = str(root)
    for dirpath, dirnames, filenames in os.walk(root_str):
        spec = _gitignore(Path(dirpath))
        if spec is not None:
            specs.append((dirpath, spec))
        active = [
            (d, s)
            for d, s in specs
            if dirpath == d or dirpath.startswith(d.rstrip(os.sep) + os.sep)
        ]

        def ignored(
            name: str,
            is_dir: bool,
            dirpath: str = dirpath,
            active: list[tuple[str, pathspec.PathSpec[Any]]] = active,
        ) -> bool:
            full = os.path.join(dirpath, name)
            rel_root = os.path.relpath(full, root_str).replace(os.sep, "/")
            suffix = "/" if is_dir else ""
            if exclude_spec.match_file(rel_root + suffix):
                return True
            for base, s in active:
                rel = os.path.relpath(full, base).replace(os.sep, "/")
                if s.match_file(rel + suffix):
                    return True
            return False

        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not ignored(d, True))
        for name in sorted(filenames):
            if is_dockerfile_name(name) and not ignored(name, False):
                full = os.path.join(dirpath, name)
                if os.path.isfile(full):
                    found.append(full)
    return found
