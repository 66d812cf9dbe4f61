"""Package URLs built the way syft writes them, so SBOMs from both tools line up."""

from __future__ import annotations

import functools

from packageurl import PackageURL

from slimline.packages.base import OSRelease


def distro(os: OSRelease | None) -> str:
    """The `distro` qualifier: "debian-12", "alpine-3.19.1"; the bare ID without a version."""
    if os is None or not os.id:
        return ""
    return f"{os.id}-{os.version_id}" if os.version_id else os.id


def purl(
    kind: str,
    name: str,
    version: str,
    *,
    namespace: str | None = None,
    qualifiers: dict[str, str] | None = None,
) -> str:
    """The purl string; qualifiers with empty values are left out. ValueError if invalid."""
    base = PackageURL(type=kind, namespace=namespace or None, name=name, version=version)
    kept = tuple((key, value) for key, value in (qualifiers or {}).items() if value)
    if not kept:
        return base.to_string()
    # every package of an image shares a few qualifier sets, and encoding them is most of the
    # cost of a purl: a thousand Debian packages took a quarter of a second
    return f"{base.to_string()}?{_encoded_qualifiers(kept)}"


@functools.lru_cache(maxsize=256)
def _encoded_qualifiers(qualifiers: tuple[tuple[str, str], ...]) -> str:
    encoded = PackageURL(type="generic", name="q", qualifiers=dict(qualifiers)).to_string()
    return encoded.partition("?")[2]
