"""The merged file view: records, captured contents, links followed inside the image only."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest

from slimline.image.files import ImageFiles
from slimline.image.read import read_image
from slimline.image.sources.base import Image, ImageConfig, ImageError, LayerRef

from .builders import Op, layer_tar


def image_of(layers: Sequence[Sequence[Op]]) -> Image:
    refs = []
    for index, ops in enumerate(layers):
        data = layer_tar(ops)
        refs.append(
            LayerRef(
                index=index,
                digest=None,
                diff_id=None,
                media_type="application/vnd.oci.image.layer.v1.tar",
                size=len(data),
                history=None,
                opener=lambda data=data: io.BytesIO(data),  # type: ignore[misc]
            )
        )
    return Image("test", ImageConfig(), refs)


def files_of(layers: Sequence[Sequence[Op]], wanted: frozenset[str]) -> ImageFiles:
    return read_image(image_of(layers), lambda path: path in wanted).files


def test_contents_come_from_the_layer_that_wrote_the_file_last() -> None:
    files = files_of(
        [
            [("file", "etc/os-release", b"ID=debian\n"), ("file", "etc/other", b"x")],
            [("file", "etc/os-release", b"ID=ubuntu\n")],
        ],
        frozenset({"etc/os-release"}),
    )
    assert files.read("etc/os-release") == b"ID=ubuntu\n"
    assert files.read("/etc/os-release") == b"ID=ubuntu\n"
    # not asked for: the record is there, the bytes are not
    assert files.read("etc/other") is None
    assert files.size("etc/other") == 1


def test_deleted_files_have_no_contents() -> None:
    files = files_of(
        [[("file", "app/.env", b"TOKEN=1")], [("whiteout", "app/.env", None)]],
        frozenset({"app/.env"}),
    )
    assert "app/.env" not in files
    assert files.read("app/.env") is None


def test_symlinks_are_followed_inside_the_image() -> None:
    files = files_of(
        [
            [
                ("file", "usr/lib/os-release", b"ID=debian\n"),
                ("symlink", "etc/os-release", "../usr/lib/os-release"),
                ("symlink", "etc/abs", "/usr/lib/os-release"),
                ("symlink", "lib", "usr/lib"),
                ("symlink", "loop/a", "b"),
                ("symlink", "loop/b", "a"),
                ("symlink", "escape", "../../../../etc/passwd"),
            ]
        ],
        frozenset({"usr/lib/os-release"}),
    )
    assert files.read("etc/os-release") == b"ID=debian\n"
    assert files.read("etc/abs") == b"ID=debian\n"
    assert files.read("lib/os-release") == b"ID=debian\n"
    assert files.resolve("lib/os-release") == "usr/lib/os-release"
    assert files.read("loop/a") is None
    # `..` above the root stays at the root, as in a container
    assert files.resolve("escape") is None


def test_hard_links_share_the_captured_bytes() -> None:
    files = files_of(
        [[("file", "bin/busybox", b"ELF"), ("hardlink", "bin/sh", "bin/busybox")]],
        frozenset({"bin/busybox", "bin/sh"}),
    )
    assert files.read("bin/sh") == b"ELF"


def test_walk_and_children() -> None:
    files = files_of(
        [[("dir", "a", None), ("file", "a/x", 3), ("file", "a/b/y", 4), ("file", "c", 1)]],
        frozenset(),
    )
    assert files.children("a") == {"a/x", "a/b"}
    assert sorted(path for path, _ in files.walk("a")) == ["a/b", "a/b/y", "a/x"]
    assert len(files) == 5
    assert "a/b/y" in files and "/a/b/y" in files


def test_captured_lists_only_what_survives() -> None:
    files = files_of(
        [
            [("file", "a/METADATA", b"1"), ("file", "b/METADATA", b"2"), ("file", "c", b"3")],
            [("file", "a/METADATA", b"1b"), ("whiteout", "b", None)],
        ],
        frozenset({"a/METADATA", "b/METADATA"}),
    )
    assert sorted(files.captured()) == ["a/METADATA"]
    assert files.read("a/METADATA") == b"1b"


def test_captured_bytes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import slimline.image.read as read

    monkeypatch.setattr(read, "MAX_CAPTURED_BYTES", 10_000)
    layers = [[("file", f"lib/x{i}.dist-info/METADATA", 4_000) for i in range(3)]]
    with pytest.raises(ImageError, match="refusing the image"):
        read_image(image_of(layers), lambda path: path.endswith("METADATA"))
    # below the bound, nothing is refused
    assert len(read_image(image_of(layers[:1][:]), lambda path: False).files) > 0
