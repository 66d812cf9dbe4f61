"""docker-archive: both `docker save` layouts, tag selection, digests and hostile archives."""

from __future__ import annotations

import io
import json
import random
import tarfile
from pathlib import Path

import pytest

from slimline.image.sources import ImageError, open_image

from ..builders import (
    OCILayout,
    docker_archive,
    encode,
    gzipped,
    layer_tar,
    legacy_archive,
    raw_tar,
    sha256,
    write_tar,
)
from . import LAYERS, assert_standard_image, direct_report, document, source_report


def oci_save(path: Path, *, gzip_outer: bool = False) -> Path:
    """The layout docker save writes since Docker 25: OCI blobs plus manifest.json."""
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document(), tags=["app:1.0"]))
    return layout.write_tar(path, docker=True, gzip_outer=gzip_outer)


@pytest.mark.parametrize("gzip_outer", [False, True])
@pytest.mark.parametrize("gzip_layers", [False, True])
def test_legacy_layout(tmp_path: Path, gzip_layers: bool, gzip_outer: bool) -> None:
    archive = legacy_archive(
        [(LAYERS, ["app:1.0"], document())],
        tmp_path / "image.tar",
        gzip_layers=gzip_layers,
        gzip_outer=gzip_outer,
    )
    with open_image(f"docker-archive:{archive}") as image:
        assert_standard_image(image)
        assert all(ref.digest is None for ref in image.layers)
        suffix = ".tar.gzip" if gzip_layers else ".tar"
        assert {ref.media_type for ref in image.layers} == {
            "application/vnd.docker.image.rootfs.diff" + suffix
        }
        stored = [gzipped(x) if gzip_layers else x for x in LAYERS]
        assert [ref.size for ref in image.layers] == [len(x) for x in stored]


@pytest.mark.parametrize("gzip_outer", [False, True])
def test_oci_layout_written_by_newer_engines(tmp_path: Path, gzip_outer: bool) -> None:
    archive = oci_save(tmp_path / "image.tar", gzip_outer=gzip_outer)
    with open_image(f"docker-archive:{archive}") as image:
        assert_standard_image(image)
        assert [ref.digest for ref in image.layers] == [sha256(x) for x in LAYERS]
        assert {ref.media_type for ref in image.layers} == {
            "application/vnd.oci.image.layer.v1.tar"
        }


def test_builder_archive_and_detection(tmp_path: Path) -> None:
    archive = docker_archive(LAYERS, tmp_path / "image.tar")
    with open_image(str(archive)) as image:
        assert image.name == f"docker-archive:{archive}"
        assert source_report(image) == direct_report()
        assert image.layers[0].history is not None
        assert image.layers[0].history.created_by == "RUN step 0"


