"""registry: pulling from a real registry (Debian's distribution 2.8 on 127.0.0.1).

Images are pushed by the engine (Docker schema 2, gzip layers) or uploaded through the API (OCI
indexes). Anonymous, basic and token authentication run against the real server and a real token
service; so do the faults a real registry can be brought to: refused credentials, missing images,
a blob whose stored bytes changed. A table-driven server stands in only for what no real registry
sends (unknown media types, wrong manifest bytes, 5xx, redirects off the machine), and a bare
socket for a server that never answers.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from slimline.image.read import read_image
from slimline.image.sources import ImageError, open_image
from slimline.image.sources import registry as source
from slimline.image.sources.base import NoSuchImage
from slimline.image.sources.registry import (
    Reference,
    is_loopback_host,
    parse_challenge,
    parse_reference,
)
from tests.support import engine as test_engine
from tests.support.registry import (
    PASSWORD,
    USERNAME,
    Registry,
    StaticServer,
    free_port,
    guard_loopback_only,
    push_image,
    put_manifest,
    silent_listener,
    start_registry,
    upload_blob,
)

from ..builders import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, encode, layer_tar, sha256

DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_GZIP_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REPOSITORY = "slimline/small"

# small, so that pushing it costs little: a scratch image with a few layers, a symlink, a file
# overwritten by a later layer, and a config with environment, command and history
SMALL_IMAGE = {
    "Dockerfile": """\
FROM debian:bookworm-slim AS build
RUN mkdir -p /out/etc /out/bin \\
 && echo 'ID=slimline-test' > /out/etc/os-release \\
 && head -c 30000 /dev/urandom > /out/bin/tool && chmod 755 /out/bin/tool \\
 && ln -s tool /out/bin/alias
