"""Streaming layer tars: compression, digests, whiteouts and hostile archives."""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path

import pytest

from slimline.image.layers import (
    Compression,
    EntryKind,
    LayerEntry,
    LayerError,
    detect_compression,
    normalize_path,
    read_layer,
)

from .builders import gzipped, layer_tar, raw_tar, sha256

HAS_ZSTD = importlib.util.find_spec("zstandard") is not None

SAMPLE = layer_tar(
    [
        ("dir", "etc", None),
        ("file", "etc/hosts", 12),
        ("file", "./usr/bin/tool", 100),
        ("symlink", "usr/bin/alias", "/usr/bin/tool"),
        ("hardlink", "usr/bin/again", "usr/bin/tool"),
        ("device", "dev/null", None),
        ("fifo", "run/pipe", None),
        ("whiteout", "var/cache/apt", None),
        ("opaque", "opt/app", None),
    ]
)


def entries(data: bytes, **kwargs: object) -> list[LayerEntry]:
    return list(read_layer(io.BytesIO(data), **kwargs))  # type: ignore[arg-type]


def by_path(data: bytes) -> dict[str, LayerEntry]:
    return {e.path: e for e in entries(data)}


def zstd_compress(data: bytes) -> bytes:
    import zstandard

    return bytes(zstandard.ZstdCompressor().compress(data))


def test_plain_entries_and_kinds() -> None:
    found = by_path(SAMPLE)
    assert found["etc"].kind is EntryKind.DIR
    assert found["etc/hosts"].kind is EntryKind.FILE and found["etc/hosts"].size == 12
    assert found["usr/bin/tool"].size == 100
    assert found["usr/bin/alias"].kind is EntryKind.SYMLINK
    assert found["usr/bin/alias"].link_target == "/usr/bin/tool"
    assert found["usr/bin/again"].kind is EntryKind.HARDLINK
    assert found["usr/bin/again"].link_target == "usr/bin/tool"
    assert found["dev/null"].kind is EntryKind.OTHER
    assert found["run/pipe"].kind is EntryKind.OTHER
    assert found["etc/hosts"].mode == 0o644


def test_whiteout_and_opaque_markers() -> None:
    found = by_path(SAMPLE)
    whiteout = found["var/cache/.wh.apt"]
    assert whiteout.is_whiteout and whiteout.whiteout_target == "var/cache/apt"
    assert not whiteout.is_opaque
    opaque = found["opt/app/.wh..wh..opq"]
    assert opaque.is_opaque and opaque.whiteout_target == "opt/app"
    assert not opaque.is_whiteout
    assert not found["etc/hosts"].is_whiteout


def test_root_level_markers() -> None:
    found = by_path(layer_tar([("whiteout", "tmp", None), ("opaque", "", None)]))
    assert found[".wh.tmp"].whiteout_target == "tmp"
    assert found[".wh..wh..opq"].is_opaque and found[".wh..wh..opq"].whiteout_target == ""


def test_root_entry_is_skipped() -> None:
    data = layer_tar([("dir", "./", None), ("file", "./a", 1)])
    assert [e.path for e in entries(data)] == ["a"]


@pytest.mark.parametrize(
    ("compress", "compression"),
    [
        (lambda d: d, Compression.NONE),
        (gzipped, Compression.GZIP),
        pytest.param(
            zstd_compress,
            Compression.ZSTD,
            marks=pytest.mark.skipif(not HAS_ZSTD, reason="zstandard is not installed"),
        ),
    ],
    ids=["plain", "gzip", "zstd"],
)
def test_compressions_give_the_same_entries(compress: object, compression: Compression) -> None:
    data = compress(SAMPLE)  # type: ignore[operator]
    assert detect_compression(data[:4]) is compression
    assert entries(data) == entries(SAMPLE)


@pytest.mark.skipif(HAS_ZSTD, reason="zstandard is installed")
def test_zstd_without_module_is_a_clear_error() -> None:
    data = b"\x28\xb5\x2f\xfd" + b"\x00" * 64
    with pytest.raises(LayerError, match="install the 'zstandard' package"):
        entries(data)


def test_reads_from_a_path(tmp_path: Path) -> None:
    target = tmp_path / "layer.tar.gz"
    target.write_bytes(gzipped(SAMPLE))
    assert list(read_layer(target, digest=sha256(target.read_bytes()))) == entries(SAMPLE)


def test_blob_digest_over_compressed_bytes() -> None:
    blob = gzipped(SAMPLE)
    assert entries(blob, digest=sha256(blob), digest_of="compressed") == entries(SAMPLE)
    with pytest.raises(LayerError, match="digest mismatch"):
        entries(blob, digest=sha256(SAMPLE), digest_of="compressed")


