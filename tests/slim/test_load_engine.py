"""The slim image against the real engine: a Debian image without its documentation, written,
loaded and run, lists the same files (less the documentation) with the same metadata and the
same packages; a source the engine lacks is loaded for the run; the original's tag is never
moved; an --output archive reads back and loads."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slimline.image.read import read_image
from slimline.image.sources import open_image
from slimline.packages.catalog import capture_predicate as catalog_capture
from slimline.packages.catalog import catalog_image
from slimline.slim.archive import SLIMMED_FROM_LABEL, write_image_file
from slimline.slim.errors import SlimError
from slimline.slim.layer import write_layer
from slimline.slim.load import ensure_in_engine, image_id_of, load_image, remove_image, tag_image
from slimline.slim.pkgdb import capture_predicate, rewrite_databases
from tests.support import engine

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM debian:bookworm-slim
COPY hello.txt /opt/app/hello.txt
RUN chmod 0640 /opt/app/hello.txt && chown 1000:1000 /opt/app/hello.txt \\
 && ln /opt/app/hello.txt /opt/app/hello-again.txt && touch -d @1234567890 /opt/app/old.py
ENV GREETING=hello
WORKDIR /opt/app
LABEL org.example.kind=test
CMD ["cat", "hello.txt"]
"""

# every path with what the slim image must preserve, but those the engine makes for each
# container (the root and /etc are modified by it)
LISTING = (
    "find / -xdev -mindepth 1 \\( -path /proc -o -path /sys -o -path /dev -o -path /etc/hostname"
    " -o -path /etc/hosts -o -path /etc/resolv.conf -o -path /etc/mtab -o -path /.dockerenv"
    " \\) -prune -o -printf '%p %y %m %U %G %T@ %s %l\\n' | sort"
)


def capture(path: str) -> bool:
    return catalog_capture()(path) or capture_predicate()(path)


@dataclass
class Slim:
    original: str
    original_id: str
    tag: str
    image_id: str
    archive: Path


@pytest.fixture(scope="module")
def slim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slim]:
    client = engine.client()
    original = engine.build("build-source", {"Dockerfile": DOCKERFILE, "hello.txt": "hi\n"})
    work = tmp_path_factory.mktemp("slim-build")
    tag = f"slimline-test/slim-build:{secrets.token_hex(4)}"
    with open_image(original) as image:
        files = read_image(image, capture).files
        _, packages = catalog_image(files)
        keep = {p for p in files if not p.startswith("usr/share/doc/")}
        edit = rewrite_databases(files, packages, {p.purl for p in packages}, keep)
        layer_path = work / "layer.tar"
        with open(layer_path, "wb") as out:
            layer = write_layer(image, files, keep - edit.drop, edit.replacements, out)
        archive = work / "slim.tar"
        image_id = write_image_file(
            archive,
            raw_config=image.raw_config,
            layer_path=layer_path,
            layer=layer,
            label_from=original,
            tag=None,
            mode="static",
        )
        original_id = str(image.image_id)
    loaded = load_image(client, archive, tag, protect=original_id)
    assert loaded == image_id
    yield Slim(original, original_id, tag, image_id, archive)
    remove_image(client, tag)


def listing(tag: str) -> list[str]:
    lines = []
    for line in engine.run(tag, ["sh", "-c", LISTING]).splitlines():
        path = line.split(" ", 1)[0]
        if path == "/etc":
            continue
        if path.startswith("/var/lib/dpkg/info/") and path.endswith((".list", ".md5sums")):
            # rewritten without the documentation's lines
            line = path
        lines.append(line)
    return lines


def test_the_slim_image_holds_the_same_files_less_the_docs(slim: Slim) -> None:
    before = listing(slim.original)
    after = listing(slim.tag)
    expected = [line for line in before if not line.startswith("/usr/share/doc/")]
    assert any(line.startswith("/usr/share/doc/") for line in before)
    assert "/opt/app/old.py f 644 0 0 1234567890.0000000000 0 " in after
    assert after == expected


