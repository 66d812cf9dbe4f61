from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from slimline.packages.base import Package
from slimline.report import RenderOptions
from slimline.report.sbom import SbomOptions, get_renderer
from slimline.report.sbom.cyclonedx import dumps, to_document
from tests.report.analysis_sample import ANALYSES, SECRETS, sample_analysis

render = get_renderer("cyclonedx").render
FIXED = SbomOptions(tool_version="1.0", created=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def validator() -> JsonStrictValidator:
    return JsonStrictValidator(SchemaVersion.V1_6)


def _bom(name: str = "sample", options: RenderOptions = FIXED) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(render(ANALYSES[name](), options))
    return result


def _component(bom: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in bom["components"] if c["name"] == name)


def _properties(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_valid_cyclonedx_1_6(validator: JsonStrictValidator, name: str) -> None:
    text = render(ANALYSES[name](), FIXED)
    error = validator.validate_str(text)
    assert error is None, str(error)
    assert json.loads(text)["specVersion"] == "1.6"


def test_validator_is_strict(validator: JsonStrictValidator) -> None:
    bom = _bom()
    bom["components"][0]["unknown"] = 1
    assert validator.validate_str(json.dumps(bom)) is not None


def test_metadata_describes_the_image() -> None:
    metadata = _bom()["metadata"]
    image = metadata["component"]
    assert image["type"] == "container"
    assert image["name"] == "registry.example.com/shop/web"
    assert image["version"] == "1.4.2"
    assert image["purl"].startswith("pkg:oci/web@sha256:9a8b7c6d5e4f")
    assert "repository_url=registry.example.com/shop/web" in image["purl"]
    assert _properties(image)["slimline:platform"] == "linux/amd64"
    assert metadata["timestamp"] == "2024-06-01T12:00:00+00:00"
    assert metadata["tools"]["components"] == [
        {"name": "slimline", "type": "application", "version": "1.0"}
    ]


def test_image_without_tag_is_versioned_by_digest() -> None:
    bare = _bom("bare")["metadata"]["component"]
    assert bare["name"] == "dir:build/rootfs"
    assert "version" not in bare and "purl" not in bare
    analysis = replace(sample_analysis(), name="registry.example.com/shop/web@sha256:" + "1" * 64)
    image = json.loads(render(analysis, FIXED))["metadata"]["component"]
    assert (image["name"], image["version"]) == (
        "registry.example.com/shop/web",
        "sha256:" + "1" * 64,
    )


def test_components() -> None:
    bom = _bom()
    assert len(bom["components"]) == 17  # 16 packages and the operating system
    debian = _component(bom, "debian")
    assert debian["type"] == "operating-system"
    assert debian["version"] == "12"
    flask = _component(bom, "Flask")
    assert flask["type"] == "library"
    assert flask["purl"] == "pkg:pypi/flask@2.2.2"
    assert _properties(flask) == {
        "slimline:cataloger": "python",
        "slimline:file-count": "2",
        "slimline:installed-by": "pkg:deb/debian/python3-flask@2.2.2-3?arch=all&distro=debian-12",
        "slimline:layer": "1",
        "slimline:location": "/usr/lib/python3/dist-packages/Flask-2.2.2.egg-info/PKG-INFO",
        "slimline:size-bytes": "1010000",
    }
    assert _properties(_component(bom, "libssl3"))["slimline:source-name"] == "openssl"


def test_one_purl_found_twice_gets_two_references() -> None:
    refs = [c["bom-ref"] for c in _bom()["components"] if c["name"] == "left-pad"]
    assert len(refs) == len(set(refs)) == 2
    assert all(ref.startswith("pkg:npm/left-pad@1.3.0?package-id=") for ref in refs)


def test_licenses() -> None:
    bom = _bom()

    def licenses(name: str) -> list[dict[str, Any]]:
        return list(_component(bom, name).get("licenses", []))

    assert licenses("libc6") == [
        {"license": {"id": "GPL-2.0-only"}},
        {"license": {"id": "LGPL-2.1-or-later"}},
    ]
    assert licenses("urllib3") == [{"license": {"id": "MIT"}}]
    assert licenses("cryptography") == [{"expression": "Apache-2.0 OR BSD-3-Clause"}]
    assert licenses("python3.11") == [
        {"license": {"id": "PSF-2.0"}},
        {"license": {"name": "GPL-2+ with OpenSSL exception"}},
    ]
    assert licenses("rake") == [{"license": {"name": "Custom: see LICENSE"}}]
    assert licenses("github.com/spf13/cobra") == []
    alpine = _bom("alpine")
    ca = _component(alpine, "ca-certificates-bundle")
    assert ca["licenses"] == [{"expression": "MPL-2.0 AND MIT"}]


def _depends(bom: dict[str, Any]) -> dict[str, list[str]]:
    return {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}


def test_dependency_tree() -> None:
    bom = _bom()
    depends = _depends(bom)
    ref = {c["name"]: c["bom-ref"] for c in bom["components"]}
    # every component has an entry, and every component is reachable from the image
    assert set(depends) == {"image", *(c["bom-ref"] for c in bom["components"])}
    reached, todo = set(), ["image"]
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo.extend(depends[current])
    assert reached == set(depends)
    assert "operating-system" in depends["image"]
    assert ref["libc6"] in depends["operating-system"]
    assert ref["requests"] in depends["image"]
    # installed by a distribution package: under it, not under the image
    assert ref["Flask"] in depends[ref["python3-flask"]]
    assert ref["Flask"] not in depends["image"]
    # Depends resolved by name, alternatives included; unknown names left out
    assert depends[ref["python3.11"]] == sorted([ref["libc6"], ref["libssl3"]])
    assert ref["python3.11"] in depends[ref["python3-flask"]]
    assert depends[ref["requests"]] == sorted([ref["charset-normalizer"], ref["urllib3"]])


def test_alpine_dependencies_skip_virtual_names() -> None:
    bom = _bom("alpine")
    depends = _depends(bom)
    ref = {c["name"]: c["bom-ref"] for c in bom["components"]}
    assert depends[ref["curl"]] == [ref["ca-certificates-bundle"]]
    assert depends[ref["libcurl"]] == sorted([ref["ca-certificates-bundle"], ref["musl"]])
    assert depends[ref["busybox"]] == []


def test_without_an_os_packages_hang_from_the_image() -> None:
    bom = _bom("bare")
    depends = _depends(bom)
    assert sorted(depends["image"]) == sorted(c["bom-ref"] for c in bom["components"])
    client = next(c for c in bom["components"] if c["name"].endswith("client_golang"))
    assert depends[client["bom-ref"]] == ["pkg:golang/stdlib@go1.21.5"]


def test_reproducible_with_a_fixed_time() -> None:
    first = render(sample_analysis(), FIXED)
    assert first == render(sample_analysis(), FIXED)
    later = replace(FIXED, created=FIXED.created + timedelta(seconds=1))  # type: ignore[operator]
    assert (
        json.loads(render(sample_analysis(), later))["serialNumber"]
        != json.loads(first)["serialNumber"]
    )


def test_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717243200")
    options = SbomOptions(tool_version="1.0")
    bom = _bom(options=options)
    assert bom["metadata"]["timestamp"] == "2024-06-01T12:00:00+00:00"
    assert render(sample_analysis(), options) == render(sample_analysis(), FIXED)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        render(sample_analysis(), options)


def test_creation_time_is_utc_in_whole_seconds() -> None:
    eastern = timezone(timedelta(hours=2))
    options = SbomOptions(created=datetime(2024, 6, 1, 14, 0, 0, 999, tzinfo=eastern))
    assert _bom(options=options)["metadata"]["timestamp"] == "2024-06-01T12:00:00+00:00"
    naive = SbomOptions(created=datetime(2024, 6, 1, 12, 0))
    assert _bom(options=naive)["metadata"]["timestamp"] == "2024-06-01T12:00:00+00:00"


def test_serial_can_be_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    serial = UUID("12345678-1234-5678-1234-567812345678")
    bom = _bom(options=SbomOptions(serial=serial))
    assert bom["serialNumber"] == f"urn:uuid:{serial}"
    now = datetime.now(UTC)
    stamp = datetime.fromisoformat(bom["metadata"]["timestamp"])
    assert abs((stamp - now).total_seconds()) < 60


def test_no_secret_reaches_the_sbom() -> None:
    for name in ANALYSES:
        text = render(ANALYSES[name](), FIXED)
        for secret in SECRETS:
            assert secret not in text


def _package(name: str, version: str, purl: str, *licenses: str) -> Package:
    return Package(
        name=name,
        version=version,
        ecosystem="npm",
        purl=purl,
        location=f"/app/node_modules/{name}/package.json",
        cataloger="npm",
        licenses=licenses,
    )


def test_order_and_edge_cases_as_cyclonedx_python_lib_wrote_them() -> None:
    # the document was once built with cyclonedx-python-lib; these are the rules it followed
    packages = (
        _package("same", "", "pkg:npm/same?b=2&a=1", "Foo", "Foo", "MIT", "mit", " "),
        _package("same", "2", "pkg:npm/same@2", "Zed", "Abc", "GPL-2+", "MIT"),
        _package("same", "2", "not a purl", "MIT OR Apache-2.0", "MIT"),
        _package("Zz\u00e9\u2028", "1", "pkg:npm/zz@1"),
    )
    analysis = replace(sample_analysis(), packages=packages)
    text = render(analysis, replace(FIXED, tool_version=""))
    bom = json.loads(text)
    # by type, name (code points), version (none last) and bom-ref
    assert [(c["name"], c.get("version"), c["bom-ref"]) for c in bom["components"]] == [
        ("Zz\u00e9\u2028", "1", "pkg:npm/zz@1"),
        ("same", "2", "not a purl"),
        ("same", "2", "pkg:npm/same@2"),
        ("same", None, "pkg:npm/same?b=2&a=1"),
        ("debian", "12", "operating-system"),
    ]
    named, versioned, invalid = (bom["components"][i] for i in (3, 2, 1))
    # the purl in canonical form, none when it does not parse
    assert named["purl"] == "pkg:npm/same?a=1&b=2"
    assert "purl" not in invalid
    # each licence once, ids (sorted) before names
    assert named["licenses"] == [{"license": {"id": "MIT"}}, {"license": {"name": "Foo"}}]
    assert versioned["licenses"] == [
        {"license": {"id": "GPL-2.0-or-later"}},
        {"license": {"id": "MIT"}},
        {"license": {"id": "Zed"}},
        {"license": {"name": "Abc"}},
    ]
    assert invalid["licenses"] == [{"expression": "(MIT OR Apache-2.0) AND MIT"}]
    assert [p["name"] for p in named["properties"]] == sorted(_properties(named))
    # an empty string is a value, only a missing one is left out
    assert bom["metadata"]["tools"]["components"][0]["version"] == ""
    assert '"name": "Zz\\u00e9\\u2028"' in text
    assert list(bom) == [
        "components",
        "dependencies",
        "metadata",
        "serialNumber",
        "version",
        "$schema",
        "bomFormat",
        "specVersion",
    ]


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        {"a": [], "b": {}, "c": [1, "x", {"d": [[]]}], "\u00e9": '\u2028"\\\n\x00'},
        [{"n": 0, "m": -3}, "\U0001f600", [[1], []]],
    ],
)
def test_dumps_writes_what_json_dumps_writes(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2)


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_dumps_writes_the_documents_as_json_dumps(name: str) -> None:
    document = to_document(ANALYSES[name](), FIXED)
    assert dumps(document) == json.dumps(document, indent=2)


def test_rendering_does_without_the_cyclonedx_model() -> None:
    program = (
        "import sys\n"
        "from slimline.report.sbom import SbomOptions, get_renderer\n"
        "from tests.report.analysis_sample import sample_analysis\n"
        "get_renderer('cyclonedx').render(sample_analysis(), SbomOptions())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('cyclonedx', 'serializable', 'py_serializable', 'sortedcontainers')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    loaded = eval(done.stdout.strip())
    # only the SPDX licence list, which both SBOM formats use to normalise licences
    assert [m for m in loaded if m.startswith(("cyclonedx.model", "cyclonedx.output"))] == []
    assert not any(m.split(".")[0] in ("serializable", "py_serializable") for m in loaded)
    assert "sortedcontainers" not in loaded
