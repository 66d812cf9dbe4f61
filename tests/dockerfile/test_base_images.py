from __future__ import annotations

import re
import tomllib
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimline.dockerfile import base_images
from slimline.dockerfile.base_images import (
    ImageRef,
    classify,
    families,
    is_official,
    is_trusted_publisher,
    latest_known_tag,
    official_names,
    parse_image_ref,
    toolchain_runtime,
    variants,
)


def _raw_data() -> dict[str, Any]:
    text = resources.files("slimline").joinpath("data/base_images.toml").read_text("utf-8")
    return tomllib.loads(text)


def _repository_of(family: str, variant: str | None = None) -> str:
    raw = _raw_data()["families"][family]
    for item in raw["variants"]:
        if (variant is None or item["name"] == variant) and item.get("repositories"):
            return str(item["repositories"][0])
    return str(raw["repositories"][0])


# --------------------------------------------------------------------------------------------
# parse_image_ref
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("python", None, "python", None, None),
        ("python:3.12-slim", None, "python", "3.12-slim", None),
        (
            "python:3.12-slim@sha256:" + "a" * 64,
            None,
            "python",
            "3.12-slim",
            "sha256:" + "a" * 64,
        ),
        ("python@sha256:abc", None, "python", None, "sha256:abc"),
        ("library/python", None, "python", None, None),
        ("docker.io/library/python", None, "python", None, None),
        ("docker.io/python:3", None, "python", "3", None),
        ("index.docker.io/library/python:3", None, "python", "3", None),
        ("registry-1.docker.io/library/node:20", None, "node", "20", None),
        ("docker.io/bitnami/redis:7", None, "bitnami/redis", "7", None),
        ("bitnami/redis", None, "bitnami/redis", None, None),
        ("localhost:5000/x/y:1", "localhost:5000", "x/y", "1", None),
        ("localhost:5000/python", "localhost:5000", "python", None, None),
        ("localhost/python", "localhost", "python", None, None),
        ("gcr.io/distroless/static", "gcr.io", "distroless/static", None, None),
        ("Registry.Example.COM/team/app", "registry.example.com", "team/app", None, None),
        ("myhost:443/library/python", "myhost:443", "library/python", None, None),
        ("python:${PY:-3.12}-slim", None, "python", "${PY:-3.12}-slim", None),
        ("python:${PYTHON_VERSION}", None, "python", "${PYTHON_VERSION}", None),
        ("${REGISTRY}/app:1", "${REGISTRY}", "app", "1", None),
        ("$REGISTRY/python:3.12", "$REGISTRY", "python", "3.12", None),
        ("${BASE_IMAGE}", None, "${BASE_IMAGE}", None, None),
        ("  python:3  ", None, "python", "3", None),
    ],
)
def test_parse_image_ref(
    text: str, registry: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    assert parse_image_ref(text) == ImageRef(registry, repository, tag, digest)


@pytest.mark.parametrize("text", ["", "   ", ":", "@sha256:abc", ":3.12"])
def test_parse_image_ref_rejects_empty(text: str) -> None:
    with pytest.raises(ValueError):
        parse_image_ref(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python", "python"),
        ("docker.io/library/python:3.12", "python:3.12"),
        ("localhost:5000/x/y:1@sha256:abc", "localhost:5000/x/y:1@sha256:abc"),
    ],
)
def test_image_ref_str(text: str, expected: str) -> None:
    assert str(parse_image_ref(text)) == expected


# --------------------------------------------------------------------------------------------
# classify
# --------------------------------------------------------------------------------------------

