"""Python distributions: dist-info, egg-info directories and files, anywhere in the image."""

from __future__ import annotations

import pytest

from slimline.packages.base import Package
from slimline.packages.python import (
    CATALOGER,
    licenses_of,
    normalize_name,
    parse_metadata,
    requirement_names,
)
from tests.image.builders import Op

from .helpers import files_from, image_files

SITE = "usr/local/lib/python3.11/site-packages"
DIST_PACKAGES = "usr/lib/python3/dist-packages"

REQUESTS_METADATA = b"""Metadata-Version: 2.4
Name: requests
Version: 2.32.3
Summary: Python HTTP for Humans.
License-Expression: Apache-2.0
Classifier: License :: OSI Approved :: Apache Software License
Requires-Dist: charset_normalizer<4,>=2
Requires-Dist: idna (<4,>=2.5)
Requires-Dist: PySocks!=1.5.7,>=1.5.6; extra == "socks"
Requires-Dist: urllib3<3,>=1.21.1 ; python_version >= "3.8"

Requests is an elegant and simple HTTP library.
License: this line is in the body, not a header
"""

REQUESTS_RECORD = b"""requests/__init__.py,sha256=abc,5000
requests/api.py,sha256=abc,700
"requests/odd,name.py",sha256=abc,30
requests-2.32.3.dist-info/METADATA,,
requests-2.32.3.dist-info/RECORD,,
../../../bin/requests-cli,sha256=abc,40
/etc/requests.conf,,
requests/__pycache__/api.cpython-311.pyc,,
requests/not-installed.py,,
../../../../../../../../escape,,
"""


def site_packages_layer() -> list[Op]:
    info = f"{SITE}/requests-2.32.3.dist-info"
    return [
        ("file", f"{SITE}/requests/__init__.py", 5000),
        ("file", f"{SITE}/requests/api.py", 700),
        ("file", f"{SITE}/requests/odd,name.py", 30),
        ("file", f"{SITE}/requests/__pycache__/api.cpython-311.pyc", 900),
        ("file", f"{info}/METADATA", REQUESTS_METADATA),
        ("file", f"{info}/RECORD", REQUESTS_RECORD),
        ("file", f"{info}/INSTALLER", b"pip\n"),
        ("file", f"{info}/WHEEL", 80),
        ("file", "usr/local/bin/requests-cli", 40),
        ("file", "etc/requests.conf", 10),
    ]


def debian_layer() -> list[Op]:
    egg = f"{DIST_PACKAGES}/Flask-2.2.2.egg-info"
    return [
        ("file", f"{DIST_PACKAGES}/flask/__init__.py", 2000),
        ("file", f"{DIST_PACKAGES}/flask/json/provider.py", 300),
        ("file", f"{DIST_PACKAGES}/flaskext_helper.py", 50),
        (
            "file",
            f"{egg}/PKG-INFO",
            b"Metadata-Version: 2.1\nName: Flask\nVersion: 2.2.2\nLicense: BSD-3-Clause\n",
        ),
        ("file", f"{egg}/top_level.txt", b"flask\n"),
        ("file", f"{egg}/requires.txt", b"Werkzeug>=2.2.2\nJinja2>=3.0\n\n[async]\nasgiref\n"),
        ("file", f"{DIST_PACKAGES}/_cffi_backend.cpython-311-x86_64-linux-gnu.so", 4000),
        (
            "file",
            f"{DIST_PACKAGES}/cffi-1.15.1.egg-info/PKG-INFO",
            b"Name: cffi\nVersion: 1.15.1\nLicense: MIT\n",
        ),
        ("file", f"{DIST_PACKAGES}/cffi-1.15.1.egg-info/top_level.txt", b"_cffi_backend\ncffi\n"),
        ("file", f"{DIST_PACKAGES}/cffi/api.py", 900),
        (
            "file",
            f"{DIST_PACKAGES}/python_apt-2.6.0.egg-info",
            b"Metadata-Version: 1.1\nName: python-apt\nVersion: 2.6.0\nLicense: GNU GPL\n",
        ),
    ]


@pytest.fixture(scope="module")
def packages() -> dict[str, Package]:
    found = CATALOGER.catalog(image_files(site_packages_layer(), debian_layer()))
    return {p.name: p for p in found}


