"""Alpine packages: apk's database, lib/apk/db/installed.

One paragraph per package, one `X:value` line per field. `F:` opens a directory and the `R:`
lines after it are its files, so a package's file list is read in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from slimline.image.files import ImageFiles
from slimline.packages._owned import Ownership, text_of
from slimline.packages._purl import distro, purl
from slimline.packages.base import Package
from slimline.packages.os_release import read_os_release

INSTALLED = "lib/apk/db/installed"
# version constraints in D: ("so:libc.musl-x86_64.so.1", "musl>=1.2", "a~1.2", "b=1")
_CONSTRAINT_CHARS = "<>=~"


@dataclass(slots=True)
class ApkRecord:
    """One package paragraph of the database, as written."""

    name: str = ""
    version: str = ""
    arch: str = ""
    origin: str = ""
    license: str = ""
    depends: tuple[str, ...] = ()
    size: str = ""
    installed_size: str = ""
    files: list[str] = field(default_factory=list)


def parse_installed(text: str) -> Iterator[ApkRecord]:
    """The database's packages in order; unknown fields and malformed lines are skipped."""
    record = ApkRecord()
    directory = ""
    started = False
    for line in text.splitlines():
        if not line.strip():
            if started:
                yield record
            record, directory, started = ApkRecord(), "", False
            continue
        if len(line) < 2 or line[1] != ":":
            continue
        key, value = line[0], line[2:]
        started = True
        if key == "P":
            record.name = value
        elif key == "V":
            record.version = value
        elif key == "A":
            record.arch = value
        elif key == "o":
            record.origin = value
        elif key == "L":
            record.license = value
        elif key == "D":
            record.depends = _depends(value)
        elif key == "S":
            record.size = value
        elif key == "I":
            record.installed_size = value
        elif key == "F":
            directory = value.strip("/")
        elif key == "R":
            record.files.append(f"{directory}/{value}" if directory else value)
    if started:
        yield record


def _depends(value: str) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for token in value.split():
        if token.startswith("!"):
            # a conflict, not a dependency
            continue
        name = token
        for char in _CONSTRAINT_CHARS:
            name = name.partition(char)[0]
        if name:
            names[name] = None
    return tuple(names)


class ApkCataloger:
    name = "apk"

    def wants(self, path: str) -> bool:
        return path == INSTALLED

    def catalog(self, files: ImageFiles) -> Sequence[Package]:
        text = text_of(files, INSTALLED)
        if text is None:
            return []
        os = read_os_release(files)
        namespace = os.id if os is not None and os.id else "alpine"
        qualifier = distro(os)
        ownership = Ownership(files)
        record = files.record(INSTALLED)
        layer = record.layer if record is not None else None
        found: dict[tuple[str, str], Package] = {}
        for entry in parse_installed(text):
            if not entry.name or not entry.version:
                continue
            try:
                owned, size = ownership.collect(entry.files)
                metadata = {}
                if entry.installed_size.isdigit():
                    metadata["installed_size"] = entry.installed_size
                if entry.size.isdigit():
                    metadata["package_size"] = entry.size
                package = Package(
                    name=entry.name,
                    version=entry.version,
                    ecosystem="apk",
                    purl=purl(
                        "apk",
                        entry.name,
                        entry.version,
                        namespace=namespace,
                        qualifiers={"arch": entry.arch, "distro": qualifier},
                    ),
                    location=INSTALLED,
                    cataloger=self.name,
                    arch=entry.arch,
                    source_name=entry.origin or entry.name,
                    source_version=entry.version,
                    licenses=(entry.license,) if entry.license else (),
                    depends=entry.depends,
                    files=owned,
                    size_bytes=size,
                    layer=layer,
                    metadata=metadata,
                )
            except Exception:
                continue
            found.setdefault((package.name, package.arch), package)
        return sorted(found.values(), key=lambda p: (p.name, p.arch, p.version))


CATALOGER = ApkCataloger()
