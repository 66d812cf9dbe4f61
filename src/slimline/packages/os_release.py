"""The distribution an image is built on, from os-release(5).

Not a cataloger: the catalogers use it for their purls' namespace and `distro` qualifier. Most
images have /etc/os-release as a link to ../usr/lib/os-release, so both paths are captured and
the link is followed inside the image.
"""

from __future__ import annotations

from slimline.image.files import ImageFiles
from slimline.packages.base import OSRelease

PATHS = ("etc/os-release", "usr/lib/os-release")
_MAX_BYTES = 64 * 1024


def wants(path: str) -> bool:
    return path == "etc/os-release" or path == "usr/lib/os-release"


def read_os_release(files: ImageFiles) -> OSRelease | None:
    """The first of /etc/os-release and /usr/lib/os-release that exists and names anything."""
    for path in PATHS:
        data = files.read(path)
        if data is None or len(data) > _MAX_BYTES:
            continue
        fields = parse_os_release(data.decode("utf-8", "replace"))
        if not fields:
            continue
        return OSRelease(
            id=fields.get("ID", "").lower(),
            version_id=fields.get("VERSION_ID", ""),
            version_codename=fields.get("VERSION_CODENAME", ""),
            pretty_name=fields.get("PRETTY_NAME", ""),
            id_like=tuple(fields.get("ID_LIKE", "").lower().split()),
        )
    return None


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines; values may be quoted with ' or " and use backslash escapes inside "..."."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum():
            continue
        fields[key] = _unquote(value.strip())
    return fields


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        if value[0] == "'":
            return inner
        out: list[str] = []
        escaped = False
        for char in inner:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            else:
                out.append(char)
        return "".join(out)
    return value