# (reference, family, variant, version, best option tag or None)
CLASSIFY_CASES = [
    ("python", "python", "full", None, "slim"),
    ("python:latest", "python", "full", None, "slim"),
    ("python:3", "python", "full", "3", "3-slim"),
    ("python:3.12", "python", "full", "3.12", "3.12-slim"),
    ("python:3.12.4", "python", "full", "3.12.4", "3.12.4-slim"),
    ("python:3.12-bookworm", "python", "full", "3.12", "3.12-slim-bookworm"),
    ("python:bookworm", "python", "full", None, "slim-bookworm"),
    ("python:3.13.0rc1", "python", "full", "3.13.0rc1", "3.13.0rc1-slim"),
    ("python:3.12-slim", "python", "slim", "3.12", "3.12-alpine"),
    ("python:3.12-slim-bookworm", "python", "slim", "3.12", "3.12-alpine"),
    ("python:slim", "python", "slim", None, "alpine"),
    ("python:3.12-alpine", "python", "alpine", "3.12", None),
    ("python:3.12-alpine3.20", "python", "alpine", "3.12", None),
    ("docker.io/library/python:3.12", "python", "full", "3.12", "3.12-slim"),
    ("index.docker.io/library/python:3.12-slim", "python", "slim", "3.12", "3.12-alpine"),
    ("public.ecr.aws/docker/library/python:3.12", "python", "full", "3.12", "3.12-slim"),
    ("node", "node", "full", None, "slim"),
    ("node:20", "node", "full", "20", "20-slim"),
    ("node:lts", "node", "full", "lts", "lts-slim"),
    ("node:20-bullseye", "node", "full", "20", "20-bullseye-slim"),
    ("node:20-bullseye-slim", "node", "slim", "20", "20-alpine"),
    ("node:lts-slim", "node", "slim", "lts", "lts-alpine"),
    ("node:22-alpine3.20", "node", "alpine", "22", None),
    ("golang:1.22", "golang", "full", "1.22", "1.22-alpine"),
    ("golang:1.22-bookworm", "golang", "full", "1.22", "1.22-alpine"),
    ("golang:1.22-alpine", "golang", "alpine", "1.22", None),
    ("ruby:3.3", "ruby", "full", "3.3", "3.3-slim"),
    ("debian:bookworm", "debian", "full", None, "bookworm-slim"),
    ("debian:12", "debian", "full", "12", "12-slim"),
    ("debian", "debian", "full", None, "trixie-slim"),
    ("debian:bookworm-20240701", "debian", "full", None, "bookworm-20240701-slim"),
    ("debian:bookworm-slim", "debian", "slim", None, None),
    ("ubuntu:24.04", "ubuntu", "full", "24.04", None),
    ("ubuntu:noble", "ubuntu", "full", None, None),
    ("alpine:3.20", "alpine", "full", "3.20", None),
    ("eclipse-temurin:21", "eclipse-temurin", "jdk", "21", "21-jdk-alpine"),
    ("eclipse-temurin:21-jdk-noble", "eclipse-temurin", "jdk", "21", "21-jdk-alpine"),
    ("eclipse-temurin:21.0.4_7-jre", "eclipse-temurin", "jre", "21.0.4_7", "21.0.4_7-jre-alpine"),
    ("eclipse-temurin:21-jre-alpine", "eclipse-temurin", "jre-alpine", "21", None),
    ("openjdk:17", "openjdk", "jdk", "17", "17-jdk-slim"),
    ("openjdk:11-jre", "openjdk", "jre", "11", "11-jre-slim"),
    ("maven:3.9-eclipse-temurin-21", "maven", "full", "3.9", "3.9-eclipse-temurin-21-alpine"),
    ("gradle:8.10-jdk21", "gradle", "full", "8.10", "8.10-jdk21-alpine"),
    ("php:8.3", "php", "cli", "8.3", "8.3-cli-alpine"),
    ("php:8.3-fpm", "php", "fpm", "8.3", "8.3-fpm-alpine"),
    ("php:8.3-apache", "php", "apache", "8.3", None),
    ("nginx:1.27-alpine", "nginx", "alpine", "1.27", "1.27-alpine-slim"),
    ("postgres:16", "postgres", "full", "16", "16-alpine"),
    ("redis:7", "redis", "full", "7", "7-alpine"),
    ("rust:1.80", "rust", "full", "1.80", "1.80-slim"),
    ("haskell:9.10", "haskell", "full", "9.10", "9.10-slim"),
    ("buildpack-deps:bookworm", "buildpack-deps", "full", None, "bookworm-curl"),
    ("mcr.microsoft.com/dotnet/sdk:8.0", "dotnet-sdk", "full", "8.0", "8.0-alpine"),
    ("mcr.microsoft.com/dotnet/aspnet:8.0", "dotnet-aspnet", "full", "8.0", "8.0-noble-chiseled"),
    (
        "mcr.microsoft.com/dotnet/aspnet:10.0",
        "dotnet-aspnet",
        "full",
        "10.0",
        "10.0-noble-chiseled",
    ),
    # Chiseled images start at .NET 8; older releases only have the alpine variant.
    ("mcr.microsoft.com/dotnet/aspnet:6.0", "dotnet-aspnet", "full", "6.0", "6.0-alpine"),
    ("mcr.microsoft.com/dotnet/core/runtime:3.1", "dotnet-runtime", "full", "3.1", "3.1-alpine"),
    ("mcr.microsoft.com/dotnet/runtime:8.0-alpine", "dotnet-runtime", "alpine", "8.0", None),
    ("rockylinux:9", "rockylinux", "full", "9", "9-minimal"),
    ("almalinux:9", "almalinux", "full", "9", "9-minimal"),
    ("registry.access.redhat.com/ubi9/ubi:9.4-1214", "ubi9", "full", "9.4", "9.4"),
]


