"""docker: and bare image names: images read from the real engine, checked against what the
engine itself says (inspect, history) and against the files a container of the image sees."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slimline.image.files import ImageFiles
from slimline.image.layers import EntryKind
from slimline.image.read import read_image
from slimline.image.sources import Image, ImageError, open_image
from slimline.image.sources import engine as engine_source
from slimline.image.sources.base import NoSuchImage
from tests.support import engine as test_engine

from ..builders import OCILayout, legacy_archive
from . import LAYERS, assert_standard_image, document

# layers that add, overwrite, delete (whiteouts) and replace a directory (an opaque marker), a
# hard link, a symlink, a setuid file and a file owned by another user, and a config to compare
LAYERED_IMAGE = {
    "Dockerfile": """\
FROM debian:bookworm-slim
COPY app.txt /srv/app/app.txt
RUN mkdir -p /srv/data/keep /srv/data/drop /srv/opaque \\
 && echo one > /srv/data/keep/a && echo two > /srv/data/drop/b \\
 && head -c 5000 /dev/zero > /srv/opaque/old \\
 && ln -s ../app/app.txt /srv/data/link && ln /srv/data/keep/a /srv/data/hard \\
 && cp /bin/true /srv/setuid-true && chmod 4755 /srv/setuid-true \\
 && chown 1000:1000 /srv/data/keep/a
RUN rm -rf /srv/data/drop /usr/share/doc/apt \\
 && rm -rf /srv/opaque && mkdir /srv/opaque && echo new > /srv/opaque/new \\
 && echo changed > /srv/app/app.txt