FROM scratch
COPY --from=build /out/ /
COPY app.txt /app/app.txt
COPY app.txt /etc/os-release
ENV MODE=registry
CMD ["/bin/tool"]
""",
    "app.txt": "hello registry\n",
}


@dataclass(frozen=True)
class Pushed:
    registry: Registry
    repository: str
    tag: str
    digest: str
    engine_tag: str

    @property
    def reference(self) -> str:
        return f"registry:{self.registry.address}/{self.repository}:{self.tag}"


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No credentials but the test's own: not the user's environment, nor their config.json.
    And no connection beyond 127.0.0.0/8, whatever the code under test would do."""
    guard_loopback_only(monkeypatch)
    monkeypatch.delenv(source.USERNAME_VARIABLE, raising=False)
    monkeypatch.delenv(source.PASSWORD_VARIABLE, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    source.reset()
    yield
    source.reset()


# ---- references, challenges and credentials: no server needed ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "base_url"),
    [
        (
            "127.0.0.1:5000/team/app:1.2",
            Reference("127.0.0.1:5000", "team/app", "1.2", None),
            "https://127.0.0.1:5000",
        ),
        ("localhost/app", Reference("localhost", "app", "latest", None), "https://localhost"),
        (
            "python:3.12",
            Reference("docker.io", "library/python", "3.12", None),
            "https://registry-1.docker.io",
        ),
        (
            "docker.io/team/app",
            Reference("docker.io", "team/app", "latest", None),
            "https://registry-1.docker.io",
        ),
        (
            "index.docker.io/python",
            Reference("docker.io", "library/python", "latest", None),
            "https://registry-1.docker.io",
        ),
        (
            "ghcr.io/org/app@sha256:" + "a" * 64,
            Reference("ghcr.io", "org/app", None, "sha256:" + "a" * 64),
            "https://ghcr.io",
        ),
        (
            "ghcr.io/org/app:1@sha256:" + "b" * 64,
            Reference("ghcr.io", "org/app", "1", "sha256:" + "b" * 64),
            "https://ghcr.io",
        ),
        (
            "[::1]:5000/app:x",
            Reference("[::1]:5000", "app", "x", None),
            "https://[::1]:5000",
        ),
        (
            "http://127.0.0.1:5000/app",
            Reference("127.0.0.1:5000", "app", "latest", None, "http"),
            "http://127.0.0.1:5000",
        ),
        (
            "https://10.1.2.3:5000/app",
            Reference("10.1.2.3:5000", "app", "latest", None, "https"),
            "https://10.1.2.3:5000",
        ),
        (
            "10.1.2.3:5000/app",
            Reference("10.1.2.3:5000", "app", "latest", None),
            "https://10.1.2.3:5000",
        ),
    ],
)
def test_parse_reference(text: str, expected: Reference, base_url: str) -> None:
    reference = parse_reference(text)
    assert reference == expected
    assert reference.base_url == base_url


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("127.0.0.1:5000/App:1", r"names are lowercase"),
        ("127.0.0.1:5000/", r"not an image reference"),
        ("app@sha256:1234", r"not a supported digest"),
        ("app:-bad", r"not a valid tag"),
        ("http://10.1.2.3:5000/app:1", r"plain HTTP is allowed only to this machine"),
        ("http://example.com/app:1", r"plain HTTP is allowed only to this machine"),
    ],
)
def test_parse_reference_rejects(text: str, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        parse_reference(text)


def test_plain_http_off_the_machine_is_refused_before_connecting() -> None:
    started = time.monotonic()
    # 10.1.2.3 is never contacted: the reference is refused while it is parsed
    with pytest.raises(ImageError, match=r"plain HTTP is allowed only to this machine"):
        open_image("registry:http://10.1.2.3:5000/app:1")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:5000", True),
        ("127.1.2.3", True),
        ("localhost:80", True),
        ("LOCALHOST", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("10.0.0.1:5000", False),
        ("128.0.0.1", False),
        ("example.com", False),
        ("127.0.0.1.example.com", False),
        ("[::2]:5000", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_parse_challenge() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:team/app:pull"'
    )
    assert parse_challenge(header) == (
        "bearer",
        {
            "realm": "https://auth.example/token",
            "service": "registry.example",
            "scope": "repository:team/app:pull",
        },
    )
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic", {"realm": "Registry Realm"})
    assert parse_challenge("") == ("", {})


def _docker_config(folder: Path, auths: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"auths": auths}))


