"""SARIF 2.1.0 output, for code-scanning services (GitHub, GitLab, Azure DevOps).

One run. The driver lists the rules that produced at least one result, sorted by id, and
each result points at its rule by id and index. Input errors are tool execution
notifications, which makes the invocation unsuccessful. Columns count Unicode code points,
as Python strings do, and the run says so in ``columnKind``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from slimline.findings import Finding, InputError, RuleInfo, Severity
from slimline.report._common import ordered, relative_path
from slimline.report.options import RenderOptions
from slimline.results import CheckReport

NAME = "sarif"

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/slimline/slimline"
SRCROOT = "%SRCROOT%"

LEVELS = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.STYLE: "note",
}


def render(report: CheckReport, options: RenderOptions) -> str:
    return json.dumps(to_log(report, options), indent=2, ensure_ascii=True) + "\n"


def to_log(report: CheckReport, options: RenderOptions) -> dict[str, Any]:
    """The SARIF log as plain data, before serialisation."""
    files = ordered(report)
    findings = [f for _, fs in files for f in fs]
    rule_ids = sorted({f.rule for f in findings})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    first_of_rule: dict[str, Finding] = {}
    for finding in findings:
        first_of_rule.setdefault(finding.rule, finding)
    rules = [_rule(report.rules.get(r), first_of_rule[r]) for r in rule_ids]

    driver: dict[str, Any] = {
        "name": "slimline",
        "version": options.tool_version,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    notifications = [_notification(e, options) for e in report.errors]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    run: dict[str, Any] = {"tool": {"driver": driver}, "invocations": [invocation]}
    if options.base_dir is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": _directory_uri(options.base_dir)}}
    run["results"] = [_result(f, index[f.rule], options) for f in findings]
    run["columnKind"] = "unicodeCodePoints"
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rule(info: RuleInfo | None, example: Finding) -> dict[str, Any]:
    if info is None:
        # A finding whose rule the report does not describe still needs a descriptor so
        # that ruleIndex stays valid; describe it from the finding itself.
        return {
            "id": example.rule,
            "defaultConfiguration": {"level": LEVELS[example.severity]},
            "properties": {
                "practice": example.practice.value,
                "refs": list(example.refs),
                "tags": [example.practice.value],
            },
        }
    doc = info.doc.strip() or info.summary
    descriptor: dict[str, Any] = {"id": info.id}
    if info.name:
        descriptor["name"] = info.name
    if info.summary:
        descriptor["shortDescription"] = {"text": info.summary}
    if doc:
        descriptor["fullDescription"] = {"text": doc}
        descriptor["help"] = {"text": doc}
    descriptor["defaultConfiguration"] = {"level": LEVELS[info.severity]}
    descriptor["properties"] = {
        "practice": info.practice.value,
        "refs": list(info.refs),
        "tags": [info.practice.value],
    }
    return descriptor


def _result(finding: Finding, rule_index: int, options: RenderOptions) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(finding.file, options)}
    region = _region(finding.line, finding.column, finding.end_line, finding.end_column)
    if region is not None:
        physical["region"] = region
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": physical}],
        "properties": {
            "practice": finding.practice.value,
            "estimated_bytes": finding.estimated_bytes,
            "fixable": finding.fixable,
        },
    }


def _notification(error: InputError, options: RenderOptions) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(error.file, options)}
    if error.line is not None:
        region = _region(error.line, error.column, None, None)
        if region is not None:
            physical["region"] = region
    return {
        "level": "error",
        "message": {"text": error.message},
        "locations": [{"physicalLocation": physical}],
    }


def _region(
    line: int, column: int | None, end_line: int | None, end_column: int | None
) -> dict[str, Any] | None:
    if line < 1:
        return None
    region: dict[str, Any] = {"startLine": line}
    if column is not None and column >= 1:
        region["startColumn"] = column
    last = max(line, end_line if end_line is not None else line)
    region["endLine"] = last
    # An end before the start on the same line is a broken span: keep just the start.
    start_column = region.get("startColumn", 1)
    if end_column is not None and end_column >= 1 and (last > line or end_column >= start_column):
        region["endColumn"] = end_column
    return region


def _artifact(path: str, options: RenderOptions) -> dict[str, Any]:
    shown, is_relative = relative_path(path, options.base_dir)
    if is_relative:
        return {"uri": quote(shown), "uriBaseId": SRCROOT}
    return {"uri": PurePath(path).as_uri()}


def _directory_uri(base_dir: str) -> str:
    # abspath, not resolve: result paths are made relative the same way, without symlinks.
    uri = Path(os.path.abspath(base_dir)).as_uri()
    return uri if uri.endswith("/") else uri + "/"
