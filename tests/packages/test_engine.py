"""The catalogers against real images and the package managers inside them.

Ground truth comes from the image itself: dpkg-query for Debian packages, pip list for Python
(system-wide and in a virtualenv), dpkg -L and stat for files and sizes, dpkg -S for which
distribution package installed a language package's metadata.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import posixpath
import time
import zipfile
from dataclasses import dataclass

import pytest

from slimline.image.read import read_image
from slimline.image.sources import open_image
from slimline.packages.base import OSRelease, Package
from slimline.packages.catalog import capture_predicate, catalog_image
from tests.support import engine

pytestmark = pytest.mark.engine

VENV_SITE = "app/venv/lib/python3.11/site-packages"


def wheel(name: str, version: str, module: str) -> tuple[str, bytes]:
    """A minimal pure-Python wheel with a script, built deterministically (pip cannot reach an
    index inside the build)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    members = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{dist}-{version}.data/scripts/{module}-tool": b"#!/bin/sh\necho tiny\n",
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            "License-Expression: MIT\nRequires-Dist: flask\n"
        ).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: slimline-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return f"{dist}-{version}-py3-none-any.whl", buffer.getvalue()


def node_modules() -> dict[str, str]:
    def manifest(**fields: object) -> str:
        return json.dumps(fields)

    return {
        "node_modules/left-pad/package.json": manifest(
            name="left-pad", version="1.3.0", license="WTFPL"
        ),
        "node_modules/left-pad/index.js": "module.exports = (s) => s;\n",
        "node_modules/left-pad/lib/package.json": manifest(type="module"),
        "node_modules/@acme/widget/package.json": manifest(
            name="@acme/widget", version="2.0.0", dependencies={"left-pad": "^1.1.0"}
        ),
        "node_modules/@acme/widget/node_modules/left-pad/package.json": manifest(
            name="left-pad", version="1.1.0"
        ),
    }


TINY = wheel("slimline-tiny", "0.1.0", "slimline_tiny")
GONE = wheel("slimline-gone", "0.2.0", "slimline_gone")

DOCKERFILE = f"""FROM {engine.BASE_IMAGE}
RUN apt-get update \\
 && apt-get install -y --no-install-recommends \\
      python3-flask python3-pip python3-venv node-semver node-ms netbase \\
 && apt-get remove -y netbase \\
 && rm -rf /var/lib/apt/lists/*
COPY wheels/ /ctx/
RUN pip install --break-system-packages --no-index --no-deps /ctx/{TINY[0]} /ctx/{GONE[0]}
RUN pip uninstall -y --break-system-packages slimline-gone
RUN python3 -m venv /app/venv && /app/venv/bin/pip install --no-index --no-deps /ctx/{TINY[0]}
COPY node_modules/ /app/node_modules/
"""


@dataclass(frozen=True)
class Cataloged:
    tag: str
    os: OSRelease | None
    packages: list[Package]
    seconds: float

    def of(self, ecosystem: str) -> list[Package]:
        return [p for p in self.packages if p.ecosystem == ecosystem]


def catalog(tag: str) -> Cataloged:
    archive = engine.save(tag)
    with open_image(f"docker-archive:{archive}") as image:
        files = read_image(image, capture_predicate()).files
    start = time.perf_counter()
    os, packages = catalog_image(files)
    return Cataloged(tag, os, packages, time.perf_counter() - start)


@pytest.fixture(scope="module")
def built() -> Cataloged:
    context: dict[str, str | bytes] = {"Dockerfile": DOCKERFILE, **node_modules()}
    for name, data in (TINY, GONE):
        context[f"wheels/{name}"] = data
    return catalog(engine.build("packages", context))


@pytest.fixture(scope="module")
def slim() -> Cataloged:
    return catalog(engine.SLIM_BASE_IMAGE)


def dpkg_query(tag: str) -> set[tuple[str, str, str]]:
    """What dpkg-query lists, less the packages of which only conffiles remain."""
    output = engine.run(
        tag,
        ["dpkg-query", "-W", "-f", "${db:Status-Status} ${Package} ${Version} ${Architecture}\\n"],
    )
    rows = [line.split(" ") for line in output.splitlines() if line.strip()]
    return {(name, version, arch) for state, name, version, arch in rows if state != "config-files"}


@pytest.mark.parametrize("which", ["built", "slim"])
def test_dpkg_packages_match_dpkg_query(which: str, request: pytest.FixtureRequest) -> None:
    cataloged: Cataloged = request.getfixturevalue(which)
    found = {(p.name, p.version, p.arch) for p in cataloged.of("deb")}
    assert found == dpkg_query(cataloged.tag)
    assert cataloged.os is not None and (cataloged.os.id, cataloged.os.version_id) == (
        "debian",
        "12",
    )
    assert all(p.purl.endswith("&distro=debian-12") for p in cataloged.of("deb"))


def test_removed_package_with_conffiles_is_not_listed(built: Cataloged) -> None:
    states = engine.run(built.tag, ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "netbase"])
    assert states.strip() == "rc"
    assert "netbase" not in {p.name for p in built.of("deb")}