@pytest.mark.parametrize(("text", "family", "variant", "version", "best"), CLASSIFY_CASES)
def test_classify(
    text: str, family: str, variant: str, version: str | None, best: str | None
) -> None:
    result = classify(parse_image_ref(text))
    assert result is not None
    assert (result.family, result.variant.name, result.version) == (family, variant, version)
    assert (result.slimmer[0].tag if result.slimmer else None) == best


@pytest.mark.parametrize(
    "text",
    [
        "localhost:5000/python:3.12",  # a private registry, whatever it is called
        "myorg/python:3.12",
        "ghcr.io/someone/python:3.12",
        "python:3.12-windowsservercore",
        "python:no-such-variant",
        "python@sha256:abc",  # pinned by digest only: the variant is unknowable
        "python:${PYTHON_VERSION}",  # the variable could spell any variant
        "python:$TAG",
        "python:3.12-${VARIANT}",
        "${BASE_IMAGE}",
        "${REGISTRY}/python:3.12",
        "$REGISTRY/python:3.12",
        "scratch",
    ],
)
def test_classify_unknown(text: str) -> None:
    assert classify(parse_image_ref(text)) is None


def test_classify_keeps_variables_in_suggestions() -> None:
    result = classify(parse_image_ref("python:${PYTHON_VERSION}-slim"))
    assert result is not None
    assert (result.variant.name, result.version) == ("slim", None)
    assert [o.tag for o in result.slimmer] == ["${PYTHON_VERSION}-alpine"]

    result = classify(parse_image_ref("node:${NODE_VERSION:-20}-bookworm"))
    assert result is not None
    assert result.variant.name == "full"
    assert result.slimmer[0].tag == "${NODE_VERSION:-20}-bookworm-slim"


def test_slimmer_same_libc_first_and_saving() -> None:
    result = classify(parse_image_ref("python:3.12"))
    assert result is not None
    slim, alpine = result.slimmer
    assert (slim.tag, slim.changes_libc) == ("3.12-slim", False)
    assert (alpine.tag, alpine.changes_libc) == ("3.12-alpine", True)
    assert alpine.variant.libc == "musl"
    for option in result.slimmer:
        assert result.variant.uncompressed_bytes is not None
        assert option.variant.uncompressed_bytes is not None
        expected = result.variant.uncompressed_bytes - option.variant.uncompressed_bytes
        assert option.saving_bytes == expected


