"""Choosing a source: by prefix, by detection, and the errors when neither works."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimline.image.sources import ImageError, open_image, source_modules, source_prefixes
from slimline.image.sources.base import split_reference

from ..builders import OCILayout, docker_archive
from . import LAYERS, document


def test_every_source_module_is_registered() -> None:
    assert source_prefixes() == [
        "dir:",
        "docker-archive:",
        "docker:",
        "oci-archive:",
        "oci:",
        "registry:",
    ]
    names = [module.__name__.rpartition(".")[2] for module in source_modules()]  # type: ignore[attr-defined]
    assert names == ["archive", "engine", "oci", "registry", "rootfs"]


def test_detection(tmp_path: Path) -> None:
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document(), tags=["app:1"]))
    cases = {
        docker_archive(LAYERS, tmp_path / "legacy.tar"): "docker-archive:",
        layout.write_tar(tmp_path / "save.tar", docker=True): "docker-archive:",
        layout.write_tar(tmp_path / "save.tar.gz", docker=True, gzip_outer=True): "docker-archive:",
        layout.write_tar(tmp_path / "oci.tar"): "oci-archive:",
        layout.write_dir(tmp_path / "layout"): "oci:",
        tmp_path / "layout" / "blobs": "dir:",
    }
    for path, prefix in cases.items():
        with open_image(str(path)) as image:
            assert image.name == f"{prefix}{path}", path


def test_path_with_colons(tmp_path: Path) -> None:
    folder = tmp_path / "a:b"
    folder.mkdir()
    archive = docker_archive(LAYERS, folder / "x:y.tar")
    assert split_reference(str(archive)) == (archive, None)
    assert split_reference(f"{archive}:repo:tag") == (archive, "repo:tag")
    with open_image(f"docker-archive:{archive}:slimline-test:latest") as image:
        assert len(image.layers) == 3


def test_unknown_prefix() -> None:
    with pytest.raises(
        ImageError, match=r"unknown image source 'ftp:' \(known: dir:, docker-archive:"
    ):
        open_image("ftp:somewhere")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"no such file or directory"):
        open_image(str(tmp_path / "nothing.tar"))
    with pytest.raises(ImageError, match=r"no such file or directory"):
        open_image(f"docker-archive:{tmp_path / 'nothing.tar'}")


def test_undetectable_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ImageError, match=r"cannot tell what kind of image this is"):
        open_image(str(path))
