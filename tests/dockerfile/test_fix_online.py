"""Pinning fixes against a real registry (Debian's docker-registry on 127.0.0.1) and the local
engine: the concrete tag that `latest` points at, and digests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from slimline.config import Config
from slimline.dockerfile.fix import fix_text
from slimline.dockerfile.fixes import FixOptions

registry_support = pytest.importorskip("tests.support.registry")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPOSITORY = "team/app"


def _image(registry: object, marker: str) -> tuple[bytes, str]:
    """A minimal OCI image (config only, no layers); returns (manifest, digest)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "marker": marker}).encode()
    descriptor = registry_support.upload_blob(registry, REPOSITORY, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **descriptor},
            "layers": [],
        }
    ).encode()
    return manifest, registry_support.sha256(manifest)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    server = registry_support.start_registry(tmp_path_factory.mktemp("registry"))
    try:
        current, _ = _image(server, "current")
        newer, _ = _image(server, "a release candidate")
        for tag in ("latest", "1", "1.2", "1.2.3"):
            registry_support.put_manifest(server, REPOSITORY, tag, current, OCI_MANIFEST)
        for tag in ("2.0", "1.1"):
            registry_support.put_manifest(server, REPOSITORY, tag, newer, OCI_MANIFEST)
        yield server
    finally:
        server.stop()


@pytest.mark.registry
def test_online_tag_is_the_version_latest_points_at(registry: object) -> None:
    address = registry.address  # type: ignore[attr-defined]
    text = f"FROM {address}/{REPOSITORY}\nFROM {address}/{REPOSITORY}:latest AS two\n"
    config = Config(select=("SL201", "SL202"))
    report = fix_text(text, "Dockerfile", config, FixOptions(online=True))
    assert report.text == (
        f"FROM {address}/{REPOSITORY}:1.2.3\nFROM {address}/{REPOSITORY}:1.2.3 AS two\n"
    )
    assert "the registry" in report.applied[0].description
    offline = fix_text(text, "Dockerfile", config, FixOptions())
    assert offline.text == text
    assert "--online" in offline.skipped[0].reason


@pytest.mark.registry
def test_online_digest_pinning(registry: object) -> None:
    address = registry.address  # type: ignore[attr-defined]
    _manifest, digest = _image(registry, "current")
    text = f"FROM {address}/{REPOSITORY}:1.2\n"
    config = Config(select=("SL203",))
    report = fix_text(text, "Dockerfile", config, FixOptions(online=True, pin_digests=True))
    assert report.text == f"FROM {address}/{REPOSITORY}:1.2@{digest}\n"
    missing = f"FROM {address}/{REPOSITORY}:9.9\n"
    report = fix_text(missing, "Dockerfile", config, FixOptions(online=True, pin_digests=True))
    assert report.text == missing
    assert "does not know this tag" in report.skipped[0].reason


@pytest.mark.registry
def test_cli_online(registry: object, tmp_path: Path) -> None:
    address = registry.address  # type: ignore[attr-defined]
    target = tmp_path / "Dockerfile"
    target.write_text(f"FROM {address}/{REPOSITORY}\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slimline.cli",
            "fix",
            "--no-config",
            "--online",
            "--write",
            "--select",
            "SL201",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert target.read_text() == f"FROM {address}/{REPOSITORY}:1.2.3\n"


@pytest.mark.engine
@pytest.mark.registry
def test_digest_from_the_local_engine(registry: object) -> None:
    from tests.support import engine

    client = engine.client()
    address = registry.address  # type: ignore[attr-defined]
    pushed = registry_support.push_image(
        client, engine.SLIM_BASE_IMAGE, registry, "pinned/base", "12"
    )
    reference = f"{address}/pinned/base:12"
    client.images.pull(f"{address}/pinned/base", tag="12")
    try:
        text = f"FROM {reference}\n"
        options = FixOptions(pin_digests=True)  # the engine only: no registry call
        report = fix_text(text, "Dockerfile", Config(select=("SL203",)), options)
        assert report.text == f"FROM {reference}@{pushed}\n"
        assert "the local engine" in report.applied[0].description
    finally:
        client.images.remove(reference)