def _auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_credentials_come_from_flags_then_environment_then_docker_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reference = parse_reference("127.0.0.1:5000/app")
    assert source.credentials_for(reference) is None
    folder = tmp_path / "docker"
    _docker_config(
        folder,
        {
            "https://127.0.0.1:5000": _auth("from-config", "p1"),
            "https://index.docker.io/v1/": _auth("hub-user", "p2"),
            "other.example": _auth("other", "p3"),
        },
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    assert source.credentials_for(reference) == ("from-config", "p1")
    assert source.credentials_for(parse_reference("python:3")) == ("hub-user", "p2")
    assert source.credentials_for(parse_reference("127.0.0.1:5001/app")) is None
    monkeypatch.setenv(source.USERNAME_VARIABLE, "from-env")
    monkeypatch.setenv(source.PASSWORD_VARIABLE, "p4")
    assert source.credentials_for(reference) == ("from-env", "p4")
    source.configure(username="from-flag", password="p5")
    assert source.credentials_for(reference) == ("from-flag", "p5")
    settings = source.Settings(username="explicit", password="p6")
    assert source.credentials_for(reference, settings) == ("explicit", "p6")


def test_half_credentials_are_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(source.USERNAME_VARIABLE, "someone")
    with pytest.raises(ImageError, match=r"need both SLIMLINE_REGISTRY_USERNAME and"):
        source.credentials_for(parse_reference("127.0.0.1:5000/app"))


def test_broken_docker_config_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert source.credentials_for(parse_reference("127.0.0.1:5000/app")) is None
    _docker_config(tmp_path, {"127.0.0.1:5000": {"auth": "%%%"}})
    assert source.credentials_for(parse_reference("127.0.0.1:5000/app")) is None


def test_configure_validates_the_timeout() -> None:
    with pytest.raises(ValueError, match=r"positive"):
        source.configure(timeout=0)
    assert source.configure(timeout=2.5).timeout == 2.5
    source.reset()
    assert source.current_settings() == source.Settings()


# ---- the real registry -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker_client() -> Any:
    return test_engine.client()


@pytest.fixture(scope="session")
def small_image(docker_client: Any) -> str:
    return test_engine.build("registry-source", SMALL_IMAGE)


def _start(tmp_path_factory: pytest.TempPathFactory, auth: Any) -> Iterator[Registry]:
    registry = start_registry(tmp_path_factory.mktemp(f"registry-{auth}"), auth)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def anonymous_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from _start(tmp_path_factory, "none")


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from _start(tmp_path_factory, "basic")


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    yield from _start(tmp_path_factory, "token")


def _push(registry: Registry, docker_client: Any, image: str) -> Pushed:
    digest = push_image(docker_client, image, registry, REPOSITORY, "v1")
    return Pushed(registry, REPOSITORY, "v1", digest, image)


@pytest.fixture(scope="session")
def anonymous_image(anonymous_registry: Registry, docker_client: Any, small_image: str) -> Pushed:
    return _push(anonymous_registry, docker_client, small_image)


@pytest.fixture(scope="session")
def basic_image(basic_registry: Registry, docker_client: Any, small_image: str) -> Pushed:
    return _push(basic_registry, docker_client, small_image)


@pytest.fixture(scope="session")
def token_image(token_registry: Registry, docker_client: Any, small_image: str) -> Pushed:
    return _push(token_registry, docker_client, small_image)


@pytest.mark.registry
@pytest.mark.engine
def test_pull_matches_the_engine(anonymous_image: Pushed, docker_client: Any) -> None:
    attrs = docker_client.api.inspect_image(anonymous_image.engine_tag)
    with open_image(anonymous_image.reference) as image:
        assert image.name == anonymous_image.reference
        assert image.image_id == attrs["Id"]
        address = anonymous_image.registry.address
        assert image.repo_digests == (f"{address}/{REPOSITORY}@{anonymous_image.digest}",)
        assert list(image.config.diff_ids) == attrs["RootFS"]["Layers"]
        assert "MODE=registry" in image.config.env
        assert image.config.cmd == ("/bin/tool",)
        assert {ref.media_type for ref in image.layers} == {DOCKER_GZIP_LAYER}
        assert all(ref.digest != ref.diff_id for ref in image.layers)
        created = [ref.history.created_by if ref.history else "" for ref in image.layers]
        assert all("COPY" in line for line in created), created
        pulled = read_image(image, capture=lambda path: path == "etc/os-release")
    with open_image(f"docker:{anonymous_image.engine_tag}") as local:
        saved = read_image(local)
    assert pulled.files.files == saved.files.files
    assert pulled.files.read_text("etc/os-release") == "hello registry\n"
    assert pulled.files.resolve("bin/alias") == "bin/tool"
    assert pulled.files.size("bin/tool") == 30000


@pytest.mark.registry
@pytest.mark.engine
def test_pull_by_digest(anonymous_image: Pushed) -> None:
    address = anonymous_image.registry.address
    by_digest = f"registry:{address}/{REPOSITORY}@{anonymous_image.digest}"
    with open_image(by_digest) as image, open_image(anonymous_image.reference) as by_tag:
        assert image.image_id == by_tag.image_id
        assert image.repo_digests == by_tag.repo_digests
        assert [ref.digest for ref in image.layers] == [ref.digest for ref in by_tag.layers]
    missing = "sha256:" + "0" * 64
    with pytest.raises(NoSuchImage, match=r"has no manifest slimline/small@sha256:0+ \(HTTP 404"):
        open_image(f"registry:{address}/{REPOSITORY}@{missing}")


@pytest.mark.registry
@pytest.mark.engine
def test_platform_of_a_single_image_is_checked(anonymous_image: Pushed) -> None:
    with pytest.raises(ImageError, match=r"the image is for linux/amd64, not linux/arm64$"):
        open_image(anonymous_image.reference, platform="linux/arm64")
    with open_image(anonymous_image.reference, platform="linux/amd64") as image:
        assert image.config.platform == "linux/amd64"


@pytest.mark.registry
@pytest.mark.engine
def test_layers_are_not_read_after_close(anonymous_image: Pushed) -> None:
    image = open_image(anonymous_image.reference)
    image.close()
    with pytest.raises(ImageError, match=r"the image was closed before layer 0"):
        list(image.layers[0].entries())


@pytest.mark.registry
@pytest.mark.engine
def test_missing_repository_or_tag(anonymous_image: Pushed) -> None:
    address = anonymous_image.registry.address
    with pytest.raises(NoSuchImage, match=r"no manifest slimline/nothing:v1 \(HTTP 404: "):
        open_image(f"registry:{address}/slimline/nothing:v1")
    with pytest.raises(
        NoSuchImage, match=r"no manifest slimline/small:nope \(HTTP 404: MANIFEST_UNKNOWN"
    ):
        open_image(f"registry:{address}/{REPOSITORY}:nope")


@pytest.mark.registry
@pytest.mark.engine
def test_basic_auth(basic_image: Pushed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"the registry requires a login \(HTTP 401\)"):
        open_image(basic_image.reference)
    source.configure(username=USERNAME, password="wrong")
    with pytest.raises(ImageError, match=r"refused the credentials for 'tester' \(HTTP 401"):
        open_image(basic_image.reference)
    source.reset()
    monkeypatch.setenv(source.USERNAME_VARIABLE, USERNAME)
    monkeypatch.setenv(source.PASSWORD_VARIABLE, PASSWORD)
    with open_image(basic_image.reference) as image:
        assert len(read_image(image).files) > 0
    monkeypatch.delenv(source.USERNAME_VARIABLE)
    monkeypatch.delenv(source.PASSWORD_VARIABLE)
    _docker_config(tmp_path / "docker", {basic_image.registry.address: _auth(USERNAME, PASSWORD)})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    with open_image(basic_image.reference) as image:
        assert image.repo_digests[0].endswith(basic_image.digest)


@pytest.mark.registry
@pytest.mark.engine
def test_bearer_token_auth(token_image: Pushed) -> None:
    token_server = token_image.registry.token_server
    assert token_server is not None
    with pytest.raises(ImageError, match=r"the token service at http://127\.0\.0\.1:\d+/token"):
        open_image(token_image.reference)
    source.configure(username=USERNAME, password="wrong")
    with pytest.raises(ImageError, match=r"refused the credentials for 'tester' \(HTTP 401\)"):
        open_image(token_image.reference)
    source.configure(password=PASSWORD)
    before = len(token_server.requests)
    with open_image(token_image.reference) as image:
        read = read_image(image)
    assert read.files.size("bin/tool") == 30000
    method, fields, user = token_server.requests[before]
    # the basic credentials went to the token service, with the pull scope the registry named
    assert (method, user) == ("GET", USERNAME)
    assert fields["scope"] == [f"repository:{REPOSITORY}:pull"]
    assert fields["service"] == ["slimline-test-registry"]
    # one token served every request of the pull
    assert len(token_server.requests) == before + 1


def _platform_image(
    registry: Registry, repository: str, architecture: str, variant: str | None
) -> dict[str, Any]:
    """Upload a one-layer OCI image for a platform; returns its manifest descriptor."""
    layer = layer_tar([("file", "etc/arch", architecture.encode())])
    config: dict[str, Any] = {
        "architecture": architecture,
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
        "history": [{"created_by": f"ADD {architecture}"}],
    }
    if variant:
        config["variant"] = variant
    config_descriptor = upload_blob(registry, repository, encode(config))
    layer_descriptor = upload_blob(registry, repository, layer)
    manifest = encode(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, **config_descriptor},
            "layers": [{"mediaType": OCI_LAYER, **layer_descriptor}],
        }
    )
    digest = put_manifest(registry, repository, sha256(manifest), manifest, OCI_MANIFEST)
    platform = {"os": "linux", "architecture": architecture}
    if variant:
        platform["variant"] = variant
    return {
        "mediaType": OCI_MANIFEST,
        "digest": digest,
        "size": len(manifest),
        "platform": platform,
    }


