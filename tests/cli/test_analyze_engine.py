"""`slimline analyze` and `slimline sbom` end to end, on an image built by the real engine.

Ground truth comes from the image itself: the engine's inspect data, `dpkg-query` and `find`
run inside a container of it, and dive run on the same `docker save` archive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.image.test_dive_oracle import dive_json
from tests.support import engine

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3-flask
COPY app.py /app/app.py
# a blob that a later layer deletes: dive's waste, and bytes really reclaimable
RUN head -c 3000000 /dev/urandom > /app/blob && echo "API_KEY=abc123" > /app/.env
RUN rm /app/blob
WORKDIR /app
CMD ["python3", "/app/app.py"]
"""
APP = "import flask\nprint(flask.__name__)\n"


@dataclass(frozen=True)
class Built:
    tag: str
    archive: Path
    dockerfile: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tag = engine.build("analyze-cli", {"Dockerfile": DOCKERFILE, "app.py": APP})
    folder = tmp_path_factory.mktemp("analyze")
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    return Built(tag, engine.save(tag), dockerfile)


def slimline(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slimline.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"},
        **kwargs,
    )


@pytest.fixture(scope="module")
def report(built: Built) -> dict[str, Any]:
    result = slimline(
        "analyze",
        f"docker-archive:{built.archive}",
        "-f",
        "json",
        "--dockerfile",
        str(built.dockerfile),
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def inside(built: Built, script: str) -> str:
    return engine.run(built.tag, ["sh", "-c", script])


def test_layers_match_the_engine(built: Built, report: dict[str, Any]) -> None:
    inspect = engine.client().api.inspect_image(built.tag)
    diff_ids = inspect["RootFS"]["Layers"]
    assert [layer["diff_id"] for layer in report["layers"]] == diff_ids
    assert report["image"]["id"] == inspect["Id"]
    # the layers this Dockerfile made are named by their lines; the base image's is not
    lines = [layer["dockerfile_line"] for layer in report["layers"]]
    assert lines[0] is None
    assert lines[-4:] == [2, 3, 5, 6]


def test_efficiency_and_waste_equal_dives(
    built: Built, report: dict[str, Any], tmp_path: Path
) -> None:
    dive = dive_json(built.archive, tmp_path / "dive.json")
    image = dive["image"]
    assert isinstance(image, dict)
    assert report["efficiency"]["wasted_bytes"] == image["inefficientBytes"]
    assert report["efficiency"]["score"] == pytest.approx(image["efficiencyScore"], abs=1e-9)
    assert report["image"]["size_bytes"] == image["sizeBytes"]
    # the deleted blob, and the package databases apt rewrote, are copies a later layer hid
    blob = [p for p in report["efficiency"]["inefficient_paths"] if p["path"] == "/app/blob"]
    assert blob and blob[0]["total_bytes"] == 3_000_000
    assert 3_000_000 < report["efficiency"]["reclaimable_bytes"] <= image["inefficientBytes"]


def test_packages_equal_dpkg_query(built: Built, report: dict[str, Any]) -> None:
    listed = inside(built, "dpkg-query -W -f '${binary:Package} ${Version}\\n'")
    expected = {tuple(line.split(" ", 1)) for line in listed.splitlines()}
    found = {
        (
            p["name"] if p["arch"] in ("all", "amd64", "") else f"{p['name']}:{p['arch']}",
            p["version"],
        )
        for p in report["packages"]
        if p["ecosystem"] == "deb"
    }
    assert {name.split(":")[0] for name, _ in found} == {name.split(":")[0] for name, _ in expected}
    assert len(found) == len(expected)
    flask = [p for p in report["packages"] if p["ecosystem"] == "pypi" and p["name"] == "Flask"]
    assert len(flask) == 1
    assert flask[0]["installed_by"].startswith("pkg:deb/debian/python3-flask@")


def test_bloat_bytes_equal_what_the_container_holds(built: Built, report: dict[str, Any]) -> None:
    lists = int(
        inside(
            built,
            "find /var/lib/apt/lists -type f -printf '%s\\n' | awk '{s+=$1} END {print s+0}'",
        )
    )
    assert lists > 10_000_000
    by_title = {f["rule"]: f for f in report["findings"]}
    apt_lists = [f for f in report["findings"] if "/var/lib/apt/lists" in " ".join(f["paths"])]
    assert len(apt_lists) == 1
    assert apt_lists[0]["bytes"] == lists
    assert apt_lists[0]["practice"] == "package-cache"
    # the .env file with a value is a secret finding, whatever its size
    assert any(f["practice"] == "security" and "/app/.env" in f["paths"] for f in by_title.values())


def test_the_engine_source_reads_the_same_image(built: Built, report: dict[str, Any]) -> None:
    result = slimline("analyze", built.tag, "-f", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["image"]["id"] == report["image"]["id"]
    assert data["efficiency"] == report["efficiency"]
    assert len(data["packages"]) == len(report["packages"])
    assert [f["rule"] for f in data["findings"]] == [f["rule"] for f in report["findings"]]


def test_fail_on_gates(built: Built) -> None:
    source = f"docker-archive:{built.archive}"
    failed = slimline("analyze", source, "-f", "json", "--fail-on", "wasted>1MB")
    assert failed.returncode == 1
    assert "slimline: fail-on: wasted is " in failed.stderr and "(wasted>1MB)" in failed.stderr
    passed = slimline("analyze", source, "-f", "json", "--fail-on", "efficiency<0.5,size>5GB")
    assert passed.returncode == 0, passed.stderr
    secrets = slimline("analyze", source, "-f", "json", "--fail-on", "error")
    assert secrets.returncode == 1


def test_text_report(built: Built) -> None:
    result = slimline(
        "analyze",
        f"docker-archive:{built.archive}",
        "--dockerfile",
        str(built.dockerfile),
        "--width",
        "100",
    )
    assert result.returncode == 0, result.stderr
    assert "Dockerfile:2 RUN apt-get update" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour into a pipe


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_sbom_lists_every_dpkg_package(built: Built, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"sbom.{fmt}.json"
    result = slimline("sbom", f"docker-archive:{built.archive}", "-f", fmt, "-o", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    count = len(inside(built, "dpkg-query -W -f '${Package}\\n'").split())
    if fmt == "cyclonedx":
        purls = [c.get("purl", "") for c in document["components"]]
    else:
        purls = [
            ref["referenceLocator"]
            for package in document["packages"]
            for ref in package.get("externalRefs", ())
            if ref["referenceType"] == "purl"
        ]
    assert sum(purl.startswith("pkg:deb/") for purl in purls) == count
    assert sum(purl.startswith("pkg:pypi/flask@") for purl in purls) == 1


def test_missing_engine_image_is_one_line() -> None:
    result = slimline("analyze", "slimline-test/does-not-exist:1")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "slimline: error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_damaged_archives_are_one_line(built: Built, tmp_path: Path) -> None:
    data = built.archive.read_bytes()
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = bytearray(data)
    # a bit flipped deep inside the first layer's file data
    flipped[len(data) // 3] ^= 0x40
    corrupt = tmp_path / "corrupt.tar"
    corrupt.write_bytes(bytes(flipped))
    for path in (truncated, corrupt):
        result = slimline("analyze", f"docker-archive:{path}")
        assert result.returncode == 2, (path, result.stdout[-500:])
        assert result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