def test_every_layout_is_found(packages: dict[str, Package]) -> None:
    assert sorted(packages, key=str.lower) == ["cffi", "Flask", "python-apt", "requests"]
    assert packages["requests"].purl == "pkg:pypi/requests@2.32.3"
    assert packages["python-apt"].purl == "pkg:pypi/python-apt@2.6.0"
    assert packages["Flask"].purl == "pkg:pypi/flask@2.2.2"


def test_dist_info_fields(packages: dict[str, Package]) -> None:
    requests = packages["requests"]
    assert requests.location == f"{SITE}/requests-2.32.3.dist-info/METADATA"
    assert (requests.ecosystem, requests.cataloger, requests.layer) == ("pypi", "python", 0)
    assert requests.licenses == ("Apache-2.0",)
    # the extra's requirement is optional, the marker's is not
    assert requests.depends == ("charset_normalizer", "idna", "urllib3")
    assert requests.metadata == {"installer": "pip"}


def test_record_files_relative_quoted_absolute(packages: dict[str, Package]) -> None:
    info = f"{SITE}/requests-2.32.3.dist-info"
    assert set(packages["requests"].files) == {
        f"{SITE}/requests/__init__.py",
        f"{SITE}/requests/api.py",
        f"{SITE}/requests/odd,name.py",
        f"{SITE}/requests/__pycache__/api.cpython-311.pyc",
        f"{info}/METADATA",
        f"{info}/RECORD",
        f"{info}/INSTALLER",
        f"{info}/WHEEL",
        "usr/local/bin/requests-cli",
        "etc/requests.conf",
    }
    expected = 5000 + 700 + 30 + 900 + len(REQUESTS_METADATA) + len(REQUESTS_RECORD) + 4 + 80
    assert packages["requests"].size_bytes == expected + 40 + 10


def test_egg_info_directory_uses_top_level(packages: dict[str, Package]) -> None:
    flask = packages["Flask"]
    egg = f"{DIST_PACKAGES}/Flask-2.2.2.egg-info"
    assert flask.location == f"{egg}/PKG-INFO"
    assert set(flask.files) == {
        f"{DIST_PACKAGES}/flask/__init__.py",
        f"{DIST_PACKAGES}/flask/json/provider.py",
        f"{egg}/PKG-INFO",
        f"{egg}/top_level.txt",
        f"{egg}/requires.txt",
    }
    assert flask.depends == ("Werkzeug", "Jinja2")
    assert flask.licenses == ("BSD-3-Clause",)
    assert flask.layer == 1
    cffi = packages["cffi"]
    assert f"{DIST_PACKAGES}/_cffi_backend.cpython-311-x86_64-linux-gnu.so" in cffi.files
    assert f"{DIST_PACKAGES}/cffi/api.py" in cffi.files


def test_single_file_egg_info(packages: dict[str, Package]) -> None:
    apt = packages["python-apt"]
    assert apt.location == f"{DIST_PACKAGES}/python_apt-2.6.0.egg-info"
    assert apt.files == (apt.location,)
    assert apt.licenses == ("GNU GPL",)


def test_sources_txt_when_nothing_better() -> None:
    site = "opt/app/lib/python3.11/site-packages"
    files = image_files(
        [
            ("file", f"{site}/two/core.py", 30),
            ("file", f"{site}/two-2.0.egg-info/PKG-INFO", b"Name: two\nVersion: 2.0\n"),
            ("file", f"{site}/two-2.0.egg-info/SOURCES.txt", b"setup.py\nsrc/two/core.py\n"),
        ]
    )
    (package,) = CATALOGER.catalog(files)
    assert set(package.files) == {
        f"{site}/two-2.0.egg-info/PKG-INFO",
        f"{site}/two-2.0.egg-info/SOURCES.txt",
        f"{site}/two/core.py",
    }