def _attestation(registry: Registry, repository: str, subject: str) -> dict[str, Any]:
    """What BuildKit puts next to the images of an index: it must be passed over."""
    statement = upload_blob(registry, repository, b'{"predicateType": "none"}')
    empty = upload_blob(registry, repository, b"{}")
    manifest = encode(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.in-toto+json", **empty},
            "layers": [{"mediaType": "application/vnd.in-toto+json", **statement}],
        }
    )
    digest = put_manifest(registry, repository, sha256(manifest), manifest, OCI_MANIFEST)
    return {
        "mediaType": OCI_MANIFEST,
        "digest": digest,
        "size": len(manifest),
        "platform": {"os": "unknown", "architecture": "unknown"},
        "annotations": {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": subject,
        },
    }


@pytest.mark.registry
@pytest.mark.parametrize("index_type", [OCI_INDEX, DOCKER_LIST])
def test_image_index_picks_the_platform(anonymous_registry: Registry, index_type: str) -> None:
    repository = "slimline/multi-" + ("oci" if index_type == OCI_INDEX else "docker")
    amd64 = _platform_image(anonymous_registry, repository, "amd64", None)
    arm64 = _platform_image(anonymous_registry, repository, "arm64", "v8")
    entries = [amd64, arm64]
    if index_type == OCI_INDEX:
        entries.append(_attestation(anonymous_registry, repository, amd64["digest"]))
    index = encode({"schemaVersion": 2, "mediaType": index_type, "manifests": entries})
    index_digest = put_manifest(anonymous_registry, repository, "multi", index, index_type)
    reference = f"registry:{anonymous_registry.address}/{repository}:multi"

    def architecture(platform: str | None, text: str = reference) -> str:
        with open_image(text, platform=platform) as image:
            files = read_image(image, capture=lambda path: path == "etc/arch").files
            assert image.repo_digests == (
                f"{anonymous_registry.address}/{repository}@{index_digest}",
            )
            assert files.read_text("etc/arch") == image.config.architecture
            return image.config.platform

    assert architecture(None) == "linux/amd64"
    assert architecture("linux/amd64") == "linux/amd64"
    assert architecture("linux/arm64") == "linux/arm64/v8"
    assert architecture("linux/arm64/v8") == "linux/arm64/v8"
    by_digest = f"registry:{anonymous_registry.address}/{repository}@{index_digest}"
    assert architecture("linux/arm64", by_digest) == "linux/arm64/v8"
    with pytest.raises(
        ImageError,
        match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm64/v8\)",
    ):
        open_image(reference, platform="linux/s390x")


