"""CycloneDX 1.6 JSON, written directly.

The image is `metadata.component` (type container; version the tag, else the digest). The
operating system is a component of type operating-system, and every package a library with its
purl, licences when known and `slimline:*` properties (layer, location, installed-by,
cataloger, size-bytes, file-count). Dependencies form a tree in the way image scanners draw it:
the image depends on the operating system, which depends on the distribution's packages, and on
the language packages that no distribution package installed; a distribution package depends on
the language packages it installed and on the packages its own metadata names.

The document is plain data, written as `json.dumps(document, indent=2)` would write it (see
dumps): building it as cyclonedx-python-lib's model took seconds for an image of a few thousand
packages. It keeps that library's layout: keys in
alphabetical order (the document's own `$schema`, `bomFormat` and `specVersion` last),
components sorted by type, name, version and bom-ref, properties by name, licence ids before
licence names, dependencies and their `dependsOn` by ref, and empty lists left out.

serialNumber and timestamp are reproducible when the options (or SOURCE_DATE_EPOCH) fix the
creation time; see slimline.report.sbom.options.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

from packageurl import PackageURL

from slimline.image.model import ImageAnalysis
from slimline.packages.base import Package
from slimline.report.analysis._shared import image_path, platform_of
from slimline.report.options import RenderOptions
from slimline.report.sbom._common import (
    catalog,
    conjunction,
    creation_time,
    document_id,
    image_name_and_version,
    image_purl,
    is_compound,
    manifest_digest,
    spdx_expression,
)
from slimline.report.sbom.options import SbomOptions

NAME = "cyclonedx"

SPEC_VERSION = "1.6"
SCHEMA_URI = "http://cyclonedx.org/schema/bom-1.6.schema.json"
IMAGE_REF = "image"
OS_REF = "operating-system"


def render(analysis: ImageAnalysis, options: RenderOptions) -> str:
    return dumps(to_document(analysis, SbomOptions.of(options))) + "\n"


def to_document(analysis: ImageAnalysis, options: SbomOptions) -> dict[str, Any]:
    """The CycloneDX document as plain data, before serialisation."""
    found = catalog(analysis)
    created = creation_time(options)
    serial = document_id(options, NAME, analysis, found.refs, created)

    components = [
        _package_component(package, ref)
        for package, ref in zip(found.packages, found.refs, strict=True)
    ]
    top: list[str] = []
    graph: dict[str, list[str]] = {IMAGE_REF: top}
    operating_system = _os_component(analysis)
    if operating_system is not None:
        top.append(OS_REF)
        graph[OS_REF] = [ref for i, ref in enumerate(found.refs) if found.is_distro(i)]
    installed = found.installed
    for index, ref in enumerate(found.refs):
        owned = found.is_distro(index) and operating_system is not None
        if not owned and index not in installed:
            top.append(ref)
        graph[ref] = [found.refs[i] for i in found.edges(index)]
    if operating_system is not None:
        components.append(operating_system)
    components.sort(key=_component_order)

    document: dict[str, Any] = {}
    if components:
        document["components"] = components
    document["dependencies"] = [_dependency(ref, graph[ref]) for ref in sorted(graph)]
    document["metadata"] = {
        "component": _image_component(analysis),
        "lifecycles": [{"phase": "post-build"}],
        "timestamp": created.isoformat(),
        "tools": {
            "components": [
                {"name": "slimline", "type": "application", "version": options.tool_version}
            ]
        },
    }
    document["serialNumber"] = f"urn:uuid:{serial}"
    document["version"] = 1
    document["$schema"] = SCHEMA_URI
    document["bomFormat"] = "CycloneDX"
    document["specVersion"] = SPEC_VERSION
    return document


def _component(
    ref: str,
    kind: str,
    name: str,
    version: str | None,
    *,
    description: str | None = None,
    licenses: list[dict[str, Any]] | None = None,
    properties: list[tuple[str, str]] | None = None,
    purl: str | None = None,
) -> dict[str, Any]:
    """A component's JSON object: keys in alphabetical order, None and empty lists left out."""
    entry: dict[str, Any] = {"bom-ref": ref}
    if description is not None:
        entry["description"] = description
    if licenses:
        entry["licenses"] = licenses
    entry["name"] = name
    if properties:
        entry["properties"] = [{"name": n, "value": v} for n, v in sorted(set(properties))]
    if purl is not None:
        entry["purl"] = purl
    entry["type"] = kind
    if version is not None:
        entry["version"] = version
    return entry


