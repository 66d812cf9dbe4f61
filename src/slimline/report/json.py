"""Machine-readable output with a stable schema (version 1).

The shape is described in docs/json-output.md and, as a JSON Schema, in
slimline/data/check-report.schema.json. Keys come out in a fixed order and the text is
ASCII-only, so the same report always renders to the same bytes whatever the locale.
"""

from __future__ import annotations

import json
from typing import Any

from slimline.findings import InputError, Practice, Severity
from slimline.report._common import display_path, ordered, total_estimated_bytes
from slimline.report.options import RenderOptions
from slimline.results import CheckReport

NAME = "json"

SCHEMA_VERSION = 1


def render(report: CheckReport, options: RenderOptions) -> str:
    return json.dumps(to_document(report, options), indent=2, ensure_ascii=True) + "\n"


def to_document(report: CheckReport, options: RenderOptions) -> dict[str, Any]:
    """The report as plain data, before serialisation."""
    base = options.base_dir
    files: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for result, sorted_findings in ordered(report):
        error = _error(result.error, base) if result.error is not None else None
        if error is not None:
            errors.append(error)
        files.append({"path": display_path(result.path, base), "error": error})
        for finding in sorted_findings:
            item = finding.to_dict()
            item["file"] = display_path(finding.file, base)
            findings.append(item)
    all_findings = report.findings
    by_severity = {s.value: 0 for s in Severity}
    by_practice = {p.value: 0 for p in Practice}
    for finding in all_findings:
        by_severity[finding.severity.value] += 1
        by_practice[finding.practice.value] += 1
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "slimline", "version": options.tool_version},
        "files": files,
        "findings": findings,
        "errors": errors,
        "summary": {
            "files": len(report.files),
            "findings": len(all_findings),
            "errors": len(errors),
            "by_severity": by_severity,
            "by_practice": by_practice,
            "estimated_bytes": total_estimated_bytes(all_findings) or 0,
        },
    }


def _error(error: InputError, base_dir: str | None) -> dict[str, Any]:
    item = error.to_dict()
    item["file"] = display_path(error.file, base_dir)
    return item