def test_repeated_layer_stored_as_symlink(tmp_path: Path) -> None:
    # older engines store a layer that appears twice once and link the second copy to it
    layers = [LAYERS[0], LAYERS[0]]
    config = encode(
        document(history=None) | {"rootfs": {"type": "layers", "diff_ids": [sha256(LAYERS[0])] * 2}}
    )
    config_name = sha256(config).removeprefix("sha256:") + ".json"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in [(config_name, config), ("aaa/layer.tar", layers[0])]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("bbb/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../aaa/layer.tar"
        tar.addfile(link)
        manifest = encode(
            [{"Config": config_name, "RepoTags": [], "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]
        )
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    path = tmp_path / "image.tar"
    path.write_bytes(buffer.getvalue())
    with open_image(f"docker-archive:{path}") as image:
        assert [len(list(ref.entries())) for ref in image.layers] == [5, 5]


def several(path: Path) -> Path:
    other = [layer_tar([("file", "other", 5)])]
    return legacy_archive(
        [
            (LAYERS, ["app:1.0", "registry.local:5000/app:latest"], document()),
            (
                other,
                ["tool:2"],
                document(history=None, config={})
                | {"rootfs": {"type": "layers", "diff_ids": [sha256(other[0])]}},
            ),
        ],
        path,
    )


def test_tag_selection(tmp_path: Path) -> None:
    archive = several(tmp_path / "two.tar")
    with open_image(f"docker-archive:{archive}:app:1.0") as image:
        assert len(image.layers) == 3
    with open_image(f"docker-archive:{archive}:registry.local:5000/app") as image:
        assert len(image.layers) == 3
    with open_image(f"docker-archive:{archive}:tool:2") as image:
        assert len(image.layers) == 1
    with tarfile.open(archive) as tar:
        handle = tar.extractfile("manifest.json")
        assert handle is not None
        config_id = json.loads(handle.read())[1]["Config"]
    with open_image(f"docker-archive:{archive}:sha256:{config_id[:12]}") as image:
        assert len(image.layers) == 1


def test_tag_errors(tmp_path: Path) -> None:
    archive = several(tmp_path / "two.tar")
    with pytest.raises(ImageError, match=r"holds 2 images.*app:1\.0.*tool:2"):
        open_image(f"docker-archive:{archive}")
    with pytest.raises(ImageError, match=r"'nope:1' matches no image.*tags: app:1\.0"):
        open_image(f"docker-archive:{archive}:nope:1")


def test_tampered_layer_names_the_digest(tmp_path: Path) -> None:
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document(), tags=["app:1.0"]))
    digest = sha256(LAYERS[1])
    blob = bytearray(layout.blobs[digest])
    blob[600] ^= 0x01  # inside the first file's data: the tar still parses
    layout.blobs[digest] = bytes(blob)
    archive = layout.write_tar(tmp_path / "image.tar", docker=True)
    with open_image(f"docker-archive:{archive}") as image:
        list(image.layers[0].entries())
        with pytest.raises(ImageError, match=digest):
            list(image.layers[1].entries())


@pytest.mark.parametrize(
    ("offset", "error"),
    [(1024 + 10, "digest mismatch"), (512 + 88, "tar header checksum mismatch")],
    ids=["file data", "header"],
)
def test_tampered_legacy_layer(tmp_path: Path, offset: int, error: str) -> None:
    tampered = bytearray(LAYERS[0])
    # a flipped bit in file data is caught by the digest, one in a header already by its checksum
    tampered[offset] ^= 0x01
    document_ = document()
    members = [
        (
            sha256(LAYERS[i]).removeprefix("sha256:") + "/layer.tar",
            bytes(tampered) if i == 0 else LAYERS[i],
        )
        for i in range(3)
    ]
    config = encode(document_)
    config_name = sha256(config).removeprefix("sha256:") + ".json"
    manifest = encode([{"Config": config_name, "RepoTags": [], "Layers": [m[0] for m in members]}])
    archive = write_tar(
        [(config_name, config), *members, ("manifest.json", manifest)], tmp_path / "x.tar"
    )
    with (
        open_image(f"docker-archive:{archive}") as image,
        pytest.raises(ImageError, match=error),
    ):
        list(image.layers[0].entries())


def test_tampered_config(tmp_path: Path) -> None:
    config = encode(document())
    name = sha256(config).removeprefix("sha256:") + ".json"
    manifest = encode([{"Config": name, "Layers": []}])
    archive = write_tar(
        [(name, config.replace(b"amd64", b"arm64")), ("manifest.json", manifest)],
        tmp_path / "x.tar",
    )
    with pytest.raises(
        ImageError, match=r"config .* digest mismatch: expected sha256:" + name[:12]
    ):
        open_image(f"docker-archive:{archive}")


@pytest.mark.parametrize("evil", ["../../etc/passwd", "/etc/passwd", "a/../../b/layer.tar"])
def test_manifest_path_that_escapes(tmp_path: Path, evil: str) -> None:
    config = encode(document())
    name = sha256(config).removeprefix("sha256:") + ".json"
    manifest = encode([{"Config": name, "Layers": [evil, evil, evil]}])
    archive = write_tar([(name, config), ("manifest.json", manifest)], tmp_path / "x.tar")
    with pytest.raises(ImageError, match=r"points outside the image"):
        open_image(f"docker-archive:{archive}")
    manifest = encode([{"Config": evil, "Layers": []}])
    archive = write_tar([("manifest.json", manifest)], tmp_path / "y.tar")
    with pytest.raises(ImageError, match=r"points outside the image"):
        open_image(f"docker-archive:{archive}")


def test_symlink_member_that_escapes(tmp_path: Path) -> None:
    archive = oci_save(tmp_path / "ok.tar")
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read() if m.isreg() else b"") for m in tar.getmembers()]  # type: ignore[union-attr]
    layer_member = "blobs/" + sha256(LAYERS[0]).replace(":", "/")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            if info.name == layer_member:
                info = tarfile.TarInfo(info.name)
                info.type, info.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
                tar.addfile(info)
            else:
                tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "evil.tar"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ImageError, match=r"missing blobs/sha256/"):
        open_image(f"docker-archive:{path}")


