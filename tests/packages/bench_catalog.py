"""How long cataloging takes on a large synthetic image: `python -m tests.packages.bench_catalog`.

Not a test (tests never assert on time). The image has 1,000 dpkg packages of 100 files each,
200 pip-installed distributions and 1,000 npm packages, about 122,000 paths in all. Times are
CPU seconds of this process, which a busy machine disturbs less than wall-clock time.
"""

from __future__ import annotations

import json
import statistics
import time

from slimline.image.files import ImageFiles
from slimline.image.filetree import LayerTree, MergedTree
from slimline.image.layers import EntryKind, LayerEntry
from slimline.packages.base import catalogers
from slimline.packages.catalog import capture_predicate, catalog_image

COPYRIGHT = b"Format: https://x\n\nFiles: *\nLicense: MIT\n\nLicense: MIT\n text\n"


def big_image(
    dpkg: int = 1000, files_each: int = 100, python: int = 200, npm: int = 1000
) -> ImageFiles:
    tree = LayerTree(0)
    captured: dict[str, bytes] = {}

    def add(path: str, size: int = 0, data: bytes | None = None) -> None:
        if data is not None:
            size = len(data)
            captured[path] = data
        tree.add(LayerEntry(path, EntryKind.FILE, size, 0o644, 0, 0, ""))

    add("etc/os-release", data=b"ID=debian\nVERSION_ID=12\n")
    stanzas = []
    for i in range(dpkg):
        name = f"pkg{i}"
        listing = ["/.", "/usr", "/usr/lib", f"/usr/lib/{name}"]
        for j in range(files_each):
            add(f"usr/lib/{name}/file{j}.so", 1000 + j)
            listing.append(f"/usr/lib/{name}/file{j}.so")
        add(f"var/lib/dpkg/info/{name}.list", data="\n".join(listing).encode())
        add(f"usr/share/doc/{name}/copyright", data=COPYRIGHT)
        stanzas.append(
            f"Package: {name}\nStatus: install ok installed\nPriority: optional\n"
            f"Installed-Size: 100\nMaintainer: x <x@example.org>\nArchitecture: amd64\n"
            f"Source: src{i} (1.{i}-1)\nVersion: 1.{i}-1+b1\n"
            f"Depends: libc6 (>= 2.36), pkg{i + 1} | other\n"
            f"Description: package {i}\n long text\n .\n more\n"
        )
    add("var/lib/dpkg/status", data="\n".join(stanzas).encode())
    site = "usr/local/lib/python3.11/dist-packages"
    for i in range(python):
        info = f"{site}/py{i}-1.0.dist-info"
        add(f"{info}/METADATA", data=f"Name: py{i}\nVersion: 1.0\nLicense: MIT\n".encode())
        record = []
        for j in range(20):
            add(f"{site}/py{i}/m{j}.py", 500)
            record.append(f"py{i}/m{j}.py,sha256=x,500")
        add(f"{info}/RECORD", data="\n".join(record).encode())
    for i in range(npm):
        directory = f"app/node_modules/n{i}"
        manifest = {"name": f"n{i}", "version": "1.0.0", "license": "MIT"}
        add(f"{directory}/package.json", data=json.dumps(manifest).encode())
        for j in range(10):
            add(f"{directory}/lib/f{j}.js", 300)
    merged = MergedTree()
    merged.apply(tree)
    return ImageFiles(merged, {0: captured})


def main() -> None:
    files = big_image()
    runs = []
    for _ in range(5):
        start = time.process_time()
        _, packages = catalog_image(files)
        runs.append(time.process_time() - start)
    print(f"{len(files)} paths, {len(packages)} packages")
    print(f"catalog_image: min {min(runs):.3f} s, median {statistics.median(runs):.3f} s")
    for cataloger in catalogers():
        start = time.process_time()
        count = len(cataloger.catalog(files))
        print(f"  {cataloger.name}: {time.process_time() - start:.3f} s, {count} packages")
    wants = capture_predicate()
    paths = list(files)
    start = time.process_time()
    hits = sum(1 for path in paths if wants(path))
    elapsed = time.process_time() - start
    print(f"capture predicate: {elapsed:.3f} s for {len(paths)} paths ({hits} captured)")


if __name__ == "__main__":
    main()