def _uploaded_image(
    registry: Registry, repository: str, layer: bytes, layer_media_type: str, diff_id: str
) -> str:
    """An OCI image of one layer uploaded as given; returns its `registry:` reference."""
    config = encode(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    )
    config_descriptor = upload_blob(registry, repository, config)
    layer_descriptor = upload_blob(registry, repository, layer)
    manifest = encode(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, **config_descriptor},
            "layers": [{"mediaType": layer_media_type, **layer_descriptor}],
        }
    )
    put_manifest(registry, repository, "v1", manifest, OCI_MANIFEST)
    return f"registry:{registry.address}/{repository}:v1"


def _unique_layer() -> bytes:
    # random bytes make a blob no other test shares, so corrupting it harms no one else
    return layer_tar([("file", "data/blob", random.randbytes(4096))])


def _read_all(reference: str) -> None:
    with open_image(reference) as image:
        read_image(image)


@pytest.mark.registry
def test_corrupted_layer_fails_its_digest(anonymous_registry: Registry) -> None:
    layer = _unique_layer()
    reference = _uploaded_image(
        anonymous_registry, "slimline/corrupt-tar", layer, OCI_LAYER, sha256(layer)
    )
    _read_all(reference)
    stored = anonymous_registry.blob_data(sha256(layer))
    data = bytearray(stored.read_bytes())
    # a byte of the file's contents: the tar still reads, only the digest can tell
    data[1024] ^= 0xFF
    stored.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=r"layer digest mismatch: expected sha256:"):
        _read_all(reference)


