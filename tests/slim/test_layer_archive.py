"""Writing the slim layer and image from synthetic images: exactly the kept paths, each with its
final copy's bytes and metadata, parents first, hard links kept or turned into files, no
whiteouts; the image around it keeps the original config and reads back with slimline's own
sources."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from slimline.image.layers import EntryKind, LayerEntry
from slimline.image.read import read_image
from slimline.image.sources import open_image
from slimline.image.sources.base import Image
from slimline.slim.archive import (
    SLIMMED_FROM_LABEL,
    slim_config,
    source_archive,
    write_image,
    write_image_file,
)
from slimline.slim.errors import SlimError
from slimline.slim.layer import LayerInfo, Replacement, write_layer
from tests.image.builders import config_document, encode, legacy_archive

CAPABILITY = b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"


@dataclass
class Layer:
    """A layer tar built entry by entry, with every field under the test's control."""

    members: list[tuple[tarfile.TarInfo, bytes]] = field(default_factory=list)

    def add(self, name: str, kind: bytes, data: bytes, fields: dict[str, object]) -> Layer:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = int(str(fields.pop("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)))
        info.mtime = int(str(fields.pop("mtime", 1_600_000_000)))
        for key, value in fields.items():
            setattr(info, key, value)
        info.size = len(data)
        self.members.append((info, data))
        return self

    def dir(self, name: str, **fields: object) -> Layer:
        return self.add(name, tarfile.DIRTYPE, b"", fields)

    def file(self, name: str, data: bytes, **fields: object) -> Layer:
        return self.add(name, tarfile.REGTYPE, data, fields)

    def symlink(self, name: str, target: str, **fields: object) -> Layer:
        return self.add(name, tarfile.SYMTYPE, b"", {"linkname": target, **fields})

    def hardlink(self, name: str, target: str, **fields: object) -> Layer:
        return self.add(name, tarfile.LNKTYPE, b"", {"linkname": target, **fields})

    def device(self, name: str, kind: bytes, **fields: object) -> Layer:
        return self.add(name, kind, b"", fields)

    def whiteout(self, path: str) -> Layer:
        parent, _, base = path.rpartition("/")
        name = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
        return self.add(name, tarfile.REGTYPE, b"", {})

    def opaque(self, directory: str) -> Layer:
        return self.add(f"{directory}/.wh..wh..opq", tarfile.REGTYPE, b"", {})

    def bytes(self) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in self.members:
                tar.addfile(info, io.BytesIO(data) if data else None)
        return buffer.getvalue()


CONFIG = {
    "Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"],
    "Entrypoint": ["/usr/bin/tool"],
    "Cmd": ["--serve"],
    "WorkingDir": "/srv",
    "User": "1000:1000",
    "ExposedPorts": {"8080/tcp": {}},
    "Volumes": {"/data": {}},
    "StopSignal": "SIGINT",
    "Healthcheck": {"Test": ["CMD", "/usr/bin/tool", "--check"]},
    "Labels": {"maintainer": "someone"},
}


def archive(
    tmp_path: Path, layers: Sequence[bytes], *, gzip_layers: bool = False, name: str = "image"
) -> Path:
    document = config_document(layers, config=dict(CONFIG))
    document["created"] = "2024-01-02T03:04:05Z"
    return legacy_archive(
        [(layers, [f"{name}:1"], document)], tmp_path / f"{name}.tar", gzip_layers=gzip_layers
    )


@dataclass
class Written:
    info: LayerInfo
    layer: bytes
    entries: list[LayerEntry]

    @property
    def by_path(self) -> dict[str, LayerEntry]:
        return {entry.path: entry for entry in self.entries}

    def content(self, path: str) -> bytes:
        with tarfile.open(fileobj=io.BytesIO(self.layer)) as tar:
            handle = tar.extractfile(path)
            assert handle is not None
            return handle.read()


def slim(
    path: Path,
    keep: set[str],
    replacements: dict[str, Replacement] | None = None,
    *,
    tmp_path: Path,
) -> Written:
    with open_image(f"docker-archive:{path}") as image:
        files = read_image(image).files
        out = io.BytesIO()
        info = write_layer(image, files, keep, replacements or {}, out)
    layer = out.getvalue()
    layer_file = tmp_path / "written-layer.tar"
    layer_file.write_bytes(layer)
    slim_archive = tmp_path / "slim.tar"
    with open(slim_archive, "wb") as target:
        write_image(
            target,
            raw_config=encode(config_document([layer])),
            layer_path=layer_file,
            layer=info,
            label_from="test",
            tag=None,
        )
    with open_image(f"docker-archive:{slim_archive}") as written:
        (ref,) = written.layers
        entries = list(ref.entries(details=True))
    return Written(info, layer, entries)


def ancestors(paths: set[str]) -> set[str]:
    found = set()
    for path in paths:
        parent = path.rpartition("/")[0]
        while parent:
            found.add(parent)
            parent = parent.rpartition("/")[0]
    return found


# ---- one image with everything ------------------------------------------------------------


def two_layers() -> list[bytes]:
    bottom = (
        Layer()
        .dir("etc", mtime=100)
        .file("etc/config", b"secret=1\n", mode=0o600, uid=1000, gid=1001, uname="app")
        .dir("usr", mtime=100)
        .dir("usr/bin", mtime=100)
        .file("usr/bin/tool", b"v1", mode=0o755, mtime=1000)
        .hardlink("usr/bin/tool-old", "usr/bin/tool", mode=0o755, mtime=1000)
        .symlink("usr/bin/alias", "tool")
        .file("usr/bin/ping", b"ELF", mode=0o4755, pax_headers={})
        .dir("usr/lib/python3", mtime=100)
        .file("usr/lib/python3/mod.py", b"x = 1\n", mtime=1_234_567_890)
        .dir("dev")
        .device("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
        .dir("run")
        .device("run/pipe", tarfile.FIFOTYPE, mode=0o600)
        .dir("opt")
        .file("opt/gone", b"deleted later")
        .dir("var")
        .dir("var/cache")
        .file("var/cache/old", b"hidden by an opaque directory")
        .bytes()
    )
    top = (
        Layer()
        .dir("etc", mode=0o750, mtime=200, gid=4)
        .dir("usr", mtime=200)
        .dir("usr/bin", mtime=200)
        .file("usr/bin/tool", b"v2 is longer", mode=0o755, mtime=2000)
        .dir("opt", mtime=200)
        .whiteout("opt/gone")
        .dir("var", mtime=200)
        .dir("var/cache", mtime=200)
        .opaque("var/cache")
        .file("var/cache/new", b"new")
        .dir("usr/share/doc", mtime=200)
        .file("usr/share/doc/readme", b"docs")
        .bytes()
    )
    return [bottom, _with_capability(top)]


def _with_capability(layer: bytes) -> bytes:
    """`layer` plus usr/bin/ping again, now with a file capability (a binary xattr)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(layer)) as source,
        tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for member in source.getmembers():
            handle = source.extractfile(member) if member.isfile() else None
            tar.addfile(member, handle)
        info = tarfile.TarInfo("usr/bin/ping")
        info.mode, info.mtime, info.size = 0o755, 3000, 3
        info.pax_headers = {
            "SCHILY.xattr.security.capability": CAPABILITY.decode("utf-8", "surrogateescape")
        }
        tar.addfile(info, io.BytesIO(b"ELF"))
    return out.getvalue()


KEEP = {
    "etc/config",
    "usr/bin/tool",
    "usr/bin/tool-old",
    "usr/bin/alias",
    "usr/bin/ping",
    "usr/lib/python3/mod.py",
    "dev/null",
    "run/pipe",
    "var/cache/new",
}


@pytest.fixture
def written(tmp_path: Path) -> Written:
    return slim(archive(tmp_path, two_layers()), set(KEEP), tmp_path=tmp_path)


def test_exactly_the_kept_paths_and_their_parents(written: Written) -> None:
    paths = [entry.path for entry in written.entries]
    assert set(paths) == KEEP | ancestors(KEEP)
    assert len(paths) == len(set(paths))
    assert not any(e.is_whiteout or e.is_opaque or ".wh." in e.path for e in written.entries)
    assert written.info.files == len(paths)


def test_parents_come_before_children(written: Written) -> None:
    seen: set[str] = set()
    for entry in written.entries:
        parent = entry.path.rpartition("/")[0]
        assert not parent or parent in seen, entry.path
        seen.add(entry.path)


def test_final_copies_with_their_metadata(written: Written) -> None:
    found = written.by_path
    tool = found["usr/bin/tool"]
    assert written.content("usr/bin/tool") == b"v2 is longer"
    assert (tool.mtime, tool.mode) == (2000, 0o755)
    config = found["etc/config"]
    assert (config.mode, config.uid, config.gid, config.uname) == (0o600, 1000, 1001, "app")
    assert found["usr/lib/python3/mod.py"].mtime == 1_234_567_890
    etc = found["etc"]
    assert (etc.kind, etc.mode, etc.mtime, etc.gid) == (EntryKind.DIR, 0o750, 200, 4)
    assert found["usr/lib/python3"].mtime == 100
    assert found["usr/bin/alias"].kind is EntryKind.SYMLINK
    assert found["usr/bin/alias"].link_target == "tool"


def test_extended_attributes_and_devices(written: Written) -> None:
    found = written.by_path
    assert found["usr/bin/ping"].xattrs == (("security.capability", CAPABILITY),)
    assert found["usr/bin/ping"].mtime == 3000
    null = found["dev/null"]
    assert null.kind is EntryKind.OTHER
    assert (null.typeflag, null.devmajor, null.devminor) == (ord("3"), 1, 3)
    assert found["run/pipe"].typeflag == ord("6")


def test_a_hard_link_to_an_overwritten_file_keeps_the_old_bytes(written: Written) -> None:
    # usr/bin/tool-old linked the bottom layer's tool, which the top layer replaced
    old = written.by_path["usr/bin/tool-old"]
    assert old.kind is EntryKind.FILE
    assert written.content("usr/bin/tool-old") == b"v1"


def test_layer_info_describes_the_bytes(written: Written) -> None:
    info = written.info
    assert info.diff_id == "sha256:" + hashlib.sha256(written.layer).hexdigest()
    assert info.size == len(written.layer)
    regular = sum(e.size for e in written.entries if e.kind is EntryKind.FILE)
    assert info.regular_bytes == regular


def test_gzip_layers_give_the_same_layer(tmp_path: Path) -> None:
    plain = slim(archive(tmp_path, two_layers()), set(KEEP), tmp_path=tmp_path)
    compressed = slim(
        archive(tmp_path, two_layers(), gzip_layers=True, name="gz"), set(KEEP), tmp_path=tmp_path
    )
    assert compressed.layer == plain.layer


def test_nothing_hidden_can_come_back(tmp_path: Path) -> None:
    written = slim(
        archive(tmp_path, two_layers()),
        KEEP | {"opt/gone", "var/cache/old", "not/in/the/image"},
        tmp_path=tmp_path,
    )
    assert {"opt/gone", "var/cache/old", "not/in/the/image", "not"}.isdisjoint(written.by_path)


# ---- hard links -----------------------------------------------------------------------------


def links_image(tmp_path: Path) -> Path:
    layer = (
        Layer()
        .dir("bin")
        .file("bin/real", b"the bytes", mode=0o755)
        .hardlink("bin/one", "bin/real", mode=0o755)
        .hardlink("bin/two", "bin/real", mode=0o755)
        .file("bin/other", b"other bytes")
        .hardlink("bin/three", "bin/other")
        .bytes()
    )
    return archive(tmp_path, [layer])


def test_hard_links_to_a_kept_target_stay_links(tmp_path: Path) -> None:
    written = slim(links_image(tmp_path), {"bin/real", "bin/one"}, tmp_path=tmp_path)
    one = written.by_path["bin/one"]
    assert (one.kind, one.link_target) == (EntryKind.HARDLINK, "bin/real")
    assert written.info.regular_bytes == len(b"the bytes")


def test_hard_links_to_a_dropped_target_become_one_file(tmp_path: Path) -> None:
    written = slim(links_image(tmp_path), {"bin/one", "bin/two", "bin/three"}, tmp_path=tmp_path)
    found = written.by_path
    assert "bin/real" not in found and "bin/other" not in found
    assert found["bin/one"].kind is EntryKind.FILE
    assert written.content("bin/one") == b"the bytes"
    assert (found["bin/two"].kind, found["bin/two"].link_target) == (
        EntryKind.HARDLINK,
        "bin/one",
    )
    assert written.content("bin/three") == b"other bytes"
    assert written.info.regular_bytes == len(b"the bytes") + len(b"other bytes")


# ---- replacements, parents and large files ------------------------------------------------


def test_replacements_take_the_place_of_the_image_copy(tmp_path: Path) -> None:
    layer = (
        Layer()
        .dir("var")
        .dir("var/lib")
        .file("var/lib/db", b"old database", mode=0o640, uid=5, gid=6, mtime=777)
        .bytes()
    )
    written = slim(
        archive(tmp_path, [layer]),
        {"var/lib/db"},
        {
            "var/lib/db": Replacement(b"new database"),
            "srv/data/new": Replacement(b"fresh", mode=0o600, mtime=42),
        },
        tmp_path=tmp_path,
    )
    found = written.by_path
    db = found["var/lib/db"]
    assert written.content("var/lib/db") == b"new database"
    assert (db.mode, db.uid, db.gid, db.mtime) == (0o640, 5, 6, 777)
    assert [e.path for e in written.entries].count("var/lib/db") == 1
    assert written.content("srv/data/new") == b"fresh"
    assert (found["srv/data/new"].mode, found["srv/data/new"].mtime) == (0o600, 42)
    assert found["srv"].kind is EntryKind.DIR and found["srv"].mode == 0o755


def test_a_parent_held_only_by_a_lower_layer_keeps_its_metadata(tmp_path: Path) -> None:
    bottom = Layer().dir("app", mode=0o700, uid=7, gid=8, mtime=55).file("app/a", b"a").bytes()
    # a hand-made layer that writes a child without its parent directory
    top = Layer().file("app/b", b"b").file("loose/child", b"c").bytes()
    written = slim(
        archive(tmp_path, [bottom, top]), {"app/a", "app/b", "loose/child"}, tmp_path=tmp_path
    )
    directories = [e for e in written.entries if e.path == "app"]
    # a stand-in before the children, then the real entry
    final = directories[-1]
    assert (final.mode, final.uid, final.gid, final.mtime) == (0o700, 7, 8, 55)
    index = [e.path for e in written.entries]
    assert index.index("app") < index.index("app/b")
    loose = written.by_path["loose"]
    assert (loose.kind, loose.mode) == (EntryKind.DIR, 0o755)


def test_large_files_are_copied_whole(tmp_path: Path) -> None:
    big = hashlib.sha256(b"seed").digest() * (3 * 65536 + 7)
    layer = Layer().dir("data").file("data/big", big).file("data/small", b"s").bytes()
    for gzip_layers in (False, True):
        path = archive(tmp_path, [layer], gzip_layers=gzip_layers, name=f"big{gzip_layers}")
        written = slim(path, {"data/big"}, tmp_path=tmp_path)
        assert written.content("data/big") == big
        assert written.info.regular_bytes == len(big)


def test_long_and_unusual_names(tmp_path: Path) -> None:
    deep = "/".join(["directory-with-a-long-name"] * 6) + "/file"
    target = "/".join(["x" * 60] * 3)
    layer = (
        Layer()
        .file(deep, b"deep")
        .file("caf\u00e9/men\u00fc", b"utf-8")
        .symlink("link", target)
        .file("owned", b"o", uid=3_000_000, gid=3_000_001, uname="\u00e9l\u00e8ve")
        .bytes()
    )
    keep = {deep, "caf\u00e9/men\u00fc", "link", "owned"}
    written = slim(archive(tmp_path, [layer]), keep, tmp_path=tmp_path)
    found = written.by_path
    assert keep <= set(found)
    assert written.content(deep) == b"deep"
    assert found["link"].link_target == target
    assert (found["owned"].uid, found["owned"].gid) == (3_000_000, 3_000_001)
    assert found["owned"].uname == "\u00e9l\u00e8ve"


def test_a_layer_that_lost_a_kept_file_is_an_error(tmp_path: Path) -> None:
    described = archive(tmp_path, [Layer().file("a", b"a").file("b", b"b").bytes()], name="one")
    other = archive(tmp_path, [Layer().file("a", b"a").bytes()], name="two")
    with open_image(f"docker-archive:{described}") as image:
        files = read_image(image).files
    with open_image(f"docker-archive:{other}") as image, pytest.raises(SlimError, match="/b"):
        write_layer(image, files, {"a", "b"}, {}, io.BytesIO())


# ---- the image ------------------------------------------------------------------------------


def original_config() -> bytes:
    document = config_document([b"one", b"two"], config=dict(CONFIG))
    document["created"] = "2024-01-02T03:04:05Z"
    document["history"] = [
        {"created_by": "ADD rootfs.tar /"},
        {"created_by": "ENV LANG=C.UTF-8", "empty_layer": True},
        {"created_by": "RUN make"},
    ]
    document["container_config"] = {"Hostname": "builder"}
    return encode(document)


def test_slim_config_keeps_everything_but_the_layers() -> None:
    before = json.loads(original_config())
    after = slim_config(
        original_config(),
        diff_id="sha256:" + "a" * 64,
        label_from="app:1@sha256:" + "b" * 64,
        created_by="slimline slim --mode files",
        comment="why",
        created="2025-05-05T05:05:05Z",
    )
    assert after["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + "a" * 64]}
    history = after["history"]
    assert [h.get("empty_layer", False) for h in history] == [True, True, True, False]
    assert history[-1] == {
        "created": "2025-05-05T05:05:05Z",
        "created_by": "slimline slim --mode files",
        "comment": "why",
    }
    assert after["config"]["Labels"] == {
        "maintainer": "someone",
        SLIMMED_FROM_LABEL: "app:1@sha256:" + "b" * 64,
    }
    for key in ("created", "architecture", "os", "container_config"):
        assert after[key] == before[key]
    without_labels = {k: v for k, v in after["config"].items() if k != "Labels"}
    assert without_labels == {k: v for k, v in CONFIG.items() if k != "Labels"}


def test_slim_config_creates_labels_and_history() -> None:
    after = slim_config(
        {"architecture": "amd64", "os": "linux", "config": {"Labels": None}},
        diff_id="sha256:" + "c" * 64,
        label_from="x",
        created_by="slimline slim --mode static",
    )
    assert after["config"]["Labels"] == {SLIMMED_FROM_LABEL: "x"}
    assert len(after["history"]) == 1 and "empty_layer" not in after["history"][0]
    assert after["created"] == after["history"][0]["created"]


def written_image(tmp_path: Path, *, tag: str | None) -> tuple[Path, str, bytes]:
    layer = Layer().dir("app").file("app/run", b"#!/bin/sh\n", mode=0o755).bytes()
    layer_path = tmp_path / "layer.tar"
    layer_path.write_bytes(layer)
    info = LayerInfo("sha256:" + hashlib.sha256(layer).hexdigest(), len(layer), 2, 10)
    target = tmp_path / "out" / "slim.tar"
    target.parent.mkdir()
    image_id = write_image_file(
        target,
        raw_config=original_config(),
        layer_path=layer_path,
        layer=info,
        label_from="app:1",
        tag=tag,
        mode="files",
    )
    return target, image_id, layer


@pytest.mark.parametrize("prefix", ["docker-archive:", "oci-archive:"])
def test_the_archive_reads_back(tmp_path: Path, prefix: str) -> None:
    target, image_id, _ = written_image(tmp_path, tag="slim-app:2")
    assert [p.name for p in target.parent.iterdir()] == ["slim.tar"]
    with open_image(f"{prefix}{target}") as image:
        assert isinstance(image, Image)
        assert image.image_id == image_id
        assert image.raw_config is not None
        assert "sha256:" + hashlib.sha256(image.raw_config).hexdigest() == image_id
        config = image.config
        assert config.labels[SLIMMED_FROM_LABEL] == "app:1"
        assert config.entrypoint == ("/usr/bin/tool",) and config.workdir == "/srv"
        assert config.history[-1].created_by == "slimline slim --mode files"
        (ref,) = image.layers
        assert ref.history is not None and ref.history.created_by.startswith("slimline")
        assert [e.path for e in ref.entries()] == ["app", "app/run"]
    with tarfile.open(target) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] == ["slim-app:2"]


def test_an_untagged_archive_names_no_tag(tmp_path: Path) -> None:
    target, _, _ = written_image(tmp_path, tag=None)
    with tarfile.open(target) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] is None
    assert "annotations" not in index["manifests"][0]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    layer_path = tmp_path / "layer.tar"
    layer_path.write_bytes(b"x" * 1024)
    target = tmp_path / "slim.tar"
    with pytest.raises(SlimError):
        write_image_file(
            target,
            raw_config=b"{}",
            layer_path=layer_path,
            layer=LayerInfo("sha256:" + "0" * 64, 99, 0, 0),
            label_from="x",
            tag=None,
        )
    assert list(tmp_path.iterdir()) == [layer_path]


# ---- the source as an archive ---------------------------------------------------------------


def chunks_to_file(chunks: Iterator[bytes | memoryview], path: Path) -> Path:
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return path


def test_source_archive_is_the_image_as_it_is(tmp_path: Path) -> None:
    original = archive(tmp_path, two_layers(), gzip_layers=True)
    with open_image(f"docker-archive:{original}") as image:
        copy = chunks_to_file(source_archive(image, tag="copy:1"), tmp_path / "copy.tar")
        expected = (image.image_id, image.config.diff_ids, [r.size for r in image.layers])
    with open_image(f"docker-archive:{copy}") as again:
        assert (again.image_id, again.config.diff_ids, [r.size for r in again.layers]) == expected
        for ref in again.layers:
            assert ref.media_type.endswith("gzip")
            list(ref.entries())


def test_source_archive_of_a_directory(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "app").write_bytes(b"app")
    with open_image(f"dir:{root}") as image:
        copy = chunks_to_file(source_archive(image), tmp_path / "copy.tar")
    with open_image(f"docker-archive:{copy}") as again:
        assert [e.path for ref in again.layers for e in ref.entries()] == ["bin", "bin/app"]
        assert again.config.os == "linux"


def test_a_path_written_twice_in_one_layer_keeps_its_last_copy(tmp_path: Path) -> None:
    layer = Layer().file("twice", b"first copy").file("twice", b"second").bytes()
    written = slim(archive(tmp_path, [layer]), {"twice"}, tmp_path=tmp_path)
    assert [e.path for e in written.entries] == ["twice"]
    assert written.content("twice") == b"second"
