from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cyclonedx.spdx import is_expression

from slimline.report.sbom import SbomOptions, get_renderer
from tests.report.analysis_sample import ANALYSES, SECRETS, sample_analysis

SCHEMA = Path(__file__).parents[1] / "fixtures" / "schemas" / "spdx-2.3.schema.json"
# the file recorded in tests/fixtures/schemas/README.md
SCHEMA_SHA256 = "ed9c4def98a8117d5d9ccb152cf05b5d6ba2a0958cac5f1d700a6de343968f5b"

render = get_renderer("spdx").render
FIXED = SbomOptions(tool_version="1.0", created=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
SPDX_ID = re.compile(r"^SPDXRef-[A-Za-z0-9.-]+$")
LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft201909Validator  # the draft the schema declares
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _doc(name: str = "sample", options: SbomOptions = FIXED) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(render(ANALYSES[name](), options))
    return result


def test_vendored_schema_is_the_recorded_file() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "SPDX 2.3"
    assert schema["$id"] == "http://spdx.org/rdf/terms/2.3"


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_valid_spdx_2_3(validator: Any, name: str) -> None:
    validator.validate(_doc(name))


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_what_the_schema_does_not_check(name: str) -> None:
    """The rules of the SPDX 2.3 specification that its JSON schema leaves out."""
    doc = _doc(name)
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert doc["dataLicense"] == "CC0-1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["creationInfo"]["created"])
    assert all(c.startswith("Tool: ") for c in doc["creationInfo"]["creators"])
    namespace = doc["documentNamespace"]
    assert namespace.startswith("https://") and "#" not in namespace and " " not in namespace
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids))
    assert all(SPDX_ID.match(i) for i in [doc["SPDXID"], *ids])
    known = {doc["SPDXID"], *ids}
    for relationship in doc["relationships"]:
        assert relationship["spdxElementId"] in known
        assert relationship["relatedSpdxElement"] in known
    declared_refs = {info["licenseId"] for info in doc.get("hasExtractedLicensingInfos", [])}
    for package in doc["packages"]:
        for field in ("licenseConcluded", "licenseDeclared"):
            value = package[field]
            if value == "NOASSERTION":
                continue
            refs = set(LICENSE_REF.findall(value))
            assert refs <= declared_refs, value
            # with each LicenseRef standing for a listed licence, the rest must be valid SPDX
            assert is_expression(LICENSE_REF.sub("MIT", value)), value
        for ref in package.get("externalRefs", []):
            assert " " not in ref["referenceLocator"]


def test_document_describes_the_image_which_contains_everything() -> None:
    doc = _doc()
    image = doc["packages"][0]
    assert image["SPDXID"] == "SPDXRef-Image"
    assert (image["name"], image["versionInfo"]) == ("registry.example.com/shop/web", "1.4.2")
    assert image["primaryPackagePurpose"] == "CONTAINER"
    assert image["externalRefs"][0]["referenceLocator"].startswith("pkg:oci/web@sha256:")
    os_package = doc["packages"][1]
    assert os_package["primaryPackagePurpose"] == "OPERATING_SYSTEM"
    assert os_package["summary"] == "Debian GNU/Linux 12 (bookworm)"
    relationships = [
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in doc["relationships"]
    ]
    assert relationships[0] == ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image")
    contained = {r for s, k, r in relationships if s == "SPDXRef-Image" and k == "CONTAINS"}
    assert contained == {p["SPDXID"] for p in doc["packages"][1:]}


def test_installed_and_depends_on() -> None:
    doc = _doc()
    by_name = {p["name"]: p["SPDXID"] for p in doc["packages"]}
    pairs = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in doc["relationships"]
    }
    assert (by_name["python3-flask"], "CONTAINS", by_name["Flask"]) in pairs
    assert (by_name["python3.11"], "DEPENDS_ON", by_name["libssl3"]) in pairs
    assert (by_name["requests"], "DEPENDS_ON", by_name["urllib3"]) in pairs
    assert not any(k == "DEPENDS_ON" and s == r for s, k, r in pairs)


def test_packages() -> None:
    doc = _doc()
    flask = next(p for p in doc["packages"] if p["name"] == "Flask")
    assert flask["versionInfo"] == "2.2.2"
    assert flask["downloadLocation"] == "NOASSERTION"
    assert flask["licenseConcluded"] == "NOASSERTION"
    assert flask["licenseDeclared"] == "BSD-3-Clause"
    assert flask["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:pypi/flask@2.2.2",
        }
    ]
    assert flask["sourceInfo"] == (
        "acquired package info from python:"
        " /usr/lib/python3/dist-packages/Flask-2.2.2.egg-info/PKG-INFO (layer 1)"
    )
    left_pads = [p for p in doc["packages"] if p["name"] == "left-pad"]
    assert len({p["SPDXID"] for p in left_pads}) == 2


def test_licenses() -> None:
    doc = _doc()
    declared = {p["name"]: p["licenseDeclared"] for p in doc["packages"]}
    assert declared["libc6"] == "LGPL-2.1-or-later AND GPL-2.0-only"
    assert declared["cryptography"] == "Apache-2.0 OR BSD-3-Clause"
    assert declared["python3.11"] == "PSF-2.0 AND LicenseRef-GPL-2-with-OpenSSL-exception"
    assert declared["tzdata"] == "LicenseRef-public-domain"
    assert declared["github.com/spf13/cobra"] == "NOASSERTION"
    extracted = {i["licenseId"]: i for i in doc["hasExtractedLicensingInfos"]}
    assert extracted["LicenseRef-Custom-see-LICENSE"]["extractedText"] == "Custom: see LICENSE"
    assert "hasExtractedLicensingInfos" not in _doc("bare")


def test_reproducible_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    first = render(sample_analysis(), FIXED)
    assert first == render(sample_analysis(), FIXED)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717243200")
    assert render(sample_analysis(), SbomOptions(tool_version="1.0")) == first
    other = json.loads(render(ANALYSES["alpine"](), FIXED))["documentNamespace"]
    assert other != json.loads(first)["documentNamespace"]


def test_no_secret_reaches_the_sbom() -> None:
    for name in ANALYSES:
        text = render(ANALYSES[name](), FIXED)
        for secret in SECRETS:
            assert secret not in text
