from __future__ import annotations

import copy
import json
from dataclasses import replace
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from slimline.findings import Practice, Severity
from slimline.image.model import ImageFinding
from slimline.report import RenderOptions
from slimline.report.analysis import get_renderer
from tests.report.analysis_sample import ANALYSES, SECRETS, sample_analysis

render = get_renderer("json").render


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    text = files("slimline").joinpath("data/analysis-report.schema.json").read_text("utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _doc(name: str = "sample", **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(render(ANALYSES[name](), RenderOptions(**options)))
    return result


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_output_matches_the_schema(validator: jsonschema.Draft202012Validator, name: str) -> None:
    validator.validate(_doc(name))


def test_schema_rejects_what_the_docs_rule_out(
    validator: jsonschema.Draft202012Validator,
) -> None:
    doc = _doc()
    breakages = [
        ("findings", 0, "severity", "fatal"),
        ("findings", 0, "extra", 1),
        ("layers", 0, "digest", "md5:abc"),
        ("packages", 0, "purl", "deb/x"),
        ("largest_files", 0, "path", "relative/path"),
        ("findings", 0, "paths", ["relative"]),
    ]
    for section, index, key, value in breakages:
        broken = copy.deepcopy(doc)
        broken[section][index][key] = value
        assert not validator.is_valid(broken), (section, key)
    unknown = copy.deepcopy(doc)
    unknown["image"]["config"]["env"] = ["A=b"]
    assert not validator.is_valid(unknown)
    missing = copy.deepcopy(doc)
    del missing["summary"]["by_practice"]["security"]
    assert not validator.is_valid(missing)


def test_top_level_and_image() -> None:
    doc = _doc(tool_version="9.9")
    assert list(doc) == [
        "schema_version",
        "tool",
        "image",
        "efficiency",
        "layers",
        "findings",
        "packages",
        "largest_files",
        "largest_dirs",
        "summary",
    ]
    assert doc["schema_version"] == 1
    assert doc["tool"] == {"name": "slimline", "version": "9.9"}
    image = doc["image"]
    assert image["name"] == "registry.example.com/shop/web:1.4.2"
    assert image["platform"] == "linux/amd64"
    assert image["os"]["version_codename"] == "bookworm"
    assert image["layer_count"] == 6
    assert image["size_bytes"] == sum(layer["content_bytes"] for layer in doc["layers"])
    assert image["config"]["env_names"] == ["PATH", "DATABASE_URL", "PYTHONUNBUFFERED"]
    assert image["config"]["entrypoint"] == ["/usr/bin/python3", "-m", "shop"]
    assert list(image["config"]["labels"]) == sorted(image["config"]["labels"])


def test_no_secret_reaches_the_document() -> None:
    for name in ANALYSES:
        text = render(ANALYSES[name](), RenderOptions())
        for secret in SECRETS:
            assert secret not in text, name
    layer = _doc()["layers"][2]
    assert layer["created_by"].startswith("RUN |1 PIP_INDEX_TOKEN=*** /bin/sh -c pip install")
    assert layer["instruction"] == "RUN pip install -r requirements.txt"


def test_efficiency_is_dives_and_slimlines() -> None:
    efficiency = _doc()["efficiency"]
    waste = sample_analysis().waste
    assert efficiency["score"] == waste.score
    assert efficiency["wasted_bytes"] == waste.wasted_bytes
    assert efficiency["user_wasted_percent"] == waste.user_wasted_percent
    assert efficiency["reclaimable_bytes"] == waste.reclaimable_bytes
    assert efficiency["inefficient_paths"][0] == {
        "path": "/var/lib/apt/lists",
        "count": 2,
        "total_bytes": 19_800_000,
    }


def test_layers() -> None:
    layers = _doc()["layers"]
    assert [layer["index"] for layer in layers] == list(range(6))
    assert layers[1]["dockerfile_line"] == 3
    assert layers[0]["dockerfile_line"] is None
    assert layers[4]["removed_files"] == 45
    assert layers[5]["created_by"] == layers[5]["instruction"] == ""
    bare = _doc("bare")["layers"][0]
    assert bare["digest"] is None and bare["diff_id"] is None


def test_findings_sorted_with_absolute_paths() -> None:
    findings = _doc()["findings"]
    assert [f["rule"] for f in findings] == ["SLI010", "SLI501", "SLI601", "SLI302", "SLI903"]
    assert findings[0]["bytes"] == 0
    assert findings[0]["paths"] == ["/app/certs/server.key"]
    assert findings[3]["path_count"] == 212


def test_path_count_is_never_below_the_paths_listed() -> None:
    finding = ImageFinding(
        rule="X1",
        practice=Practice.SECURITY,
        severity=Severity.INFO,
        title="t",
        message="m",
        paths=("a", "b"),
    )
    analysis = replace(sample_analysis(), findings=(finding,))
    doc = json.loads(render(analysis, RenderOptions()))
    assert doc["findings"][0]["path_count"] == 2


def test_packages() -> None:
    packages = _doc()["packages"]
    keys = [(p["ecosystem"], p["name"]) for p in packages]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1]))
    flask = next(p for p in packages if p["name"] == "Flask")
    assert flask["installed_by"] == "pkg:deb/debian/python3-flask@2.2.2-3?arch=all&distro=debian-12"
    assert flask["file_count"] == 2
    assert flask["location"] == "/usr/lib/python3/dist-packages/Flask-2.2.2.egg-info/PKG-INFO"
    assert "files" not in flask


def test_summary() -> None:
    summary = _doc()["summary"]
    assert summary["findings"] == 5
    assert summary["by_severity"] == {"error": 1, "warning": 3, "info": 1, "style": 0}
    assert list(summary["by_practice"]) == [p.value for p in Practice]
    assert summary["by_ecosystem"] == {"deb": 6, "gem": 1, "golang": 1, "npm": 3, "pypi": 5}


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("/", ""), ("linux/", ""), ("", ""), ("linux/arm64/v8", "linux/arm64/v8")],
)
def test_platform_unknown_is_empty(platform: str, expected: str) -> None:
    analysis = replace(sample_analysis(), platform=platform)
    assert json.loads(render(analysis, RenderOptions()))["image"]["platform"] == expected


def test_empty_image() -> None:
    doc = _doc("empty")
    assert doc["layers"] == doc["findings"] == doc["packages"] == []
    assert doc["image"]["os"] is None
    assert doc["efficiency"]["score"] == 1.0
    assert doc["image"]["config"]["entrypoint"] is None


def test_deterministic_and_ascii() -> None:
    analysis = replace(sample_analysis(), name="caf\u00e9/\u2192:1")
    first = render(analysis, RenderOptions())
    assert first == render(analysis, RenderOptions())
    assert first.isascii()
    assert json.loads(first)["image"]["name"] == "caf\u00e9/\u2192:1"
