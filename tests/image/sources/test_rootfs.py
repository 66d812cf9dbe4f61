"""dir: an unpacked root filesystem read as one layer, never following a symlink."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from slimline.image.layers import EntryKind
from slimline.image.sources import ImageConfig, ImageError, open_image

from ..builders import layer_tar
from . import direct_report, source_report


def make_rootfs(root: Path, outside: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "conf").write_bytes(b"c" * 100)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_bytes(b"t" * 5000)
    os.link(root / "usr" / "bin" / "tool", root / "usr" / "bin" / "tool2")
    (root / "empty").mkdir()
    (root / "bin").symlink_to("usr/bin")
    (root / "escape").symlink_to(outside)
    (root / "passwd").symlink_to("/etc/passwd")
    os.mkfifo(root / "fifo")
    outside.mkdir()
    (outside / "secret").write_bytes(b"s" * 999)
    return root


def test_rootfs_as_one_layer(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "rootfs", tmp_path / "outside")
    with open_image(f"dir:{root}") as image:
        assert image.name == f"dir:{root}"
        assert image.config == ImageConfig()
        assert len(image.layers) == 1
        layer = image.layers[0]
        assert (layer.index, layer.digest, layer.diff_id, layer.history) == (0, None, None, None)
        assert layer.size == 100 + 5000
        entries = {e.path: e for e in layer.entries()}
    assert sorted(entries) == [
        "bin",
        "empty",
        "escape",
        "etc",
        "etc/conf",
        "fifo",
        "passwd",
        "usr",
        "usr/bin",
        "usr/bin/tool",
        "usr/bin/tool2",
    ]
    assert entries["escape"].kind is EntryKind.SYMLINK
    assert entries["escape"].link_target == str(tmp_path / "outside")
    assert entries["passwd"].link_target == "/etc/passwd"
    assert entries["bin"].kind is EntryKind.SYMLINK
    assert entries["usr/bin/tool"].size == 5000
    assert entries["usr/bin/tool2"].kind is EntryKind.HARDLINK
    assert entries["usr/bin/tool2"].link_target == "usr/bin/tool"
    assert entries["fifo"].kind is EntryKind.OTHER
    assert entries["empty"].kind is EntryKind.DIR


def test_same_numbers_as_the_equivalent_layer(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "app").mkdir(parents=True)
    (root / "app" / "a").write_bytes(b"a" * 1234)
    (root / "app" / "b").write_bytes(b"")
    (root / "z").write_bytes(b"z" * 7)
    tar = layer_tar(
        [("dir", "app", None), ("file", "app/a", 1234), ("file", "app/b", 0), ("file", "z", 7)]
    )
    with open_image(str(root)) as image:
        assert image.name == f"dir:{root}"
        assert source_report(image) == direct_report([tar])


def test_stream_is_a_plain_tar(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "big").write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    with open_image(f"dir:{root}") as image, image.layers[0].open() as stream:
        data = stream.read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("big")
        assert member is not None
        assert member.read() == (root / "big").read_bytes()


def test_unreadable_file_keeps_its_size(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    root.mkdir()
    path = root / "shadow"
    path.write_bytes(b"k" * 300)
    path.chmod(0)
    try:
        with open_image(f"dir:{root}") as image:
            assert [(e.path, e.size) for e in image.layers[0].entries()] == [("shadow", 300)]
    finally:
        path.chmod(0o600)


def test_not_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ImageError, match=r"not a directory"):
        open_image(f"dir:{path}")
