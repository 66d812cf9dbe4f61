from __future__ import annotations

from dataclasses import replace

import pytest

from slimline.packages.base import Package
from slimline.report.sbom._common import (
    catalog,
    conjunction,
    dependency_names,
    image_name_and_version,
    spdx_expression,
)
from tests.report.analysis_sample import empty_analysis, sample_analysis


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIT", "MIT"),
        ("mit", "MIT"),
        ("apache-2.0 or mit", "Apache-2.0 OR MIT"),
        ("(MIT OR Apache-2.0) AND bsd-3-clause", "(MIT OR Apache-2.0) AND BSD-3-Clause"),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
        ("GPL-2", "GPL-2.0-only"),
        ("GPL-2+", "GPL-2.0-or-later"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("AGPL-3", "AGPL-3.0-only"),
        ("Expat", "MIT"),
        ("Apache-2.0+", None),  # `+` only where a GNU short name means "or later"
        ("public-domain", None),
        ("GPL-2+ with OpenSSL exception", None),
        ("MIT AND", None),
        ("", None),
        ("LicenseRef-mine", None),
    ],
)
def test_spdx_expression(text: str, expected: str | None) -> None:
    assert spdx_expression(text) == expected


def test_conjunction() -> None:
    assert conjunction(["MIT"]) == "MIT"
    assert conjunction(["MIT", "A OR B", "C"]) == "MIT AND (A OR B) AND C"


def _package(ecosystem: str, *depends: str) -> Package:
    return Package(
        name="p", version="1", ecosystem=ecosystem, purl="pkg:x/p", location="", cataloger="",
        depends=depends,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("ecosystem", "depends", "expected"),
    [
        ("deb", ["libc6 (>= 2.34)", "python3:any", "a | b (>= 1)"], [["libc6"], ["python3"], ["a", "b"]]),
        ("deb", ["Foo"], [["foo"]]),
        ("apk", ["so:libc.musl-x86_64.so.1", "cmd:sh", "musl>=1.2", "!conflict", "busybox=1.36"], [["musl"], ["busybox"]]),
        ("pypi", ["Charset_Normalizer<4,>=2", "idna (>=2.5)", "pkg[extra]>=1; python_version<'3.12'"], [["charset-normalizer"], ["idna"], ["pkg"]]),
        ("npm", ["@types/node@^20", "left-pad", "x@1.0.0"], [["@types/node"], ["left-pad"], ["x"]]),
        ("golang", ["github.com/a/b v1.2.0"], [["github.com/a/b"]]),
    ],
)  # fmt: skip
def test_dependency_names(ecosystem: str, depends: list[str], expected: list[list[str]]) -> None:
    assert dependency_names(_package(ecosystem, *depends)) == expected


def test_catalog_edges() -> None:
    found = catalog(sample_analysis())
    index = {p.name: i for i, p in enumerate(found.packages)}
    assert found.installs[index["python3-flask"]] == (index["Flask"],)
    assert found.installed == {index["Flask"]}
    assert index["python3.11"] in found.edges(index["python3-flask"])
    assert index["Flask"] in found.edges(index["python3-flask"])
    assert len(set(found.refs)) == len(found.refs)


def test_a_package_never_depends_on_itself() -> None:
    selfish = replace(_package("deb", "p", "p (>= 1)"), name="p")
    analysis = replace(empty_analysis(), packages=(selfish,))
    assert catalog(analysis).edges(0) == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("registry.example.com/shop/web:1.4.2", ("registry.example.com/shop/web", "1.4.2")),
        ("localhost:5000/app:dev", ("localhost:5000/app", "dev")),
        ("localhost:5000/app", ("localhost:5000/app", "")),
        ("app@sha256:" + "a" * 64, ("app", "sha256:" + "a" * 64)),
        ("app:1@sha256:" + "a" * 64, ("app", "sha256:" + "a" * 64)),
        ("docker-archive:build/app.tar", ("docker-archive:build/app.tar", "")),
    ],
)
def test_image_name_and_version(name: str, expected: tuple[str, str]) -> None:
    analysis = replace(empty_analysis(), name=name, image_id=None)
    assert image_name_and_version(analysis) == expected


def test_image_without_tag_is_versioned_by_its_digest() -> None:
    analysis = replace(sample_analysis(), name="docker-archive:build/app.tar")
    assert image_name_and_version(analysis)[1] == "sha256:" + ("9a8b7c6d5e4f" * 6)[:64]
    analysis = replace(analysis, repo_digests=())
    assert image_name_and_version(analysis)[1] == analysis.image_id
