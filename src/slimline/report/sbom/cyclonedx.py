"""CycloneDX 1.6 JSON, built with cyclonedx-python-lib.

The image is `metadata.component` (type container; version the tag, else the digest). The
operating system is a component of type operating-system, and every package a library with its
purl, licences when known and `slimline:*` properties (layer, location, installed-by,
cataloger, size-bytes, file-count). Dependencies form a tree in the way image scanners draw it:
the image depends on the operating system, which depends on the distribution's packages, and on
the language packages that no distribution package installed; a distribution package depends on
the language packages it installed and on the packages its own metadata names.

serialNumber and timestamp are reproducible when the options (or SOURCE_DATE_EPOCH) fix the
creation time; see slimline.report.sbom.options.
"""

from __future__ import annotations

from collections.abc import Iterable

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependable, Dependency
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from slimline.image.model import ImageAnalysis
from slimline.packages.base import Package
from slimline.report.analysis._shared import image_path, platform_of
from slimline.report.options import RenderOptions
from slimline.report.sbom._common import (
    Catalog,
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

IMAGE_REF = "image"
OS_REF = "operating-system"


def render(analysis: ImageAnalysis, options: RenderOptions) -> str:
    text: str = JsonV1Dot6(to_bom(analysis, SbomOptions.of(options))).output_as_string(indent=2)
    return text + "\n"


def to_bom(analysis: ImageAnalysis, options: SbomOptions) -> Bom:
    """The SBOM as cyclonedx-python-lib's model, before serialisation."""
    found = catalog(analysis)
    created = creation_time(options)
    serial = document_id(options, NAME, analysis, found.refs, created)
    bom = Bom(serial_number=serial)
    bom.metadata.timestamp = created
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="slimline", version=options.tool_version)
    )
    bom.metadata.lifecycles = [PredefinedLifecycle(LifecyclePhase.POST_BUILD)]
    image = _image_component(analysis)
    bom.metadata.component = image

    components = [_package_component(package, ref) for package, ref in _pairs(found)]
    bom.components.update(components)
    # (component, what it depends on); a list, as hashing a Component is expensive
    top: list[Component] = []
    graph: list[tuple[Component, list[Component]]] = [(image, top)]
    operating_system = _os_component(analysis)
    if operating_system is not None:
        bom.components.add(operating_system)
        top.append(operating_system)
        distro = [c for i, c in enumerate(components) if found.is_distro(i)]
        graph.append((operating_system, distro))
    installed = found.installed
    for index, component in enumerate(components):
        owned = found.is_distro(index) and operating_system is not None
        if not owned and index not in installed:
            top.append(component)
        graph.append((component, [components[i] for i in found.edges(index)]))
    _set_dependencies(bom, graph)
    return bom


def _set_dependencies(bom: Bom, graph: list[tuple[Component, list[Component]]]) -> None:
    """The dependency graph, each entry made once with all its edges.

    Bom.register_dependency finds a registered entry by scanning them all, and the JSON output
    calls it once more for every component: quadratic, over a minute for an image with 3,000
    packages (cyclonedx-python-lib 11). This Bom's register_dependency uses an index instead;
    the entries, and so the output, are the same.
    """
    entries: dict[BomRef, Dependency] = {}
    for target, depends_on in graph:
        entry = Dependency(
            ref=target.bom_ref, dependencies=[Dependency(c.bom_ref) for c in depends_on]
        )
        entries[target.bom_ref] = entry
    bom.dependencies.update(entries.values())

    def register(target: Dependable, depends_on: Iterable[Dependable] | None = None) -> None:
        entry = entries.get(target.bom_ref)
        if entry is None:
            entry = Dependency(ref=target.bom_ref)
            entries[target.bom_ref] = entry
            bom.dependencies.add(entry)
        for dependency in depends_on or ():
            entry.dependencies.add(Dependency(ref=dependency.bom_ref))
            register(dependency)

    bom.register_dependency = register  # type: ignore[method-assign]


def _pairs(found: Catalog) -> Iterable[tuple[Package, str]]:
    return zip(found.packages, found.refs, strict=True)


def _image_component(analysis: ImageAnalysis) -> Component:
    name, version = image_name_and_version(analysis)
    purl = image_purl(analysis)
    properties = []
    platform = platform_of(analysis)
    if platform:
        properties.append(Property(name="slimline:platform", value=platform))
    if analysis.image_id:
        properties.append(Property(name="slimline:image-id", value=analysis.image_id))
    digest = manifest_digest(analysis)
    if digest:
        properties.append(Property(name="slimline:manifest-digest", value=digest))
    properties.append(Property(name="slimline:size-bytes", value=str(analysis.size_bytes)))
    return Component(
        type=ComponentType.CONTAINER,
        name=name,
        version=version or None,
        purl=PackageURL.from_string(purl) if purl else None,
        bom_ref=IMAGE_REF,
        properties=properties,
    )


def _os_component(analysis: ImageAnalysis) -> Component | None:
    release = analysis.os
    if release is None or not release.id:
        return None
    return Component(
        type=ComponentType.OPERATING_SYSTEM,
        name=release.id,
        version=release.version_id or None,
        description=release.pretty_name or None,
        bom_ref=OS_REF,
    )


def _package_component(package: Package, ref: str) -> Component:
    properties = [
        Property(name="slimline:cataloger", value=package.cataloger),
        Property(name="slimline:location", value=image_path(package.location)),
        Property(name="slimline:size-bytes", value=str(package.size_bytes)),
        Property(name="slimline:file-count", value=str(len(package.files))),
    ]
    if package.layer is not None:
        properties.append(Property(name="slimline:layer", value=str(package.layer)))
    if package.installed_by is not None:
        properties.append(Property(name="slimline:installed-by", value=package.installed_by))
    if package.source_name:
        properties.append(Property(name="slimline:source-name", value=package.source_name))
    if package.source_version:
        properties.append(Property(name="slimline:source-version", value=package.source_version))
    return Component(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=package.version or None,
        purl=_purl(package.purl),
        bom_ref=ref,
        licenses=_licenses(package.licenses),
        properties=properties,
    )


def _purl(text: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _licenses(names: tuple[str, ...]) -> list[License]:
    """SPDX ids where the names are ids, one expression where they need one (CycloneDX allows
    an expression only on its own), and the names themselves where they are neither."""
    values = [name.strip() for name in names if name.strip()]
    expressions = [spdx_expression(value) for value in values]
    if not values:
        return []
    valid = [e for e in expressions if e is not None]
    if len(valid) == len(values):
        if not any(is_compound(e) for e in valid):
            return [DisjunctiveLicense(id=e) for e in dict.fromkeys(valid)]
        return [LicenseExpression(conjunction(list(dict.fromkeys(valid))))]
    licenses: list[License] = []
    for value, expression in zip(values, expressions, strict=True):
        if expression is not None and not is_compound(expression):
            licenses.append(DisjunctiveLicense(id=expression))
        else:
            licenses.append(DisjunctiveLicense(name=value))
    return licenses