def _component_order(component: dict[str, Any]) -> tuple[str, str, bool, str, str]:
    """Type, name, version (none after any) and bom-ref: the order cyclonedx-python-lib gave."""
    version = component.get("version")
    return (
        component["type"],
        component["name"],
        version is None,
        version or "",
        component["bom-ref"],
    )


def _dependency(ref: str, depends_on: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if depends_on:
        entry["dependsOn"] = sorted(set(depends_on))
    entry["ref"] = ref
    return entry


def _image_component(analysis: ImageAnalysis) -> dict[str, Any]:
    name, version = image_name_and_version(analysis)
    purl = image_purl(analysis)
    properties = []
    platform = platform_of(analysis)
    if platform:
        properties.append(("slimline:platform", platform))
    if analysis.image_id:
        properties.append(("slimline:image-id", analysis.image_id))
    digest = manifest_digest(analysis)
    if digest:
        properties.append(("slimline:manifest-digest", digest))
    properties.append(("slimline:size-bytes", str(analysis.size_bytes)))
    return _component(
        IMAGE_REF,
        "container",
        name,
        version or None,
        properties=properties,
        purl=_purl(purl) if purl else None,
    )


def _os_component(analysis: ImageAnalysis) -> dict[str, Any] | None:
    release = analysis.os
    if release is None or not release.id:
        return None
    return _component(
        OS_REF,
        "operating-system",
        release.id,
        release.version_id or None,
        description=release.pretty_name or None,
    )


def _package_component(package: Package, ref: str) -> dict[str, Any]:
    properties = [
        ("slimline:cataloger", package.cataloger),
        ("slimline:location", image_path(package.location)),
        ("slimline:size-bytes", str(package.size_bytes)),
        ("slimline:file-count", str(len(package.files))),
    ]
    if package.layer is not None:
        properties.append(("slimline:layer", str(package.layer)))
    if package.installed_by is not None:
        properties.append(("slimline:installed-by", package.installed_by))
    if package.source_name:
        properties.append(("slimline:source-name", package.source_name))
    if package.source_version:
        properties.append(("slimline:source-version", package.source_version))
    return _component(
        ref,
        "library",
        package.name,
        package.version or None,
        licenses=_licenses(package.licenses),
        properties=properties,
        purl=_purl(package.purl),
    )


def _purl(text: str) -> str | None:
    """The purl in its canonical form (qualifiers sorted, parts encoded), None when invalid."""
    try:
        return str(PackageURL.from_string(text))
    except ValueError:
        return None


def _licenses(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """SPDX ids where the names are ids, one expression where they need one (CycloneDX allows
    an expression only on its own), and the names themselves where they are neither.

    Each licence once, the ids (sorted) before the names (sorted)."""
    values = [name.strip() for name in names if name.strip()]
    if not values:
        return []
    expressions = [spdx_expression(value) for value in values]
    valid = [e for e in expressions if e is not None]
    if len(valid) == len(values) and any(is_compound(e) for e in valid):
        return [{"expression": conjunction(list(dict.fromkeys(valid)))}]
    ids: set[str] = set()
    free_text: set[str] = set()
    for value, expression in zip(values, expressions, strict=True):
        if expression is not None and not is_compound(expression):
            ids.add(expression)
        else:
            free_text.add(value)
    return [{"license": {"id": i}} for i in sorted(ids)] + [
        {"license": {"name": n}} for n in sorted(free_text)
    ]


def dumps(document: Any) -> str:
    """What `json.dumps(document, indent=2)` writes, in under half its time: with an indent,
    json encodes in Python, one generator step per token; this writes each value in one call,
    strings with json's own (C) encoder. The document of an image with thousands of packages
    is megabytes of JSON."""
    parts: list[str] = []
    _write(document, "\n", parts.append)
    return "".join(parts)


def _write(value: Any, newline: str, emit: Callable[[str], object]) -> None:
    if isinstance(value, str):
        emit(encode_basestring_ascii(value))
    elif isinstance(value, dict) and value:
        inner = newline + "  "
        opening = "{"
        for key, item in value.items():
            emit(f"{opening}{inner}{encode_basestring_ascii(key)}: ")
            opening = ","
            _write(item, inner, emit)
        emit(newline + "}")
    elif isinstance(value, list) and value:
        inner = newline + "  "
        opening = "["
        for item in value:
            emit(opening + inner)
            opening = ","
            _write(item, inner, emit)
        emit(newline + "]")
    else:
        emit(json.dumps(value))
