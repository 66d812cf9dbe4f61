"""oci: and oci-archive: layouts: image indexes, platforms, media types and verification."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from slimline.image.sources import ImageError, open_image

from ..builders import OCILayout, config_document, gzipped, layer_tar, sha256
from . import LAYERS, assert_standard_image, direct_report, document, source_report

ARM_LAYERS = [layer_tar([("file", "arm-only", 42)])]


def two_platforms(*, amd64: bool = True) -> OCILayout:
    """An image index with linux/amd64 (the standard image) and linux/arm64/v8."""
    layout = OCILayout()
    manifests = []
    if amd64:
        manifests.append(
            layout.image(
                LAYERS,
                document(),
                gzip_layers=True,
                platform={"os": "linux", "architecture": "amd64"},
            )
        )
    arm = config_document(ARM_LAYERS, architecture="arm64", variant="v8")
    manifests.append(
        layout.image(
            ARM_LAYERS, arm, platform={"os": "linux", "architecture": "arm64", "variant": "v8"}
        )
    )
    # buildkit's attestations sit next to the images and are not images themselves
    attestation = layout.image(
        [], config_document([]), platform={"os": "unknown", "architecture": "unknown"}
    )
    attestation["annotations"] = {"vnd.docker.reference.type": "attestation-manifest"}
    manifests.append(attestation)
    index = layout.image_index(manifests)
    index["annotations"] = {"org.opencontainers.image.ref.name": "1.0"}
    layout.index.append(index)
    return layout


def test_layout_dir_defaults_to_linux_amd64(tmp_path: Path) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    with open_image(f"oci:{root}") as image:
        assert image.name == f"oci:{root}"
        assert_standard_image(image)
        assert [ref.digest for ref in image.layers] == [sha256(gzipped(x)) for x in LAYERS]
        assert {ref.media_type for ref in image.layers} == {
            "application/vnd.oci.image.layer.v1.tar+gzip"
        }
        assert [ref.size for ref in image.layers] == [len(gzipped(x)) for x in LAYERS]


@pytest.mark.parametrize("platform", ["linux/arm64", "linux/arm64/v8"])
def test_platform_selection(tmp_path: Path, platform: str) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    with open_image(f"oci:{root}", platform=platform) as image:
        assert image.config.platform == "linux/arm64/v8"
        assert len(image.layers) == 1
        assert [e.path for ref in image.layers for e in ref.entries()] == ["arm-only"]


def test_unknown_platform_lists_available(tmp_path: Path) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    with pytest.raises(
        ImageError,
        match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm64/v8\)",
    ):
        open_image(f"oci:{root}", platform="linux/s390x")


def test_only_image_is_the_default(tmp_path: Path) -> None:
    root = two_platforms(amd64=False).write_dir(tmp_path / "layout")
    with open_image(str(root)) as image:
        assert image.config.architecture == "arm64"


def test_no_default_among_several(tmp_path: Path) -> None:
    layout = OCILayout()
    layout.index += [
        layout.image(
            ARM_LAYERS, config_document(ARM_LAYERS), platform={"os": "linux", "architecture": arch}
        )
        for arch in ("arm64", "ppc64le")
    ]
    root = layout.write_dir(tmp_path / "layout")
    with pytest.raises(
        ImageError, match=r"none is linux/amd64.*available: linux/arm64, linux/ppc64le"
    ):
        open_image(f"oci:{root}")


def test_reference_annotation(tmp_path: Path) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    with open_image(f"oci:{root}:1.0") as image:
        assert len(image.layers) == 3
    with pytest.raises(ImageError, match=r"no image named '2.0' \(names: 1.0\)"):
        open_image(f"oci:{root}:2.0")


@pytest.mark.parametrize("gzip_outer", [False, True])
def test_oci_archive(tmp_path: Path, gzip_outer: bool) -> None:
    archive = two_platforms().write_tar(tmp_path / "image.tar", gzip_outer=gzip_outer)
    with open_image(f"oci-archive:{archive}") as image:
        assert image.name == f"oci-archive:{archive}"
        assert_standard_image(image)
    with open_image(str(archive), platform="linux/arm64") as image:
        assert image.name == f"oci-archive:{archive}"
        assert image.config.architecture == "arm64"


def test_prefix_must_fit_the_path(tmp_path: Path) -> None:
    layout = two_platforms()
    root = layout.write_dir(tmp_path / "layout")
    archive = layout.write_tar(tmp_path / "image.tar")
    with pytest.raises(ImageError, match=r"not a directory"):
        open_image(f"oci:{archive}")
    with pytest.raises(ImageError, match=r"is a directory"):
        open_image(f"oci-archive:{root}")


@pytest.mark.parametrize(
    "media_type",
    [
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ],
)
def test_layer_media_types(tmp_path: Path, media_type: str) -> None:
    # compression comes from the bytes, so a gzip body read under any of these names works
    layout = OCILayout()
    layout.index.append(
        layout.image(LAYERS, document(), gzip_layers=True, layer_media_type=media_type)
    )
    with open_image(f"oci:{layout.write_dir(tmp_path / 'l')}") as image:
        assert {ref.media_type for ref in image.layers} == {media_type}
        assert source_report(image) == direct_report()


def test_docker_v2_manifest(tmp_path: Path) -> None:
    layout = OCILayout()
    descriptor = layout.image(
        LAYERS,
        document(),
        gzip_layers=True,
        layer_media_type="application/vnd.docker.image.rootfs.diff.tar.gzip",
    )
    manifest = json.loads(layout.blobs[str(descriptor["digest"])])
    manifest["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
    manifest["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json"
    layout.index.append(layout.blob(json.dumps(manifest).encode(), manifest["mediaType"]))
    with open_image(f"oci:{layout.write_dir(tmp_path / 'l')}") as image:
        assert_standard_image(image)


def test_unknown_layer_media_type(tmp_path: Path) -> None:
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document(), layer_media_type="application/x-mystery"))
    with pytest.raises(ImageError, match=r"unsupported media type 'application/x-mystery'"):
        open_image(f"oci:{layout.write_dir(tmp_path / 'l')}")


def test_unknown_manifest_and_config_media_types(tmp_path: Path) -> None:
    layout = OCILayout()
    descriptor = layout.image(LAYERS, document())
    layout.index.append(descriptor | {"mediaType": "application/vnd.cncf.helm.chart"})
    with pytest.raises(
        ImageError, match=r"unsupported manifest media type 'application/vnd.cncf.helm.chart'"
    ):
        open_image(f"oci:{layout.write_dir(tmp_path / 'a')}")
    layout = OCILayout()
    descriptor = layout.image(LAYERS, document())
    manifest = json.loads(layout.blobs[str(descriptor["digest"])])
    manifest["config"]["mediaType"] = "application/vnd.cncf.helm.config.v1+json"
    layout.index.append(layout.blob(json.dumps(manifest).encode(), str(descriptor["mediaType"])))
    with pytest.raises(ImageError, match=r"unsupported config media type"):
        open_image(f"oci:{layout.write_dir(tmp_path / 'b')}")


def test_missing_blob_names_the_digest(tmp_path: Path) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    digest = sha256(gzipped(LAYERS[2]))
    (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).unlink()
    with pytest.raises(ImageError, match=rf"missing blob {digest}"):
        open_image(f"oci:{root}")


def test_tampered_layer_names_the_digest(tmp_path: Path) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    digest = sha256(gzipped(LAYERS[1]))
    path = root / "blobs" / "sha256" / digest.removeprefix("sha256:")
    data = bytearray(path.read_bytes())
    data[4] ^= 0x01  # the gzip header's mtime: the content still inflates, the digest differs
    path.write_bytes(bytes(data))
    with (
        open_image(f"oci:{root}") as image,
        pytest.raises(ImageError, match=rf"expected {digest}"),
    ):
        list(image.layers[1].entries())


def test_tampered_manifest(tmp_path: Path) -> None:
    layout = OCILayout()
    descriptor = layout.image(LAYERS, document())
    layout.index.append(descriptor)
    digest = str(descriptor["digest"])
    layout.blobs[digest] = layout.blobs[digest].replace(
        b'"schemaVersion": 2', b'"schemaVersion": 3'
    )
    with pytest.raises(ImageError, match=rf"digest mismatch: expected {digest}"):
        open_image(f"oci:{layout.write_dir(tmp_path / 'l')}")


def test_size_mismatch(tmp_path: Path) -> None:
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document()) | {"size": 3})
    with pytest.raises(ImageError, match=r"the descriptor says 3"):
        open_image(f"oci:{layout.write_dir(tmp_path / 'l')}")


@pytest.mark.parametrize("digest", ["sha256:../../../../etc/passwd", "md5:abc", 7])
def test_malformed_digest(tmp_path: Path, digest: object) -> None:
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document()) | {"digest": digest})
    with pytest.raises(ImageError, match=r"not a supported digest"):
        open_image(f"oci:{layout.write_dir(tmp_path / 'l')}")


def test_blob_symlink_outside_the_layout(tmp_path: Path) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    digest = sha256(gzipped(LAYERS[0])).removeprefix("sha256:")
    outside = tmp_path / "outside"
    shutil.move(root / "blobs" / "sha256" / digest, outside)
    (root / "blobs" / "sha256" / digest).symlink_to(outside)
    with pytest.raises(ImageError, match=r"points outside the layout directory"):
        open_image(f"oci:{root}")


def test_invalid_index_json(tmp_path: Path) -> None:
    root = two_platforms().write_dir(tmp_path / "layout")
    (root / "index.json").write_text('{"manifests": [')
    with pytest.raises(ImageError, match=r"index.json is not valid JSON"):
        open_image(f"oci:{root}")
    (root / "index.json").write_text('{"manifests": []}')
    with pytest.raises(ImageError, match=r"lists no image"):
        open_image(f"oci:{root}")


def test_oversized_config(tmp_path: Path) -> None:
    layout = OCILayout()
    big = document() | {"padding": "x" * (16 * 1024**2)}
    layout.index.append(layout.image(LAYERS, big))
    with pytest.raises(ImageError, match=r"more than 16777216"):
        open_image(f"oci:{layout.write_dir(tmp_path / 'l')}")


def test_config_with_wrong_types(tmp_path: Path) -> None:
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document(config={"Env": "A=1"})))
    with pytest.raises(ImageError, match=r"'Env' is not a JSON array"):
        open_image(f"oci:{layout.write_dir(tmp_path / 'l')}")


def test_truncated_oci_archive(tmp_path: Path) -> None:
    data = two_platforms().write_tar(tmp_path / "ok.tar").read_bytes()
    path = tmp_path / "cut.tar"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"corrupt or truncated"):
        open_image(f"oci-archive:{path}")
