"""Images shared by the source tests: layers with overwrites and deletions, and their history."""

from __future__ import annotations

import io

from slimline.image.filetree import LayerTree
from slimline.image.layers import read_layer
from slimline.image.sources import ImageSource
from slimline.image.waste import WasteReport, analyze_waste

from ..builders import config_document, layer_tar

LAYERS = [
    layer_tar(
        [
            ("dir", "etc", None),
            ("file", "etc/conf", 100),
            ("dir", "var/lib/apt/lists", None),
            ("file", "var/lib/apt/lists/main", 7000),
            ("symlink", "bin/sh", "busybox"),
        ]
    ),
    layer_tar([("file", "etc/conf", 300), ("file", "app/bundle.js", 1200)]),
    layer_tar([("whiteout", "var/lib/apt/lists", None), ("file", "app/bundle.js", 900)]),
]

HISTORY: list[dict[str, object]] = [
    {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
    {"created_by": "RUN apt-get update && apt-get install -y tool"},
    {"created_by": "ENV A=1", "empty_layer": True},
    {"created_by": "RUN rm -rf /var/lib/apt/lists && build"},
    {"created_by": "USER app", "empty_layer": True},
]

CONFIG = {
    "Env": ["PATH=/usr/bin", "A=1"],
    "Entrypoint": ["/app/run"],
    "Cmd": ["--serve"],
    "WorkingDir": "/app",
    "User": "app",
    "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
    "Labels": {"org.opencontainers.image.title": "demo"},
}


def document(**overrides: object) -> dict[str, object]:
    options: dict[str, object] = {"history": HISTORY, "config": CONFIG}
    options.update(overrides)
    return config_document(LAYERS, **options)  # type: ignore[arg-type]


def direct_report(layers: list[bytes] = LAYERS) -> WasteReport:
    trees = [
        LayerTree.from_entries(i, read_layer(io.BytesIO(data))) for i, data in enumerate(layers)
    ]
    return analyze_waste(trees)


def source_report(image: ImageSource) -> WasteReport:
    return analyze_waste([LayerTree.from_entries(ref.index, ref.entries()) for ref in image.layers])


def assert_standard_image(image: ImageSource) -> None:
    """The config, layer order and history of the image built from `document()`."""
    config = image.config
    assert (config.os, config.architecture) == ("linux", "amd64")
    assert config.env == ("PATH=/usr/bin", "A=1")
    assert config.entrypoint == ("/app/run",)
    assert config.cmd == ("--serve",)
    assert config.workdir == "/app"
    assert config.user == "app"
    assert config.exposed_ports == ("53/udp", "8080/tcp")
    assert dict(config.labels) == {"org.opencontainers.image.title": "demo"}
    assert len(config.history) == 6
    assert [h.empty_layer for h in config.history] == [False, True, False, True, False, True]
    assert [ref.index for ref in image.layers] == [0, 1, 2]
    assert [ref.diff_id for ref in image.layers] == list(config.diff_ids)
    created = [ref.history.created_by if ref.history else None for ref in image.layers]
    assert created == [
        "/bin/sh -c #(nop) ADD file:abc in / ",
        "RUN apt-get update && apt-get install -y tool",
        "RUN rm -rf /var/lib/apt/lists && build",
    ]
    assert source_report(image) == direct_report()