def test_installed_files_txt() -> None:
    site = "root/.local/lib/python3.11/site-packages"
    files = image_files(
        [
            ("file", f"{site}/one/__init__.py", 10),
            ("file", f"{site}/one/extra.py", 20),
            ("file", f"{site}/one-1.0.egg-info/PKG-INFO", b"Name: one\nVersion: 1.0\n"),
            (
                "file",
                f"{site}/one-1.0.egg-info/installed-files.txt",
                b"../one/__init__.py\nPKG-INFO\n../one/gone.py\n",
            ),
        ]
    )
    (package,) = CATALOGER.catalog(files)
    assert set(package.files) == {
        f"{site}/one/__init__.py",
        f"{site}/one-1.0.egg-info/PKG-INFO",
        f"{site}/one-1.0.egg-info/installed-files.txt",
    }


def test_virtualenvs_anywhere_and_uninstalled_ones_are_gone() -> None:
    venv = "app/.venv/lib/python3.12/site-packages"
    layers: list[list[Op]] = [
        [
            ("file", f"{venv}/six-1.16.0.dist-info/METADATA", b"Name: six\nVersion: 1.16.0\n"),
            ("file", f"{venv}/attrs-23.1.0.dist-info/METADATA", b"Name: attrs\nVersion: 23.1.0\n"),
        ],
        # pip uninstall attrs in a later layer
        [("whiteout", f"{venv}/attrs-23.1.0.dist-info", None)],
    ]
    found = CATALOGER.catalog(image_files(*layers))
    assert [(p.name, p.location) for p in found] == [
        ("six", f"{venv}/six-1.16.0.dist-info/METADATA")
    ]


def test_vendored_dist_info_is_reported_at_its_location() -> None:
    vendored = f"{DIST_PACKAGES}/setuptools/_vendor/packaging-24.0.dist-info/METADATA"
    found = CATALOGER.catalog(files_from({vendored: b"Name: packaging\nVersion: 24.0\n"}))
    assert [(p.name, p.location) for p in found] == [("packaging", vendored)]


def test_corrupt_metadata_is_skipped() -> None:
    files = files_from(
        {
            f"{SITE}/a-1.dist-info/METADATA": b"\x00\xff\xfe binary",
            f"{SITE}/b-1.dist-info/METADATA": b"Version: 1\n",
            f"{SITE}/c-1.dist-info/METADATA": b"Name: c\nVersion: 1\n",
            f"{SITE}/c-1.dist-info/RECORD": b'"unterminated,\x00\n,,,\n',
            f"{SITE}/d-1.dist-info/METADATA": 64 * 1024**2,
        }
    )
    assert [p.name for p in CATALOGER.catalog(files)] == ["c"]


def test_licenses() -> None:
    def licenses(text: str) -> tuple[str, ...]:
        return licenses_of(parse_metadata(text))

    assert licenses("License-Expression: MIT OR Apache-2.0\nLicense: BSD\n") == (
        "MIT OR Apache-2.0",
    )
    assert licenses("License: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n") == (
        "MIT License",
    )
    long_text = "License: Copyright (c) 2010 someone\n        Permission is hereby granted...\n"
    assert licenses(long_text + "Classifier: License :: OSI Approved\n") == ()
    assert licenses("Classifier: License :: Public Domain\n") == ("Public Domain",)


def test_metadata_parsing() -> None:
    fields = parse_metadata("Name: x\r\nClassifier: a\r\nClassifier: b\r\n\r\nBody: no\r\n")
    assert fields == {"name": ["x"], "classifier": ["a", "b"]}
    assert requirement_names(parse_metadata("Requires-Dist: zope.interface[x] >= 5\n")) == (
        "zope.interface",
    )


def test_normalize_name() -> None:
    assert normalize_name("Foo_Bar..baz-") == "foo-bar-baz-"
    assert normalize_name("zope.interface") == "zope-interface"


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{SITE}/x-1.dist-info/METADATA", True),
        (f"{SITE}/x-1.dist-info/RECORD", True),
        (f"{SITE}/x-1.dist-info/INSTALLER", True),
        (f"{SITE}/x-1.dist-info/WHEEL", False),
        (f"{SITE}/x-1.egg-info/PKG-INFO", True),
        (f"{SITE}/x-1.egg-info/top_level.txt", True),
        (f"{SITE}/x-1.egg-info", True),
        (f"{SITE}/x/METADATA", False),
        (f"{SITE}/x/PKG-INFO", False),
        ("usr/lib/x86_64-linux-gnu/libc.so.6", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert CATALOGER.wants(path) is wanted