def test_slimmer_image_keeps_registry_and_maps_separate_repositories() -> None:
    mirror = classify(parse_image_ref("public.ecr.aws/docker/library/node:20"))
    assert mirror is not None
    assert mirror.slimmer[0].image == "public.ecr.aws/docker/library/node:20-slim"

    ubi = classify(parse_image_ref("registry.access.redhat.com/ubi9/ubi:9.4"))
    assert ubi is not None
    assert [o.image for o in ubi.slimmer] == ["registry.access.redhat.com/ubi9/ubi-minimal:9.4"]

    hub = classify(parse_image_ref("redhat/ubi9"))
    assert hub is not None
    assert [o.image for o in hub.slimmer] == ["redhat/ubi9-minimal:latest"]


def test_deprecated_family_is_reported() -> None:
    result = classify(parse_image_ref("openjdk:17-jdk-slim"))
    assert result is not None
    assert result.deprecated
    assert result.replaced_by == "eclipse-temurin"
    assert is_official(parse_image_ref("openjdk:17"))


# --------------------------------------------------------------------------------------------
# official and trusted
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "official", "trusted"),
    [
        ("python", True, True),
        ("python:3.12-slim", True, True),
        ("docker.io/library/python", True, True),
        ("index.docker.io/library/python:3", True, True),
        ("library/nginx", True, True),
        ("public.ecr.aws/docker/library/python:3.12", True, True),
        ("mirror.gcr.io/library/python:3.12", True, True),
        ("openjdk:17", True, True),  # deprecated, still official
        ("scratch", True, True),
        ("localhost:5000/python", False, False),
        ("myregistry.example.com/python", False, False),
        ("notanofficialimage", False, False),
        ("myorg/python", False, False),
        ("bitnami/redis", False, True),
        ("docker.io/bitnami/redis", False, True),
        ("bitnamix/redis", False, False),
        ("gcr.io/distroless/static-debian12", False, True),
        ("gcr.io/someproject/app", False, False),
        ("mcr.microsoft.com/dotnet/sdk:8.0", False, True),
        ("registry.access.redhat.com/ubi9/ubi-minimal", False, True),
        ("cgr.dev/chainguard/static", False, True),
        ("registry.k8s.io/pause:3.9", False, True),
        ("quay.io/prometheus/node-exporter", False, True),
        ("quay.io/someone/tool", False, False),
        ("ghcr.io/someone/tool", False, False),
    ],
)
def test_official_and_trusted(text: str, official: bool, trusted: bool) -> None:
    ref = parse_image_ref(text)
    assert is_official(ref) is official
    assert is_trusted_publisher(ref) is trusted


def test_official_names_list() -> None:
    raw = _raw_data()["official"]
    assert len(raw["names"]) >= 130
    assert len(official_names()) >= 170
    assert len(set(raw["names"])) == len(raw["names"])
    assert not set(raw["names"]) & set(raw["deprecated"])
    for name in official_names():
        assert re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", name), name
    for family in families():
        for repo in _raw_data()["families"][family]["repositories"]:
            if "/" not in repo:
                assert repo in official_names(), repo


def test_trusted_prefixes_are_publishers_not_hosting_services() -> None:
    prefixes = _raw_data()["trusted"]["prefixes"]
    for host in ("ghcr.io", "quay.io", "docker.io", "gcr.io", "public.ecr.aws"):
        assert host not in prefixes


