"""The analysis as a stable JSON document (schema_version 1).

The shape is described in docs/analyze-json.md and, as a JSON Schema (draft 2020-12), in
slimline/data/analysis-report.schema.json. Keys come out in a fixed order, lists in a documented
one, and the text is ASCII-only, so the same analysis always renders to the same bytes.

Nothing secret is copied from the image's metadata: environment variables are listed by name
only, the config's history (whose ENV entries hold values) is left out, and the values of the
build arguments that a RUN recorded are replaced by "***".
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from slimline.findings import Practice, Severity
from slimline.image.model import ImageAnalysis, ImageFinding, LayerSummary, SizedPath
from slimline.image.sources.base import ImageConfig
from slimline.packages.base import OSRelease, Package
from slimline.report.analysis._shared import (
    image_path,
    instruction_of,
    ordered_findings,
    ordered_packages,
    platform_of,
    redact_build_args,
)
from slimline.report.options import RenderOptions

NAME = "json"

SCHEMA_VERSION = 1


def render(analysis: ImageAnalysis, options: RenderOptions) -> str:
    return json.dumps(to_document(analysis, options), indent=2, ensure_ascii=True) + "\n"


def to_document(analysis: ImageAnalysis, options: RenderOptions) -> dict[str, Any]:
    """The analysis as plain data, before serialisation."""
    waste = analysis.waste
    findings = ordered_findings(analysis.findings)
    packages = ordered_packages(analysis.packages)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "slimline", "version": options.tool_version},
        "image": {
            "name": analysis.name,
            "id": analysis.image_id,
            "repo_digests": list(analysis.repo_digests),
            "platform": platform_of(analysis),
            "os": _os(analysis.os),
            "config": _config(analysis.config),
            "size_bytes": analysis.size_bytes,
            "final_bytes": analysis.final_bytes,
            "file_count": analysis.file_count,
            "layer_count": len(analysis.layers),
            "dockerfile": analysis.dockerfile,
            "extra": dict(sorted(analysis.extra.items())),
        },
        "efficiency": {
            "score": waste.score,
            "wasted_bytes": waste.wasted_bytes,
            "user_wasted_percent": waste.user_wasted_percent,
            "reclaimable_bytes": waste.reclaimable_bytes,
            "user_size_bytes": waste.user_size_bytes,
            "inefficient_paths": [
                {"path": item.path, "count": item.count, "total_bytes": item.total_bytes}
                for item in waste.inefficient
            ],
        },
        "layers": [_layer(layer) for layer in analysis.layers],
        "findings": [_finding(finding) for finding in findings],
        "packages": [_package(package) for package in packages],
        "largest_files": [_file(item) for item in analysis.largest_files],
        "largest_dirs": [_dir(item) for item in analysis.largest_dirs],
        "summary": _summary(findings, packages),
    }


def _os(release: OSRelease | None) -> dict[str, Any] | None:
    if release is None:
        return None
    return {
        "id": release.id,
        "version_id": release.version_id,
        "version_codename": release.version_codename,
        "pretty_name": release.pretty_name,
        "id_like": list(release.id_like),
    }


def _config(config: ImageConfig) -> dict[str, Any]:
    return {
        "user": config.user,
        "workdir": config.workdir,
        "entrypoint": None if config.entrypoint is None else list(config.entrypoint),
        "cmd": None if config.cmd is None else list(config.cmd),
        # names only: values are where credentials get passed in
        "env_names": [entry.split("=", 1)[0] for entry in config.env],
        "exposed_ports": list(config.exposed_ports),
        "labels": dict(sorted(config.labels.items())),
        "created": config.created,
    }


def _layer(layer: LayerSummary) -> dict[str, Any]:
    created_by = redact_build_args(layer.created_by)
    return {
        "index": layer.index,
        "digest": layer.digest,
        "diff_id": layer.diff_id,
        "media_type": layer.media_type,
        "size": layer.size,
        "content_bytes": layer.content_bytes,
        "entry_count": layer.entry_count,
        "created_by": created_by,
        "instruction": instruction_of(created_by),
        "created": layer.created,
        "comment": layer.comment,
        "dockerfile_line": layer.dockerfile_line,
        "dockerfile_instruction": layer.dockerfile_instruction,
        "added_files": layer.added_files,
        "added_bytes": layer.added_bytes,
        "changed_files": layer.changed_files,
        "changed_bytes": layer.changed_bytes,
        "removed_files": layer.removed_files,
        "removed_bytes": layer.removed_bytes,
    }


def _finding(finding: ImageFinding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "practice": finding.practice.value,
        "severity": finding.severity.value,
        "title": finding.title,
        "message": finding.message,
        "bytes": finding.bytes,
        "paths": [image_path(path) for path in finding.paths],
        "path_count": max(finding.path_count, len(finding.paths)),
        "layers": list(finding.layers),
    }


def _package(package: Package) -> dict[str, Any]:
    return {
        "name": package.name,
        "version": package.version,
        "ecosystem": package.ecosystem,
        "purl": package.purl,
        "arch": package.arch,
        "source_name": package.source_name,
        "source_version": package.source_version,
        "licenses": list(package.licenses),
        "depends": list(package.depends),
        "location": image_path(package.location),
        "cataloger": package.cataloger,
        "file_count": len(package.files),
        "size_bytes": package.size_bytes,
        "installed_by": package.installed_by,
        "layer": package.layer,
    }


def _file(item: SizedPath) -> dict[str, Any]:
    return {"path": image_path(item.path), "bytes": item.bytes, "layer": item.layer}


def _dir(item: SizedPath) -> dict[str, Any]:
    return {"path": image_path(item.path), "bytes": item.bytes, "files": item.files}


def _summary(findings: list[ImageFinding], packages: list[Package]) -> dict[str, Any]:
    by_severity = Counter(f.severity for f in findings)
    by_practice = Counter(f.practice for f in findings)
    return {
        "findings": len(findings),
        "by_severity": {s.value: by_severity[s] for s in Severity},
        "by_practice": {p.value: by_practice[p] for p in Practice},
        "packages": len(packages),
        "by_ecosystem": dict(sorted(Counter(p.ecosystem for p in packages).items())),
    }