@pytest.mark.registry
def test_recompressed_layer_fails_its_blob_digest(anonymous_registry: Registry) -> None:
    layer = _unique_layer()
    blob = gzip.compress(layer, mtime=0)
    reference = _uploaded_image(
        anonymous_registry, "slimline/corrupt-gzip", blob, OCI_LAYER + "+gzip", sha256(layer)
    )
    _read_all(reference)
    stored = anonymous_registry.blob_data(sha256(blob))
    data = bytearray(stored.read_bytes())
    # another gzip header timestamp: same contents and diff_id, but not the blob pushed
    data[4:8] = (1_700_000_000).to_bytes(4, "little")
    stored.write_bytes(bytes(data))
    with pytest.raises(ImageError, match=rf"layer digest mismatch: expected {sha256(blob)}"):
        _read_all(reference)


@pytest.mark.registry
def test_layer_of_the_wrong_size(anonymous_registry: Registry) -> None:
    layer = _unique_layer()
    reference = _uploaded_image(
        anonymous_registry, "slimline/longer", layer, OCI_LAYER, sha256(layer)
    )
    stored = anonymous_registry.blob_data(sha256(layer))
    stored.write_bytes(stored.read_bytes() + b"\0" * 512)
    with pytest.raises(ImageError, match=r"size mismatch: layer 0 \(sha256:\w+\) is 10752 bytes"):
        _read_all(reference)


@pytest.mark.registry
def test_unsupported_config_media_type(anonymous_registry: Registry) -> None:
    repository = "slimline/artifact"
    config = upload_blob(anonymous_registry, repository, b'{"kind": "not an image"}')
    layer = upload_blob(anonymous_registry, repository, b"payload")
    manifest = encode(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.example.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.example.data", **layer}],
        }
    )
    put_manifest(anonymous_registry, repository, "v1", manifest, OCI_MANIFEST)
    with pytest.raises(
        ImageError, match=r"unsupported config media type 'application/vnd\.example\.config"
    ):
        open_image(f"registry:{anonymous_registry.address}/{repository}:v1")


# ---- what no real registry does ----------------------------------------------------------------


def test_server_that_never_answers_times_out() -> None:
    source.configure(timeout=0.3)
    with silent_listener() as address:
        started = time.monotonic()
        with pytest.raises(ImageError, match=rf"{address} did not answer within 0\.3 s"):
            open_image(f"registry:{address}/app:1")
        assert time.monotonic() - started < 5


def test_connection_refused() -> None:
    address = f"127.0.0.1:{free_port()}"
    with pytest.raises(ImageError, match=rf"cannot connect to {address}: .*refused"):
        open_image(f"registry:{address}/app:1")


def _static(routes: dict[str, tuple[int, dict[str, str], bytes]]) -> StaticServer:
    return StaticServer({"/v2/": (200, {}, b"{}"), **routes})