# --------------------------------------------------------------------------------------------
# toolchains and latest
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "runtime"),
    [
        ("golang:1.22", "gcr.io/distroless/static-debian12"),
        ("golang:1.22-alpine", "gcr.io/distroless/static-debian12"),
        ("rust:1.80-slim", "gcr.io/distroless/cc-debian12"),
        ("gcc:14", "gcr.io/distroless/cc-debian12"),
        ("eclipse-temurin:21-jdk", "eclipse-temurin:21-jre"),
        ("eclipse-temurin:21-jdk-noble", "eclipse-temurin:21-jre-noble"),
        ("eclipse-temurin:21-jdk-alpine", "eclipse-temurin:21-jre-alpine"),
        ("eclipse-temurin", "eclipse-temurin:25-jre"),
        ("eclipse-temurin:21-jre", None),
        ("openjdk:17", "eclipse-temurin:17-jre"),
        ("amazoncorretto:21", "eclipse-temurin:21-jre"),
        ("maven:3.9-eclipse-temurin-21", "eclipse-temurin:21-jre"),
        ("maven:3-eclipse-temurin-17-alpine", "eclipse-temurin:17-jre-alpine"),
        ("gradle:8.10-jdk21", "eclipse-temurin:21-jre"),
        ("mcr.microsoft.com/dotnet/sdk:8.0", "mcr.microsoft.com/dotnet/runtime:8.0"),
        ("mcr.microsoft.com/dotnet/sdk:8.0-alpine", "mcr.microsoft.com/dotnet/runtime:8.0-alpine"),
        ("mcr.microsoft.com/dotnet/aspnet:8.0", None),
        ("haskell:9.10-bookworm", "debian:bookworm-slim"),
        ("swift:6.0", "swift:6.0-slim"),
        ("swift:6.0-slim", None),
        ("python:3.12", None),
        ("node:20", None),
        ("myorg/builder:1", None),
        ("golang:${GO_VERSION}-alpine", "gcr.io/distroless/static-debian12"),
        ("eclipse-temurin:${JAVA}-jdk", "eclipse-temurin:${JAVA}-jre"),
    ],
)
def test_toolchain_runtime(text: str, runtime: str | None) -> None:
    assert toolchain_runtime(parse_image_ref(text)) == runtime


def test_latest_known_tag_keeps_the_default_variant() -> None:
    assert latest_known_tag("python") == "3.14"
    assert latest_known_tag("mcr.microsoft.com/dotnet/sdk") == "10.0"
    assert latest_known_tag("no-such-family") is None
    for family in families():
        tag = latest_known_tag(family)
        assert tag, family
        result = classify(_ref(family, tag))
        assert result is not None, (family, tag)
        assert result.variant.name == variants(family)[0].name, (family, tag)


def _ref(family: str, tag: str) -> ImageRef:
    return parse_image_ref(f"{_repository_of(family, variants(family)[0].name)}:{tag}")


# --------------------------------------------------------------------------------------------
# the data file
# --------------------------------------------------------------------------------------------


def test_every_variant_has_a_sourced_and_dated_figure() -> None:
    all_variants = variants()
    assert len(all_variants) >= 60
    for variant in all_variants:
        where = f"{variant.family}/{variant.name}"
        assert variant.source.startswith("https://"), where
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", variant.date), where
        assert variant.libc in {"glibc", "musl"}, where
        if variant.approximate:
            assert variant.note, f"{where}: approximate figures must say how they were made"
        else:
            assert variant.uncompressed_bytes is not None, where
        for size in (variant.uncompressed_bytes, variant.compressed_bytes):
            if size is not None:
                assert size % 1_000_000 == 0, f"{where}: round to MB"
        if variant.uncompressed_bytes and variant.compressed_bytes:
            assert variant.compressed_bytes < variant.uncompressed_bytes, where


def test_every_pattern_compiles() -> None:
    data = _raw_data()
    macros = data["meta"]["macros"]
    for name, family in data["families"].items():
        local: dict[str, str] = {**macros, "V": family.get("version", "")}

        def expand(match: re.Match[str], local: dict[str, str] = local) -> str:
            return local[match.group(1)]

        for variant in family["variants"]:
            expanded = re.sub(r"\{\{([A-Z_]+)\}\}", expand, variant["pattern"])
            assert "{{" not in expanded, (name, variant["name"])
            compiled = re.compile(expanded)
            assert compiled.pattern.startswith("^") and compiled.pattern.endswith("$")