ENV APP_MODE=test
WORKDIR /srv/app
USER 1000
CMD ["cat", "app.txt"]
""",
    "app.txt": "hello\n",
}

# saved in milliseconds, for the tests that open an image many times
TINY_IMAGE = {
    "Dockerfile": 'FROM scratch\nCOPY a.txt /a.txt\nCOPY b.txt /dir/b.txt\nCMD ["/a"]\n',
    "a.txt": "a\n",
    "b.txt": "b\n",
}

# what the runtime mounts or creates in every container, whatever the image holds
RUNTIME_PATHS = (
    "proc",
    "sys",
    "dev",
    "etc/hosts",
    "etc/hostname",
    "etc/resolv.conf",
    "etc/mtab",
    ".dockerenv",
)


@dataclass(frozen=True)
class Opened:
    image: Image
    files: ImageFiles
    attrs: dict[str, Any]


@pytest.fixture(scope="session")
def engine() -> Any:
    return test_engine.client()


@pytest.fixture(scope="session")
def layered(engine: Any) -> str:
    return test_engine.build("engine-source", LAYERED_IMAGE)


@pytest.fixture(scope="session")
def tiny(engine: Any) -> str:
    return test_engine.build("engine-tiny", TINY_IMAGE)


@pytest.fixture(scope="session")
def layered_read(engine: Any, layered: str) -> Opened:
    """The layered image read once for the session (saving it is the slow part)."""
    with open_image(f"docker:{layered}") as image:
        files = read_image(image, capture=lambda path: path.startswith("srv/")).files
    return Opened(image, files, engine.api.inspect_image(layered))


@pytest.mark.engine
def test_every_way_to_name_an_image(engine: Any, tiny: str) -> None:
    attrs = engine.api.inspect_image(tiny)
    image_id = attrs["Id"]
    hex_id = image_id.removeprefix("sha256:")
    for text in [f"docker:{tiny}", tiny, image_id, hex_id, hex_id[:12], f"sha256:{hex_id[:12]}"]:
        with open_image(text) as image:
            assert image.name == f"docker:{text.removeprefix('docker:')}"
            assert image.image_id == image_id
            assert list(image.config.diff_ids) == attrs["RootFS"]["Layers"]
            assert image.config.cmd == ("/a",)


@pytest.mark.engine
def test_config_and_layers_match_inspect(engine: Any, layered: str, layered_read: Opened) -> None:
    image, attrs = layered_read.image, layered_read.attrs
    assert image.name == f"docker:{layered}"
    assert image.image_id == attrs["Id"]
    assert image.repo_digests == tuple(attrs.get("RepoDigests") or ())
    assert len(image.layers) == len(attrs["RootFS"]["Layers"])
    assert list(image.config.diff_ids) == attrs["RootFS"]["Layers"]
    assert [ref.diff_id for ref in image.layers] == attrs["RootFS"]["Layers"]
    assert all(ref.size > 0 for ref in image.layers)
    assert [ref.location for ref in image.layers][-1] == f"docker:{layered}: layer 3"
    config = image.config
    assert config.platform == f"{attrs['Os']}/{attrs['Architecture']}"
    assert list(config.env) == attrs["Config"]["Env"]
    assert "APP_MODE=test" in config.env
    assert config.cmd == ("cat", "app.txt")
    assert (config.user, config.workdir) == ("1000", "/srv/app")
    # the engine's own history, newest first, names the same steps
    engine_history = [step["CreatedBy"] for step in reversed(engine.api.history(layered))]
    assert [entry.created_by for entry in config.history] == engine_history
    creators = [ref.history.created_by if ref.history else "" for ref in image.layers]
    assert "rm -rf /srv/data/drop" in creators[-1]


def _container_listing(tag: str) -> dict[str, tuple[str, int, int, int, str]]:
    """path -> (type, mode, uid, size, link target) as `find` sees them in a container."""
    # one line per entry: the engine's log driver loses the tail of output that ends mid-line
    output = test_engine.run(
        tag, ["find", "/", "-xdev", "-printf", r"%y %m %U %s %p\t%l\n"], user="0"
    )
    listing = {}
    for line in output.splitlines():
        kind, mode, uid, size, rest = line.split(" ", 4)
        path, _, target = rest.partition("\t")
        if path.lstrip("/"):
            listing[path.lstrip("/")] = (kind, int(mode, 8), int(uid), int(size), target)
    return listing


def _runtime_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in RUNTIME_PATHS)


_FIND_TYPES = {
    EntryKind.FILE: "f",
    EntryKind.HARDLINK: "f",
    EntryKind.DIR: "d",
    EntryKind.SYMLINK: "l",
}


@pytest.mark.engine
def test_merged_tree_is_what_a_container_sees(layered: str, layered_read: Opened) -> None:
    tree = layered_read.files.files
    container = {p: v for p, v in _container_listing(layered).items() if not _runtime_path(p)}
    image = {p: record for p, record in tree.items() if not _runtime_path(p)}
    assert sorted(set(image) - set(container)) == []
    assert sorted(set(container) - set(image)) == []
    for path, record in image.items():
        kind, mode, uid, size, target = container[path]
        assert _FIND_TYPES.get(record.kind, "other") in (kind, "other"), path
        assert stat.S_IMODE(record.mode) == mode, path
        assert record.uid == uid, path
        if record.kind is EntryKind.FILE:
            assert record.size == size, path
        elif record.kind is EntryKind.HARDLINK:
            assert tree[record.link_target].size == size, path
        elif record.kind is EntryKind.SYMLINK:
            assert record.link_target == target, path


@pytest.mark.engine
def test_layer_changes_are_applied(layered_read: Opened) -> None:
    files = layered_read.files
    assert "srv/data/drop" not in files
    assert "usr/share/doc/apt" not in files
    assert "srv/opaque/old" not in files
    assert files.read_text("srv/opaque/new") == "new\n"
    assert files.read_text("srv/app/app.txt") == "changed\n"
    assert files.read_text("srv/data/hard") == "one\n"
    assert files.resolve("srv/data/link") == "srv/app/app.txt"
    setuid = files.record("srv/setuid-true")
    assert setuid is not None and setuid.mode & stat.S_ISUID
    owned = files.record("srv/data/keep/a")
    assert owned is not None and owned.uid == 1000


@pytest.mark.engine
def test_missing_image(engine: Any) -> None:
    name = "slimline-test/missing:none"
    with pytest.raises(
        NoSuchImage,
        match=r"^no image 'slimline-test/missing:none' in the Docker engine;"
        r" prefix registry: to read it from a registry$",
    ):
        open_image(f"docker:{name}")
    with pytest.raises(
        NoSuchImage, match=r"^slimline-test/missing:none: no such file or directory, and no image"
    ):
        open_image(name)


def test_unreachable_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    socket = tmp_path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")
    message = (
        rf"cannot reach the Docker engine at unix://{socket}: No such file or directory;"
        r" is it running\?"
    )
    with pytest.raises(NoSuchImage, match=rf"^{message}$"):
        open_image("docker:app:1")
    with pytest.raises(
        NoSuchImage, match=rf"^app:1: unknown image source 'app:' .*, and {message}"
    ):
        open_image("app:1")


def _work_directories(root: Path) -> list[Path]:
    return sorted(root.glob("slimline-engine-*"))


@pytest.mark.engine
def test_work_directory_is_private_and_removed(
    tiny: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    image = open_image(f"docker:{tiny}")
    try:
        [workdir] = _work_directories(tmp_path)
        assert stat.S_IMODE(workdir.stat().st_mode) == 0o700
        assert [path.name for path in workdir.iterdir()] == ["image.tar"]
        assert sorted(read_image(image).files) == ["a.txt", "dir", "dir/b.txt"]
    finally:
        image.close()
    assert _work_directories(tmp_path) == []
    image.close()
    # a failure after the save leaves nothing behind either
    with pytest.raises(ImageError, match=r"is for linux/amd64, not linux/arm64"):
        open_image(f"docker:{tiny}", platform="linux/arm64")
    assert _work_directories(tmp_path) == []
    with open_image(f"docker:{tiny}", platform="linux/amd64") as image:
        assert image.config.platform == "linux/amd64"


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("python:3.12", True),
        ("myapp", True),
        ("team/app:1.0", True),
        ("localhost:5000/app:1", True),
        ("ghcr.io/org/app@sha256:" + "a" * 64, True),
        ("sha256:abcd", True),
        ("2641dfcf244e", True),
        ("App:1", False),
        ("./app.tar", False),
        ("/srv/app.tar", False),
        ("ftp://host/x", False),
        ("", False),
        ("a b", False),
    ],
)
def test_which_bare_names_go_to_the_engine(text: str, accepted: bool) -> None:
    assert engine_source.accepts_name(text) is accepted


@pytest.fixture
def work_directory(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "work"
    folder.mkdir()
    yield folder


def test_both_save_layouts_are_read(work_directory: Path) -> None:
    # this machine's engine writes the legacy layout; Docker 25 and later write the OCI one
    layout = OCILayout()
    layout.index.append(layout.image(LAYERS, document(), tags=["app:1"]))
    archives = [
        legacy_archive([(LAYERS, ["app:1"], document())], work_directory / "legacy.tar"),
        layout.write_tar(work_directory / "oci.tar", docker=True),
    ]
    for archive in archives:
        image = engine_source._read_archive(archive, "docker:app:1")
        with image:
            assert_standard_image(image)


def test_errors_name_the_image_not_the_copy(work_directory: Path) -> None:
    archive = work_directory / "image.tar"
    archive.write_bytes(b"not a tar" * 100)
    with pytest.raises(ImageError) as caught:
        engine_source._read_archive(archive, "docker:app:1")
    assert str(caught.value).startswith("docker:app:1: ")
    assert str(work_directory) not in str(caught.value)
    assert os.path.exists(archive)
