"""The build context an engine receives: a directory as a tar, with one Dockerfile's text.

The directory is read as ``docker build`` reads it: ``.dockerignore`` applies (through the
Docker SDK's own implementation of its rules), and the Dockerfile is sent at its own path in
the context, with the text being built rather than what is on disk. That way the original and
the fixed build see exactly the same files, and ``COPY . .`` copies what the user's own build
would copy once the fix is written.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
from pathlib import Path

from slimline.engine.errors import EngineError

# Build contexts are held in memory; a bigger one is almost certainly not what was meant.
MAX_CONTEXT_BYTES = 2 * 1024**3


def _ignore_patterns(root: Path) -> list[str]:
    path = root / ".dockerignore"
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def context_tar(root: Path, dockerfile_text: str, dockerfile: str = "Dockerfile") -> bytes:
    """A tar of ``root`` minus what ``.dockerignore`` excludes, with ``dockerfile_text`` at
    ``dockerfile`` (a path relative to ``root``)."""
    from docker.utils.build import exclude_paths

    if not root.is_dir():
        raise EngineError(f"build context {root} is not a directory")
    dockerfile = posixpath.normpath(dockerfile.replace(os.sep, "/"))
    if dockerfile.startswith(("../", "/")) or dockerfile == "..":
        raise EngineError(f"the Dockerfile path {dockerfile} is outside the build context")
    included = sorted(set(exclude_paths(str(root), _ignore_patterns(root), dockerfile=dockerfile)))
    buffer = io.BytesIO()
    total = 0
    # GNU format and whole-second times: the engine sniffs the first 512 bytes to tell a tar
    # from a bare Dockerfile, and a PAX header first (written for sub-second mtimes) fails that.
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        data = dockerfile_text.encode("utf-8")
        info = tarfile.TarInfo(dockerfile)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
        for name in included:
            if posixpath.normpath(name) == dockerfile:
                continue
            path = root / name
            info = tar.gettarinfo(str(path), arcname=name)
            if info is None:  # sockets and the like: docker build skips them too
                continue
            info.mtime = int(info.mtime)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isfile():
                total += info.size
                if total > MAX_CONTEXT_BYTES:
                    raise EngineError(f"build context {root} is larger than 2 GB")
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return buffer.getvalue()
