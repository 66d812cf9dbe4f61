from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from slimline.findings import Finding, Practice, Severity
from slimline.report import RenderOptions, get_renderer
from slimline.results import CheckReport, FileResult
from tests.report.sample import RULES, clean_report, empty_report, sample_report

render = get_renderer("json").render


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    text = files("slimline").joinpath("data/check-report.schema.json").read_text("utf-8")
    schema = json.loads(text)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("make", [sample_report, empty_report, clean_report])
def test_output_matches_the_schema(validator: jsonschema.Draft7Validator, make: Any) -> None:
    validator.validate(json.loads(render(make(), RenderOptions())))


def test_schema_rejects_what_the_docs_rule_out(validator: jsonschema.Draft7Validator) -> None:
    doc = json.loads(render(sample_report(), RenderOptions()))
    bad_severity = json.loads(json.dumps(doc))
    bad_severity["findings"][0]["severity"] = "fatal"
    unknown_field = json.loads(json.dumps(doc))
    unknown_field["findings"][0]["extra"] = 1
    missing = json.loads(json.dumps(doc))
    del missing["summary"]["by_severity"]["style"]
    for broken in (bad_severity, unknown_field, missing):
        assert not validator.is_valid(broken)


def test_content() -> None:
    doc = json.loads(render(sample_report(), RenderOptions(tool_version="9.9")))
    assert list(doc) == ["version", "tool", "files", "findings", "errors", "summary"]
    assert doc["version"] == 1
    assert doc["tool"] == {"name": "slimline", "version": "9.9"}
    assert [f["path"] for f in doc["files"]] == [
        "app/Dockerfile",
        "worker/Dockerfile",
        "broken/Dockerfile",
    ]
    assert [(f["file"], f["line"]) for f in doc["findings"]] == [
        ("app/Dockerfile", 1),
        ("app/Dockerfile", 2),
        ("app/Dockerfile", 6),
        ("worker/Dockerfile", 1),
        ("worker/Dockerfile", 2),
    ]
    assert doc["errors"] == [doc["files"][2]["error"]]
    summary = doc["summary"]
    assert summary["files"] == 3
    assert summary["findings"] == 5
    assert summary["errors"] == 1
    assert summary["by_severity"] == {"error": 1, "warning": 2, "info": 1, "style": 1}
    assert summary["by_practice"]["package-cache"] == 2
    assert list(summary["by_practice"]) == [p.value for p in Practice]
    assert summary["estimated_bytes"] == 45_200_000


def test_deterministic_and_ascii() -> None:
    finding = Finding(
        rule="SL001",
        practice=Practice.PINNING,
        severity=Severity.WARNING,
        message="image \u201cpython\u201d \u2192 pin it",
        file="caf\u00e9/Dockerfile",
        line=1,
    )
    report = CheckReport(files=[FileResult(path=finding.file, findings=[finding])], rules=RULES)
    first = render(report, RenderOptions())
    assert first == render(report, RenderOptions())
    assert first.isascii()
    assert json.loads(first)["findings"][0]["message"] == finding.message


def test_finding_beyond_the_source() -> None:
    finding = Finding(
        rule="SL001",
        practice=Practice.PINNING,
        severity=Severity.WARNING,
        message="m",
        file="Dockerfile",
        line=99,
    )
    report = CheckReport(
        files=[FileResult(path="Dockerfile", source="FROM a\n", findings=[finding])], rules={}
    )
    assert json.loads(render(report, RenderOptions()))["findings"][0]["end_line"] == 99