def test_sources_match_dpkg_query(built: Cataloged) -> None:
    output = engine.run(
        built.tag,
        [
            "dpkg-query",
            "-W",
            "-f",
            "${Package} ${Architecture} ${source:Package} ${source:Version}\\n",
        ],
    )
    expected = {tuple(line.split(" ")) for line in output.splitlines() if line.strip()}
    found = {(p.name, p.arch, p.source_name, p.source_version) for p in built.of("deb")}
    assert found <= expected


# in the container: each package's listed paths that are not directories (a listed path with
# children listed under it is one to dpkg even where the image has a link), through their real
# parent directory, and the bytes of the regular files, hard links once
_OWNED_SCRIPT = r"""
import json, os, stat, subprocess, sys
result = {}
for package in sys.argv[1:]:
    listed = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True).stdout
    paths = [p for p in listed.splitlines() if p.startswith("/") and p != "/."]
    parents = {os.path.dirname(p) for p in paths}
    files, inodes = set(), {}
    for path in paths:
        if path in parents:
            continue
        real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        try:
            info = os.lstat(real)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            continue
        files.add(real.lstrip("/"))
        if stat.S_ISREG(info.st_mode):
            inodes[info.st_ino] = info.st_size
    result[package] = [sorted(files), sum(inodes.values())]
print(json.dumps(result))
"""


def test_files_and_sizes_match_dpkg_and_stat(built: Cataloged) -> None:
    names = ["bash", "libc6", "python3-flask", "node-semver", "python3-pip", "base-files"]
    truth = json.loads(engine.run(built.tag, ["python3", "-c", _OWNED_SCRIPT, *names]))
    by_name = {p.name: p for p in built.of("deb")}
    for name in names:
        files, size = truth[name]
        assert sorted(by_name[name].files) == files, name
        assert by_name[name].size_bytes == size, name
        assert size > 0


def pip_list(tag: str, python: str) -> set[tuple[str, str]]:
    output = engine.run(tag, [python, "-m", "pip", "list", "--format", "json"])
    return {(item["name"].lower(), item["version"]) for item in json.loads(output)}


def python_site(package: Package) -> str:
    """The directory on sys.path that holds the package's metadata."""
    if package.location.endswith((".dist-info/METADATA", ".egg-info/PKG-INFO")):
        return posixpath.dirname(posixpath.dirname(package.location))
    return posixpath.dirname(package.location)


def test_python_packages_match_pip_list(built: Cataloged) -> None:
    system_path = json.loads(
        engine.run(built.tag, ["python3", "-c", "import json, sys; print(json.dumps(sys.path))"])
    )
    system_sites = {path.lstrip("/") for path in system_path if path}
    python = built.of("pypi")
    system = {(p.name.lower(), p.version) for p in python if python_site(p) in system_sites}
    assert system == pip_list(built.tag, "python3")
    assert ("slimline-tiny", "0.1.0") in system
    # uninstalled in a later layer: its dist-info is hidden by a whiteout
    assert "slimline-gone" not in {p.name for p in python}
    venv = {(p.name.lower(), p.version) for p in python if python_site(p) == VENV_SITE}
    assert venv == pip_list(built.tag, "/app/venv/bin/python")


def test_pip_installed_wheel_files(built: Cataloged) -> None:
    (tiny,) = [p for p in built.of("pypi") if p.name == "slimline-tiny" and "local" in p.location]
    assert tiny.purl == "pkg:pypi/slimline-tiny@0.1.0"
    assert tiny.licenses == ("MIT",) and tiny.depends == ("flask",)
    assert tiny.metadata.get("installer") == "pip"
    assert "usr/local/bin/slimline_tiny-tool" in tiny.files
    assert "usr/local/lib/python3.11/dist-packages/slimline_tiny/__init__.py" in tiny.files
    assert tiny.installed_by is None


def test_installed_by_matches_dpkg_search(built: Cataloged) -> None:
    language = [p for p in built.packages if p.ecosystem in ("pypi", "npm")]
    locations = ["/" + p.location for p in language]
    output = engine.run(built.tag, ["sh", "-c", 'dpkg -S "$@" 2>/dev/null; true', "-", *locations])
    owners = {}
    for line in output.splitlines():
        owner, _, path = line.partition(": ")
        owners[path.lstrip("/")] = owner.split(":")[0]
    deb_purls = {p.purl: p.name for p in built.of("deb")}
    for package in language:
        expected = owners.get(package.location)
        actual = deb_purls.get(package.installed_by or "")
        assert actual == expected, package.location
    assert any(p.installed_by for p in built.of("npm"))
    assert any(p.installed_by for p in built.of("pypi"))


def test_each_package_once(built: Cataloged) -> None:
    keys = [(p.purl, p.location) for p in built.packages]
    assert len(keys) == len(set(keys))


def test_npm_packages(built: Cataloged) -> None:
    app = {
        (p.name, p.version, p.location)
        for p in built.of("npm")
        if p.location.startswith("app/node_modules/")
    }
    assert app == {
        ("left-pad", "1.3.0", "app/node_modules/left-pad/package.json"),
        ("@acme/widget", "2.0.0", "app/node_modules/@acme/widget/package.json"),
        ("left-pad", "1.1.0", "app/node_modules/@acme/widget/node_modules/left-pad/package.json"),
    }
    debian = {p.name: p for p in built.of("npm") if p.location.startswith("usr/share/nodejs/")}
    assert debian["semver"].installed_by is not None
    assert "pkg:deb/debian/node-semver@" in debian["semver"].installed_by