def test_diff_id_over_uncompressed_bytes() -> None:
    blob = gzipped(SAMPLE)
    assert entries(blob, digest=sha256(SAMPLE), digest_of="uncompressed")
    with pytest.raises(LayerError, match="digest mismatch"):
        entries(blob, digest=sha256(blob), digest_of="uncompressed")


def test_blob_digest_and_diff_id_together() -> None:
    blob = gzipped(SAMPLE)
    good = {"digest": sha256(blob), "diff_id": sha256(SAMPLE)}
    assert entries(blob, **good) == entries(SAMPLE)
    with pytest.raises(LayerError, match=f"expected {sha256(SAMPLE + b'x')}"):
        entries(blob, digest=sha256(blob), diff_id=sha256(SAMPLE + b"x"))
    with pytest.raises(LayerError, match=f"expected {sha256(blob + b'x')}"):
        entries(blob, digest=sha256(blob + b"x"), diff_id=sha256(SAMPLE))
    # an uncompressed blob is its own tar: two different digests cannot both hold
    with pytest.raises(LayerError, match="two digests"):
        entries(SAMPLE, digest=sha256(SAMPLE), diff_id=sha256(blob))
    assert entries(SAMPLE, digest=sha256(SAMPLE), diff_id=sha256(SAMPLE)) == entries(SAMPLE)


def test_digest_covers_bytes_after_the_tar_end() -> None:
    padded = SAMPLE + b"\x00" * 10240
    assert entries(padded, digest=sha256(padded), digest_of="uncompressed")
    with pytest.raises(LayerError, match="digest mismatch"):
        entries(padded, digest=sha256(SAMPLE), digest_of="uncompressed")


def test_unsupported_digest_algorithm() -> None:
    with pytest.raises(LayerError, match="unsupported digest"):
        entries(SAMPLE, digest="md5:abc")


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "a/../../b", "/etc/passwd", "..", "./../x"],
)
def test_escaping_names_are_refused(name: str) -> None:
    with pytest.raises(LayerError) as caught:
        entries(raw_tar([("ok", b"1"), (name, b"root:x:0:0")]))
    assert repr(name) in str(caught.value)


def test_nul_in_name_is_refused() -> None:
    with pytest.raises(LayerError, match="NUL"):
        normalize_path("a\x00b")


def test_names_are_normalised() -> None:
    assert normalize_path("./a//b/./c") == "a/b/c"
    assert normalize_path("a/x/../b") == "a/b"
    assert normalize_path("./") == ""


def test_hardlink_escaping_the_root_is_refused() -> None:
    with pytest.raises(LayerError, match="escapes"):
        entries(layer_tar([("hardlink", "a", "../../etc/shadow")]))


def test_file_through_a_symlink_is_refused() -> None:
    data = layer_tar([("symlink", "a", "/etc"), ("file", "a/passwd", 10)])
    with pytest.raises(LayerError, match="beneath the symlink 'a'"):
        entries(data)


def test_whiteout_naming_a_parent_is_refused() -> None:
    with pytest.raises(LayerError, match="names no file"):
        entries(raw_tar([("a/.wh...", b"")]))


def test_entry_count_cap() -> None:
    data = layer_tar([("file", f"f{i}", 0) for i in range(50)])
    assert len(entries(data, max_entries=50)) == 50
    with pytest.raises(LayerError, match="more than 49 entries"):
        entries(data, max_entries=49)


def test_declared_size_cap() -> None:
    data = layer_tar([("file", "a", 600), ("file", "b", 600)])
    with pytest.raises(LayerError, match="more than 1000 bytes"):
        entries(data, max_total_size=1000)


def test_huge_declared_size_stops_before_reading() -> None:
    info = tarfile.TarInfo("bomb")
    info.size = 1 << 40
    header = info.tobuf(format=tarfile.PAX_FORMAT)
    with pytest.raises(LayerError, match="more than"):
        entries(header + b"\x00" * 1024, max_total_size=1 << 30)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],
        lambda d: d[:5],
        lambda d: d[:10] + bytes(b ^ 0xFF for b in d[10:40]) + d[40:],
        lambda d: d[:-8] + b"\x00" * 8,
    ],
    ids=["truncated", "header-only", "corrupt-deflate", "bad-trailer"],
)
def test_damaged_gzip_is_a_layer_error(damage: object) -> None:
    data = damage(gzipped(SAMPLE))  # type: ignore[operator]
    with pytest.raises(LayerError, match="corrupt or truncated gzip"):
        entries(data)


def test_truncated_plain_tar_is_a_layer_error() -> None:
    with pytest.raises(LayerError, match="corrupt or truncated"):
        entries(SAMPLE[:700])


def test_not_a_tar_is_a_layer_error() -> None:
    with pytest.raises(LayerError):
        entries(b"this is not a tar archive at all" * 40)