def test_truncated_archive(tmp_path: Path) -> None:
    data = oci_save(tmp_path / "ok.tar").read_bytes()
    for cut in (len(data) // 3, len(data) - 3000, 700):
        path = tmp_path / f"cut-{cut}.tar"
        path.write_bytes(data[:cut])
        with (
            pytest.raises(ImageError, match=r"corrupt or truncated|missing|not a readable"),
            open_image(f"docker-archive:{path}") as image,
        ):
            for ref in image.layers:
                list(ref.entries())


def test_truncated_gzip_archive(tmp_path: Path) -> None:
    data = oci_save(tmp_path / "ok.tar.gz", gzip_outer=True).read_bytes()
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"corrupt or truncated"):
        open_image(f"docker-archive:{path}")


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "junk.tar"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ImageError, match=r"not a readable tar archive|corrupt"):
        open_image(f"docker-archive:{path}")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (b"{not json", "manifest.json is not valid JSON"),
        (b"{}", "not a non-empty list"),
        (b"[]", "not a non-empty list"),
        (b'[{"Config": 5}]', "Config is not a path"),
        (b"[" * 100000 + b"]" * 100000, "manifest.json is not valid JSON"),
    ],
)
def test_bad_manifest(tmp_path: Path, manifest: bytes, message: str) -> None:
    archive = write_tar([("manifest.json", manifest)], tmp_path / "x.tar")
    with pytest.raises(ImageError, match=message):
        open_image(f"docker-archive:{archive}")


def test_invalid_config_json(tmp_path: Path) -> None:
    manifest = encode([{"Config": "config.json", "Layers": []}])
    archive = write_tar(
        [("config.json", b'{"os": '), ("manifest.json", manifest)], tmp_path / "x.tar"
    )
    with pytest.raises(ImageError, match=r"config.json is not valid JSON"):
        open_image(f"docker-archive:{archive}")


def test_oversized_config(tmp_path: Path) -> None:
    big = b'{"os": "linux", "pad": "' + b"x" * (16 * 1024**2) + b'"}'
    manifest = encode([{"Config": "config.json", "Layers": []}])
    archive = write_tar([("config.json", big), ("manifest.json", manifest)], tmp_path / "x.tar")
    with pytest.raises(ImageError, match=r"more than 16777216"):
        open_image(f"docker-archive:{archive}")


def test_layer_count_disagrees_with_config(tmp_path: Path) -> None:
    config = encode(document())
    manifest = encode([{"Config": "c.json", "Layers": ["l/layer.tar"]}])
    archive = write_tar(
        [("c.json", config), ("l/layer.tar", LAYERS[0]), ("manifest.json", manifest)],
        tmp_path / "x.tar",
    )
    with pytest.raises(ImageError, match=r"lists 1 layers but the config has 3 diff_ids"):
        open_image(f"docker-archive:{archive}")


def test_missing_layer_member(tmp_path: Path) -> None:
    config = encode(document())
    manifest = encode(
        [{"Config": "c.json", "Layers": ["a/layer.tar", "b/layer.tar", "c/layer.tar"]}]
    )
    archive = write_tar([("c.json", config), ("manifest.json", manifest)], tmp_path / "x.tar")
    with pytest.raises(ImageError, match=r"missing a/layer.tar"):
        open_image(f"docker-archive:{archive}")


def test_hostile_member_names_are_never_used(tmp_path: Path) -> None:
    # names that would escape are skipped when the archive is indexed, so a manifest cannot
    # reach them even under their normalised name
    data = raw_tar([("../manifest.json", b"[]"), ("/manifest.json", b"[]")])
    path = tmp_path / "x.tar"
    path.write_bytes(data)
    with pytest.raises(ImageError, match=r"no manifest.json"):
        open_image(f"docker-archive:{path}")


def test_oci_only_archive_under_docker_archive_prefix(tmp_path: Path) -> None:
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document()))
    archive = layout.write_tar(tmp_path / "image.tar")
    with open_image(f"docker-archive:{archive}") as image:
        assert_standard_image(image)


def test_symlink_loop_in_archive(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, target in [("manifest.json", "loop"), ("loop", "manifest.json")]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    path = tmp_path / "loop.tar"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ImageError, match=r"too many links"):
        open_image(f"docker-archive:{path}")


@pytest.mark.parametrize("gzip_outer", [False, True])
def test_corruption_gives_image_error_only(tmp_path: Path, gzip_outer: bool) -> None:
    """Cut or flipped bytes anywhere: the image reads, or one ImageError; nothing else escapes."""
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document(), tags=["app:1"], gzip_layers=True))
    data = layout.write_tar(tmp_path / "ok.tar", docker=True, gzip_outer=gzip_outer).read_bytes()
    rng = random.Random(4)
    path = tmp_path / "bad.tar"
    for attempt in range(120):
        damaged = bytearray(data)
        if attempt % 3 == 0:
            damaged = damaged[: rng.randrange(len(damaged))]
        else:
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(damaged))
        try:
            with open_image(f"docker-archive:{path}") as image:
                for ref in image.layers:
                    for _ in ref.entries():
                        pass
        except ImageError:
            pass
