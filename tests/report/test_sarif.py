from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from slimline.findings import Finding, InputError, Practice, Severity
from slimline.report import RenderOptions, get_renderer
from slimline.results import CheckReport, FileResult
from tests.report.sample import RULES, clean_report, empty_report, sample_report

SCHEMA = Path(__file__).parents[1] / "fixtures" / "sarif-schema-2.1.0.json"

render = get_renderer("sarif").render


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # The official schema declares draft-04; use the validator it asks for.
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _log(report: CheckReport, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(render(report, RenderOptions(**options)))
    return result


def _finding(**changes: Any) -> Finding:
    values: dict[str, Any] = {
        "rule": "SL001",
        "practice": Practice.PINNING,
        "severity": Severity.WARNING,
        "message": "m",
        "file": "Dockerfile",
        "line": 1,
    }
    values.update(changes)
    return Finding(**values)


def test_vendored_schema_is_the_official_one() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"run", "result", "reportingDescriptor", "notification"} <= set(schema["definitions"])


@pytest.mark.parametrize("make", [sample_report, empty_report, clean_report])
def test_output_matches_the_schema(validator: Any, make: Any) -> None:
    validator.validate(_log(make()))


def test_validates_with_base_dir_and_odd_paths(validator: Any, tmp_path: Path) -> None:
    findings = [
        _finding(file=str(tmp_path / "a dir" / "Dockerfile")),
        _finding(file="/outside/Dockerfile.prod", line=3, column=2, end_line=2),
        _finding(file=str(tmp_path / "Dockerfile"), line=0, column=0),
    ]
    report = CheckReport(files=[FileResult(path=f.file, findings=[f]) for f in findings], rules={})
    log = _log(report, base_dir=str(tmp_path))
    validator.validate(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    locations = [r["locations"][0]["physicalLocation"] for r in run["results"]]
    assert locations[0]["artifactLocation"] == {
        "uri": "a%20dir/Dockerfile",
        "uriBaseId": "%SRCROOT%",
    }
    assert locations[1]["artifactLocation"] == {"uri": "file:///outside/Dockerfile.prod"}
    assert locations[1]["region"] == {"startLine": 3, "startColumn": 2, "endLine": 3}
    assert "region" not in locations[2]


def test_rules_and_results() -> None:
    run = _log(sample_report(), tool_version="1.2.3")["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "slimline"
    assert driver["version"] == "1.2.3"
    assert driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    # Only rules with a result are described, in a stable order.
    assert ids == ["SL001", "SL020", "SL102", "SL103", "SL210"]
    sl102 = driver["rules"][ids.index("SL102")]
    assert sl102["shortDescription"]["text"] == RULES["SL102"].summary
    assert sl102["fullDescription"]["text"] == RULES["SL102"].doc
    assert sl102["help"]["text"] == RULES["SL102"].doc
    assert sl102["defaultConfiguration"] == {"level": "warning"}
    assert sl102["properties"] == {
        "practice": "package-cache",
        "refs": ["DL3009"],
        "tags": ["package-cache"],
    }
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {
        "SL001": "warning",
        "SL020": "note",
        "SL102": "warning",
        "SL103": "note",
        "SL210": "error",
    }
    sl102_result = next(r for r in run["results"] if r["ruleId"] == "SL102")
    assert sl102_result["properties"] == {
        "practice": "package-cache",
        "estimated_bytes": 45_200_000,
        "fixable": True,
    }
    assert sl102_result["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2,
        "startColumn": 5,
        "endLine": 5,
        "endColumn": 14,
    }


def test_input_errors_are_notifications() -> None:
    invocation = _log(sample_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"].startswith("unterminated heredoc")
    clean = _log(clean_report())["runs"][0]["invocations"][0]
    assert clean == {"executionSuccessful": True}


def test_error_without_position(validator: Any) -> None:
    report = CheckReport(
        files=[FileResult(path="gone", error=InputError(file="gone", message="not found"))],
        rules={},
    )
    log = _log(report)
    validator.validate(log)
    (note,) = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "gone", "uriBaseId": "%SRCROOT%"}
    }


def test_rule_missing_from_the_report_still_has_a_descriptor(validator: Any) -> None:
    finding = _finding(rule="SL777", severity=Severity.INFO, refs=("DL9999",))
    report = CheckReport(files=[FileResult(path="Dockerfile", findings=[finding])], rules={})
    log = _log(report)
    validator.validate(log)
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule == {
        "id": "SL777",
        "defaultConfiguration": {"level": "note"},
        "properties": {"practice": "pinning", "refs": ["DL9999"], "tags": ["pinning"]},
    }


def test_finding_beyond_the_source(validator: Any) -> None:
    finding = _finding(line=500, end_line=501)
    report = CheckReport(
        files=[FileResult(path="Dockerfile", source="FROM a\n", findings=[finding])], rules={}
    )
    validator.validate(_log(report))