def test_required_families_are_present() -> None:
    required = {
        "python", "node", "golang", "ruby", "openjdk", "eclipse-temurin", "amazoncorretto",
        "php", "debian", "ubuntu", "rust", "perl", "nginx", "httpd", "postgres", "mysql",
        "mariadb", "redis", "elixir", "erlang", "gradle", "maven", "dotnet-sdk",
        "dotnet-runtime", "dotnet-aspnet", "haskell", "julia", "r-base", "buildpack-deps",
        "fedora", "centos", "rockylinux", "almalinux", "alpine", "ubi9",
    }  # fmt: skip
    assert required <= set(families())
    assert _raw_data()["families"]["openjdk"]["deprecated"] is True


def _examples() -> list[tuple[str, str, str]]:
    cases = []
    for family, raw in _raw_data()["families"].items():
        for variant in raw["variants"]:
            cases.append((family, variant["name"], variant["example"]))
    return cases


@pytest.mark.parametrize(("family", "variant", "example"), _examples())
def test_example_classifies_as_its_variant(family: str, variant: str, example: str) -> None:
    ref = parse_image_ref(f"{_repository_of(family, variant)}:{example}")
    result = classify(ref)
    assert result is not None
    assert (result.family, result.variant.name) == (family, variant)


def test_declared_slimmer_variants_are_smaller() -> None:
    for family, raw in _raw_data()["families"].items():
        sizes = {v["name"]: v.get("uncompressed") for v in raw["variants"]}
        for variant in raw["variants"]:
            for other in variant["slimmer"]:
                if sizes[variant["name"]] and sizes[other]:
                    assert sizes[other] < sizes[variant["name"]], (family, variant["name"], other)


def _references_to_check() -> list[str]:
    refs = []
    for family, variant, example in _examples():
        repository = _repository_of(family, variant)
        refs += [f"{repository}:{example}", f"{repository}:latest", repository]
    return refs


@pytest.mark.parametrize("text", _references_to_check())
def test_suggestions_are_never_the_same_tag_or_bigger(text: str) -> None:
    ref = parse_image_ref(text)
    result = classify(ref)
    if result is None:
        return
    current_size = result.variant.uncompressed_bytes
    for option in result.slimmer:
        assert option.image != f"{ref.name}:{ref.tag or 'latest'}"
        assert option.variant != result.variant
        new_size = option.variant.uncompressed_bytes
        if current_size is not None and new_size is not None:
            assert new_size < current_size
            assert option.saving_bytes == current_size - new_size > 0
        else:
            assert option.saving_bytes is None
        again = classify(parse_image_ref(option.image))
        assert again is not None
        assert (again.family, again.variant) == (result.family, option.variant)


def test_data_is_read_once() -> None:
    assert base_images._catalog() is base_images._catalog()


_TOKENS = [*"abcpython0123456789.-_:/@${}", "slim", "alpine", "bookworm", "library/", "3.12"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=16).map("".join))
def test_arbitrary_references_never_crash(text: str) -> None:
    try:
        ref = parse_image_ref(text)
    except ValueError:
        return
    classify(ref)
    is_official(ref)
    is_trusted_publisher(ref)
    toolchain_runtime(ref)


def _one_variant_family(**extra: object) -> dict[str, object]:
    variant = {
        "name": "full",
        "pattern": "^$",
        "tag": [],
        "libc": "glibc",
        "example": "x",
        "source": "https://example.com",
        "date": "2026-01-01",
        **extra,
    }
    return {"families": {"f": {"repositories": ["f"], "variants": [variant]}}}


@pytest.mark.parametrize("extra", [{"since": "eight"}, {"since": 8}, {"shell": "no"}])
def test_variant_keys_are_checked(extra: dict[str, object]) -> None:
    base_images._build_catalog(_one_variant_family(shell=False, since="8.0"))
    with pytest.raises(ValueError):
        base_images._build_catalog(_one_variant_family(**extra))