def test_unknown_manifest_media_type() -> None:
    kind = "application/vnd.example.thing.v1+json"
    body = encode({"schemaVersion": 2, "mediaType": kind, "things": []})
    with (
        _static({"/v2/app/manifests/1": (200, {"Content-Type": kind}, body)}) as server,
        pytest.raises(ImageError, match=r"unsupported manifest media type 'application/vnd"),
    ):
        open_image(f"registry:{server.address}/app:1")


def test_schema1_manifest_is_named() -> None:
    kind = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    body = encode({"schemaVersion": 1, "name": "app", "tag": "1", "fsLayers": []})
    with (
        _static({"/v2/app/manifests/1": (200, {"Content-Type": kind}, body)}) as server,
        pytest.raises(ImageError, match=r"Docker schema 1 manifest"),
    ):
        open_image(f"registry:{server.address}/app:1")


def test_manifest_bytes_that_do_not_match_the_digest() -> None:
    body = encode({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []})
    wanted = "sha256:" + "1" * 64
    routes = {
        f"/v2/app/manifests/{wanted}": (200, {"Content-Type": OCI_MANIFEST}, body),
        "/v2/app/manifests/1": (
            200,
            {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": wanted},
            body,
        ),
    }
    with _static(routes) as server:
        with pytest.raises(ImageError, match=rf"digest mismatch: expected {wanted}"):
            open_image(f"registry:{server.address}/app@{wanted}")
        with pytest.raises(ImageError, match=rf"digest mismatch: the registry says {wanted}"):
            open_image(f"registry:{server.address}/app:1")


def test_server_error() -> None:
    errors = encode({"errors": [{"code": "UNAVAILABLE", "message": "storage is down"}]})
    with (
        _static({"/v2/app/manifests/1": (503, {}, errors)}) as server,
        pytest.raises(
            ImageError, match=r"failed on manifest app:1 \(HTTP 503: UNAVAILABLE: storage is down\)"
        ),
    ):
        open_image(f"registry:{server.address}/app:1")


def test_redirect_to_plain_http_off_the_machine_is_refused() -> None:
    # 192.0.2.1 (TEST-NET-1) is never contacted: the check runs before a request is sent
    redirect = {"Location": "http://192.0.2.1/stolen"}
    with _static({"/v2/app/manifests/1": (307, redirect, b"")}) as server:
        started = time.monotonic()
        with pytest.raises(ImageError, match=r"refusing plain HTTP to 192\.0\.2\.1"):
            open_image(f"registry:{server.address}/app:1")
        assert time.monotonic() - started < 2
        assert server.paths == ["/v2/app/manifests/1"]


def test_layer_count_must_match_the_config() -> None:
    config = encode({"architecture": "amd64", "os": "linux", "rootfs": {"diff_ids": []}})
    layer = b"x" * 10
    manifest = encode(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": sha256(layer), "size": len(layer)}],
        }
    )
    routes = {
        "/v2/app/manifests/1": (200, {"Content-Type": OCI_MANIFEST}, manifest),
        f"/v2/app/blobs/{sha256(config)}": (200, {}, config),
    }
    with (
        _static(routes) as server,
        pytest.raises(ImageError, match=r"lists 1 layers but the config has 0 diff_ids"),
    ):
        open_image(f"registry:{server.address}/app:1")


def test_environment_proxies_are_not_used_for_this_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a proxy would take "127.0.0.1" for its own address: this machine's registry is asked itself
    kind = "application/vnd.example.thing.v1+json"
    with (
        StaticServer({}) as proxy,
        _static({"/v2/app/manifests/1": (200, {"Content-Type": kind}, b"{}")}) as server,
    ):
        for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(variable, f"http://{proxy.address}")
        with pytest.raises(ImageError, match=r"unsupported manifest media type"):
            open_image(f"registry:{server.address}/app:1")
    assert proxy.request_lines == []
    assert server.paths == ["/v2/app/manifests/1"]
