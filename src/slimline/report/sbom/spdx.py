"""SPDX 2.3 JSON, written directly (the document is small; spdx-tools would be a heavy
dependency for it).

The document DESCRIBES one package for the image (purpose CONTAINER), which CONTAINS the
operating system (purpose OPERATING_SYSTEM) and every package found. A distribution package
CONTAINS the language packages it installed, and a package DEPENDS_ON the packages its metadata
names when they were found in the same ecosystem. Each package carries its purl as a
PACKAGE-MANAGER external reference. `licenseDeclared` is what the package metadata states, as a
valid SPDX expression: names that are no SPDX licence become `LicenseRef-` ids explained in
`hasExtractedLicensingInfos`; NOASSERTION when nothing is known. slimline concludes nothing
about licences, so `licenseConcluded` is always NOASSERTION.

`created` and `documentNamespace` are reproducible when the options (or SOURCE_DATE_EPOCH) fix
the creation time; see slimline.report.sbom.options.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from slimline.image.model import ImageAnalysis
from slimline.packages.base import Package
from slimline.report.analysis._shared import image_path
from slimline.report.options import RenderOptions
from slimline.report.sbom._common import (
    catalog,
    conjunction,
    creation_time,
    document_id,
    image_name_and_version,
    image_purl,
    spdx_expression,
)
from slimline.report.sbom.options import SbomOptions

NAME = "spdx"

SPDX_VERSION = "SPDX-2.3"
DATA_LICENSE = "CC0-1.0"
NOASSERTION = "NOASSERTION"
NAMESPACE_BASE = "https://github.com/slimline/slimline/spdx"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
IMAGE_ID = "SPDXRef-Image"
OS_ID = "SPDXRef-OperatingSystem"

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


def render(analysis: ImageAnalysis, options: RenderOptions) -> str:
    document = to_document(analysis, SbomOptions.of(options))
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def to_document(analysis: ImageAnalysis, options: SbomOptions) -> dict[str, Any]:
    """The SPDX document as plain data, before serialisation."""
    found = catalog(analysis)
    created = creation_time(options)
    uid = document_id(options, NAME, analysis, found.refs, created)
    name, version = image_name_and_version(analysis)
    references = _LicenseRefs()

    packages: list[dict[str, Any]] = [_image_package(analysis, name, version)]
    relationships = [_relationship(DOCUMENT_ID, "DESCRIBES", IMAGE_ID)]
    release = analysis.os
    if release is not None and release.id:
        packages.append(
            _package_entry(
                OS_ID,
                release.id,
                release.version_id,
                purpose="OPERATING_SYSTEM",
                summary=release.pretty_name,
            )
        )
        relationships.append(_relationship(IMAGE_ID, "CONTAINS", OS_ID))
    ids = [_spdx_id(package, ref) for package, ref in zip(found.packages, found.refs, strict=True)]
    for package, spdx_id in zip(found.packages, ids, strict=True):
        packages.append(_package(package, spdx_id, references))
        relationships.append(_relationship(IMAGE_ID, "CONTAINS", spdx_id))
    for index, targets in found.installs.items():
        relationships.extend(_relationship(ids[index], "CONTAINS", ids[t]) for t in targets)
    for index, targets in found.depends.items():
        relationships.extend(_relationship(ids[index], "DEPENDS_ON", ids[t]) for t in targets)

    document: dict[str, Any] = {
        "spdxVersion": SPDX_VERSION,
        "dataLicense": DATA_LICENSE,
        "SPDXID": DOCUMENT_ID,
        "name": analysis.name,
        "documentNamespace": f"{NAMESPACE_BASE}/{_safe(analysis.name, '/')}-{uid}",
        "creationInfo": {
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": [f"Tool: slimline-{options.tool_version}"],
        },
        "packages": packages,
    }
    if references.extracted:
        document["hasExtractedLicensingInfos"] = references.extracted
    document["relationships"] = relationships
    return document


def _safe(text: str, keep: str = "") -> str:
    """`text` reduced to what an SPDX id (or a URI path) may hold."""
    pattern = _ID_UNSAFE if not keep else re.compile(rf"[^A-Za-z0-9.{re.escape(keep)}-]+")
    return pattern.sub("-", text).strip("-") or "x"


def _spdx_id(package: Package, ref: str) -> str:
    # the hash of the unique reference keeps two packages of one name apart
    digest = hashlib.sha256(ref.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"SPDXRef-Package-{_safe(package.ecosystem)}-{_safe(package.name)}-{digest}"


def _relationship(element: str, kind: str, related: str) -> dict[str, str]:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


def _package_entry(
    spdx_id: str,
    name: str,
    version: str,
    *,
    purpose: str,
    declared: str = NOASSERTION,
    purl: str | None = None,
    summary: str = "",
    source_info: str = "",
) -> dict[str, Any]:
    entry: dict[str, Any] = {"SPDXID": spdx_id, "name": name}
    if version:
        entry["versionInfo"] = version
    entry["downloadLocation"] = NOASSERTION
    entry["filesAnalyzed"] = False
    entry["licenseConcluded"] = NOASSERTION
    entry["licenseDeclared"] = declared
    entry["copyrightText"] = NOASSERTION
    if purl:
        entry["externalRefs"] = [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }
        ]
    entry["primaryPackagePurpose"] = purpose
    if summary:
        entry["summary"] = summary
    if source_info:
        entry["sourceInfo"] = source_info
    return entry


def _image_package(analysis: ImageAnalysis, name: str, version: str) -> dict[str, Any]:
    return _package_entry(IMAGE_ID, name, version, purpose="CONTAINER", purl=image_purl(analysis))


def _package(package: Package, spdx_id: str, references: _LicenseRefs) -> dict[str, Any]:
    where = image_path(package.location)
    if package.layer is not None:
        where += f" (layer {package.layer})"
    return _package_entry(
        spdx_id,
        package.name,
        package.version,
        purpose="LIBRARY",
        declared=references.declared(package.licenses),
        purl=package.purl if " " not in package.purl else None,
        source_info=f"acquired package info from {package.cataloger}: {where}",
    )


class _LicenseRefs:
    """Licence expressions for packages, with a LicenseRef for each name that is no SPDX
    licence, declared once in hasExtractedLicensingInfos."""

    def __init__(self) -> None:
        self.extracted: list[dict[str, str]] = []
        self._ids: dict[str, str] = {}

    def declared(self, names: tuple[str, ...]) -> str:
        parts: list[str] = []
        for name in (n.strip() for n in names):
            if not name:
                continue
            expression = spdx_expression(name)
            parts.append(expression if expression is not None else self._reference(name))
        return conjunction(list(dict.fromkeys(parts))) if parts else NOASSERTION

    def _reference(self, name: str) -> str:
        known = self._ids.get(name)
        if known is not None:
            return known
        ref = f"LicenseRef-{_safe(name)}"
        if ref in self._ids.values():
            ref += "-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        self._ids[name] = ref
        self.extracted.append(
            {
                "licenseId": ref,
                "extractedText": name,
                "name": name,
                "comment": "The licence as the package metadata names it; no SPDX id matches it.",
            }
        )
        return ref
