"""dive, on an OCI-layout `docker save` archive, agrees with what slimline reads through a source."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimline.image.sources import open_image

from ..builders import OCILayout, config_document, layer_tar
from ..test_dive_oracle import HANDMADE, dive_json
from . import LAYERS, document, source_report

pytestmark = pytest.mark.oracle

IMAGES = {"standard": (LAYERS, document())}
for _name in ("deletions", "directory-whiteouts", "empty-layer"):
    _tars = [layer_tar(ops) for ops in HANDMADE[_name]]
    IMAGES[_name] = (_tars, config_document(_tars))


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_same_numbers_as_dive(name: str, tmp_path: Path) -> None:
    tars, config = IMAGES[name]
    layout = OCILayout()
    layout.index.append(layout.image(tars, config, tags=[f"{name}:1"]))
    archive = layout.write_tar(tmp_path / "image.tar", docker=True)
    dive = dive_json(archive, tmp_path / "dive.json")
    with open_image(f"docker-archive:{archive}") as image:
        ours = source_report(image)
        diff_ids = [ref.diff_id for ref in image.layers]
        commands = [ref.history.created_by if ref.history else "" for ref in image.layers]
    summary = dive["image"]
    assert isinstance(summary, dict)
    assert abs(ours.score - summary["efficiencyScore"]) <= 1e-9
    assert ours.wasted_bytes == summary["inefficientBytes"]
    assert ours.size_bytes == summary["sizeBytes"]
    layers = dive["layer"]
    assert isinstance(layers, list)
    assert diff_ids == [layer["digestId"] for layer in layers]
    # dive shows the command without the shell prefix docker records
    assert [c.removeprefix("/bin/sh -c ") for c in commands] == [
        layer["command"] for layer in layers
    ]
