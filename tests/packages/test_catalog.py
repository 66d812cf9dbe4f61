"""Every cataloger over one image: links between distribution and language packages."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from slimline.image.files import ImageFiles
from slimline.packages import catalog as catalog_module
from slimline.packages.base import Cataloger, Package, catalogers
from slimline.packages.catalog import capture_predicate, catalog_image
from slimline.packages.dpkg import STATUS
from tests.image.builders import Op

from .helpers import debian_base, image_files, stanza

DIST = "usr/lib/python3/dist-packages"
FLASK_EGG = f"{DIST}/Flask-2.2.2.egg-info"
FLASK_DEB = "pkg:deb/debian/python3-flask@2.2.2-3?arch=all&distro=debian-12"
NODE_MS_DEB = "pkg:deb/debian/node-ms@2.1.3-3?arch=all&distro=debian-12"


def debian_image() -> list[list[Op]]:
    status = "\n".join(
        [
            stanza(
                Package="python3-flask",
                Status="install ok installed",
                Version="2.2.2-3",
                Architecture="all",
                Source="flask",
            ),
            stanza(
                Package="node-ms",
                Status="install ok installed",
                Version="2.1.3-3",
                Architecture="all",
            ),
        ]
    ).encode()
    flask_list = "\n".join(
        [
            "/.",
            "/usr",
            f"/{DIST}",
            f"/{DIST}/flask",
            f"/{DIST}/flask/__init__.py",
            f"/{FLASK_EGG}",
            f"/{FLASK_EGG}/PKG-INFO",
            f"/{FLASK_EGG}/top_level.txt",
        ]
    ).encode()
    return [
        [
            *debian_base(),
            ("file", f"{DIST}/flask/__init__.py", 2000),
            ("file", f"{FLASK_EGG}/PKG-INFO", b"Name: Flask\nVersion: 2.2.2\n"),
            ("file", f"{FLASK_EGG}/top_level.txt", b"flask\n"),
            ("file", "usr/share/nodejs/ms/package.json", b'{"name": "ms", "version": "2.1.3"}'),
            ("file", "var/lib/dpkg/info/python3-flask.list", flask_list),
            ("file", "var/lib/dpkg/info/node-ms.list", b"/usr/share/nodejs/ms/package.json\n"),
            ("file", STATUS, status),
        ],
        [
            # pip installs its own Flask next to Debian's, and an app brings ms in node_modules
            (
                "file",
                "usr/local/lib/python3.11/dist-packages/flask-3.0.0.dist-info/METADATA",
                b"Name: Flask\nVersion: 3.0.0\n",
            ),
            ("file", "app/node_modules/ms/package.json", b'{"name": "ms", "version": "2.1.3"}'),
        ],
    ]


@pytest.fixture(scope="module")
def result() -> tuple[object, list[Package]]:
    return catalog_image(image_files(*debian_image()))


def test_os_and_order(result: tuple[object, list[Package]]) -> None:
    os, packages = result
    assert getattr(os, "id", None) == "debian"
    ecosystems = [p.ecosystem for p in packages]
    assert ecosystems == ["deb", "deb", "npm", "npm", "pypi", "pypi"]


def test_language_packages_installed_by_distribution_packages(
    result: tuple[object, list[Package]],
) -> None:
    _, packages = result
    by_location = {p.location: p for p in packages if p.ecosystem != "deb"}
    assert by_location[f"{FLASK_EGG}/PKG-INFO"].installed_by == FLASK_DEB
    assert by_location["usr/share/nodejs/ms/package.json"].installed_by == NODE_MS_DEB
    # the same names and versions installed by pip or npm are separate and unowned
    assert (
        by_location[
            "usr/local/lib/python3.11/dist-packages/flask-3.0.0.dist-info/METADATA"
        ].installed_by
        is None
    )
    assert by_location["app/node_modules/ms/package.json"].installed_by is None


def test_each_package_once(result: tuple[object, list[Package]]) -> None:
    _, packages = result
    keys = [(p.purl, p.location) for p in packages]
    assert len(keys) == len(set(keys)) == 6


class _Exploding:
    name = "exploding"

    def wants(self, path: str) -> bool:
        return False

    def catalog(self, files: ImageFiles) -> Sequence[Package]:
        raise RuntimeError("boom")


class _Twice:
    """A cataloger that reports what another already found."""

    name = "twice"

    def wants(self, path: str) -> bool:
        return False

    def catalog(self, files: ImageFiles) -> Sequence[Package]:
        found = [p for c in catalogers() for p in c.catalog(files) if p.ecosystem == "npm"]
        return found + found


def test_a_failing_cataloger_costs_only_its_own_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    extra: list[Cataloger] = [_Exploding(), _Twice()]
    monkeypatch.setattr(catalog_module, "catalogers", lambda: [*catalogers(), *extra])
    _, packages = catalog_image(image_files(*debian_image()))
    assert len(packages) == 6


@pytest.mark.parametrize(
    "path",
    [
        "etc/os-release",
        "usr/lib/os-release",
        "var/lib/dpkg/status",
        "var/lib/dpkg/info/bash.list",
        "lib/apk/db/installed",
        "usr/lib/python3/dist-packages/x-1.dist-info/METADATA",
        "app/node_modules/x/package.json",
        "usr/share/doc/bash/copyright",
    ],
)
def test_capture_predicate_is_the_union(path: str) -> None:
    assert capture_predicate()(path)


def test_capture_predicate_leaves_the_rest() -> None:
    wants = capture_predicate()
    assert not any(
        wants(path) for path in ("usr/bin/python3", "app/package.json", "etc/passwd", "")
    )
