"""The streaming tar reader agrees with tarfile on every archive tarfile writes, and fails with
TarFormatError, never anything else, on damaged ones."""

from __future__ import annotations

import contextlib
import io
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slimline.image.tarstream import TarFormatError, TarStream

_NAME_PART = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=60,
)
_NAMES = st.lists(_NAME_PART, min_size=1, max_size=5).map("/".join)
_KINDS = st.sampled_from(
    [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE]
)
_MEMBER = st.tuples(
    _NAMES,
    _KINDS,
    st.binary(max_size=3000),
    _NAMES,
    st.integers(0, 0o7777),
    st.integers(0, 2**21),
)
_FORMATS = st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])


def _archive(members: list[tuple[str, bytes, bytes, str, int, int]], fmt: int) -> bytes | None:
    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
            for name, kind, data, link, mode, uid in members:
                info = tarfile.TarInfo(name)
                info.type = kind
                info.mode = mode
                info.uid = uid
                if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                    info.linkname = link
                if kind == tarfile.REGTYPE:
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                else:
                    tar.addfile(info)
    except ValueError:
        return None  # a name ustar cannot hold
    return buffer.getvalue()


def _ours(data: bytes) -> list[tuple[str, int, int, str, int, int, bytes | None]]:
    reader = TarStream(io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]
    out = []
    for member in reader.members():
        content = reader.read_data() if member.is_file else None
        out.append(
            (
                member.name.rstrip("/"),
                member.type,
                member.size,
                member.linkname,
                member.mode,
                member.uid,
                content,
            )
        )
    return out


def _theirs(data: bytes) -> list[tuple[str, int, int, str, int, int, bytes | None]]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar:
            handle = tar.extractfile(info) if info.isreg() else None
            out.append(
                (
                    info.name,
                    info.type[0],
                    info.size,
                    info.linkname,
                    info.mode,
                    info.uid,
                    handle.read() if handle else None,
                )
            )
    return out


@given(st.lists(_MEMBER, max_size=8), _FORMATS)
def test_agrees_with_tarfile(
    members: list[tuple[str, bytes, bytes, str, int, int]], fmt: int
) -> None:
    data = _archive(members, fmt)
    if data is None:
        return
    assert _ours(data) == _theirs(data)


@given(st.lists(_MEMBER, min_size=1, max_size=4), st.data())
def test_damage_raises_only_tar_format_error(
    members: list[tuple[str, bytes, bytes, str, int, int]], data: st.DataObject
) -> None:
    archive = _archive(members, tarfile.PAX_FORMAT)
    assert archive is not None
    damaged = bytearray(archive)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(damaged)))
    with contextlib.suppress(TarFormatError):
        _ours(bytes(damaged[:cut]))


def test_truncated_and_unterminated_archives() -> None:
    archive = _archive([("a", tarfile.REGTYPE, b"x" * 1000, "", 0o644, 0)], tarfile.PAX_FORMAT)
    assert archive is not None
    with pytest.raises(TarFormatError, match="truncated"):
        _ours(archive[:1000])
    with pytest.raises(TarFormatError, match="no end marker"):
        _ours(archive[: 512 + 1024])
    with pytest.raises(TarFormatError, match="corrupt"):
        _ours(b"not a tar".ljust(512, b"!"))


def test_empty_input_is_not_a_tar() -> None:
    with pytest.raises(TarFormatError, match="no end marker"):
        _ours(b"")


def test_hostile_metadata_sizes_are_refused() -> None:
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = 1 << 30
    header = info.tobuf(tarfile.USTAR_FORMAT)
    with pytest.raises(TarFormatError, match="metadata member"):
        _ours(header)