def test_the_slim_image_runs_and_keeps_its_config(slim: Slim) -> None:
    client = engine.client()
    output = client.containers.run(slim.tag, remove=True, network_mode="none")
    assert output == b"hi\n"
    attrs = client.images.get(slim.tag).attrs
    original = client.images.get(slim.original).attrs
    config = attrs["Config"]
    assert config["Labels"] == {**original["Config"]["Labels"], SLIMMED_FROM_LABEL: slim.original}
    assert config["Labels"]["org.example.kind"] == "test"
    del config["Labels"], original["Config"]["Labels"]
    assert config == original["Config"]
    assert "GREETING=hello" in config["Env"] and config["WorkingDir"] == "/opt/app"
    assert len(attrs["RootFS"]["Layers"]) == 1


def test_the_package_database_lists_the_same_packages(slim: Slim) -> None:
    query = ["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\\n"]
    assert engine.run(slim.tag, query) == engine.run(slim.original, query)
    listed = engine.run(slim.tag, ["dpkg-query", "-L", "base-files"]).splitlines()
    assert "/etc/debian_version" in listed
    # the copyright file is gone; the README that the slim base never had stays listed
    assert "/usr/share/doc/base-files/copyright" not in listed
    assert "/usr/share/doc/base-files/README" in listed


def test_a_source_the_engine_lacks_is_loaded_for_the_run(slim: Slim, tmp_path: Path) -> None:
    client = engine.client()
    with open_image(f"docker-archive:{slim.archive}") as already:
        assert ensure_in_engine(client, already) == slim.image_id
    # the same image under another config: an image the engine has never seen
    other = tmp_path / "other.tar"
    with open_image(f"docker-archive:{slim.archive}") as image:
        assert image.raw_config is not None
        layer_path = tmp_path / "layer.tar"
        with open(layer_path, "wb") as out:
            (ref,) = image.layers
            with ref.open() as layer:
                out.write(layer.read())
        from slimline.slim.layer import LayerInfo

        info = LayerInfo(str(ref.diff_id), ref.size, 0, 0)
        write_image_file(
            other,
            raw_config=image.raw_config,
            layer_path=layer_path,
            layer=info,
            label_from=secrets.token_hex(8),
            tag=None,
        )
    with open_image(f"docker-archive:{other}") as source:
        assert image_id_of(client, str(source.image_id)) is None
        reference = ensure_in_engine(client, source)
    try:
        assert reference.startswith("slimline-slim/source:")
        assert engine.run(reference, ["cat", "/opt/app/hello.txt"]) == "hi\n"
    finally:
        remove_image(client, reference)
    assert image_id_of(client, reference) is None


def test_the_original_tag_is_never_moved(slim: Slim) -> None:
    client = engine.client()
    with pytest.raises(SlimError, match="original"):
        load_image(client, slim.archive, slim.original, protect=slim.original_id)
    with pytest.raises(SlimError, match="original"):
        tag_image(client, slim.image_id, slim.original, protect=slim.original_id)
    assert image_id_of(client, slim.original) == slim.original_id


def test_an_output_archive_reads_back_and_loads(slim: Slim, tmp_path: Path) -> None:
    client: Any = engine.client()
    tag = f"slimline-test/slim-output:{secrets.token_hex(4)}"
    output = tmp_path / "out.tar"
    with open_image(f"docker-archive:{slim.archive}") as image:
        (ref,) = image.layers
        layer_path = tmp_path / "layer.tar"
        with open(layer_path, "wb") as out, ref.open() as layer:
            out.write(layer.read())
        from slimline.slim.layer import LayerInfo

        info = LayerInfo(str(ref.diff_id), ref.size, 0, 0)
        image_id = write_image_file(
            output,
            raw_config=image.raw_config or b"",
            layer_path=layer_path,
            layer=info,
            label_from=slim.original,
            tag=tag,
            mode="static",
        )
    with open_image(f"docker-archive:{output}:{tag}") as again:
        assert again.image_id == image_id
    try:
        assert load_image(client, output, None) == image_id
        assert image_id_of(client, tag) == image_id
    finally:
        remove_image(client, tag)
