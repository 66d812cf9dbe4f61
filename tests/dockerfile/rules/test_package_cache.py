"""package-cache rules (SL301-SL310): table-driven catches, idiomatic files left alone, edges."""

from __future__ import annotations

import pytest

from slimline.dockerfile.rules.package_cache import (
    APK_INDEX_BYTES,
    APT_BINARY_CACHES_BYTES,
    APT_LISTS_BYTES,
    covers,
    norm_path,
)
from tests.dockerfile.rules.harness import run_rule

# (rule, Dockerfile, expected lines, a fragment every message must contain)
CATCHES: list[tuple[str, str, list[int], str]] = [
    # SL301 apk
    ("SL301", "FROM alpine:3.20\nRUN apk add curl\n", [2], "--no-cache"),
    ("SL301", "FROM alpine:3.20\nRUN apk update && apk add curl\n", [2], "apk update"),
    (
        "SL301",
        "FROM alpine:3.20\nRUN echo hi\nRUN set -e; \\\n    apk upgrade; apk add --virtual .b gcc\n",
        [4],
        "apk upgrade",
    ),
    ("SL301", "FROM alpine:3.20\nRUN rm -rf /var/cache/apk/* && apk add curl\n", [2], "--no-cache"),
    ("SL301", "FROM alpine:3.20\nRUN apk update\nRUN apk add --no-cache curl\n", [2], "apk update"),
    # SL302 apt lists
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
        [2],
        "/var/lib/apt/lists",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y curl \\\n && apt-get clean\n",
        [2],
        "`apt-get clean` does not remove them",
    ),
    ("SL302", "FROM ubuntu:24.04\nRUN apt update && apt install -y curl\n", [2], "apt update"),
    (
        "SL302",
        "FROM ubuntu:24.04\nRUN apt-get update\nRUN rm -rf /var/lib/apt/lists/*\n",
        [2],
        "same RUN",
    ),
    (
        "SL302",
        "FROM ubuntu:24.04\nRUN add-apt-repository -y ppa:deadsnakes/ppa && apt-get install -y python3.12\n",
        [2],
        "add-apt-repository",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN rm -rf /var/lib/apt/lists/* && apt-get update && apt-get install -y curl\n",
        [2],
        "rm -rf /var/lib/apt/lists/*",
    ),
    ("SL302", 'FROM debian:12\nRUN ["apt-get", "update"]\n', [2], "apt-get update"),
    (
        "SL302",
        "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n",
        [4],
        "apt-get update",
    ),
    # SL303 apt caches kept once docker-clean is gone
    (
        "SL303",
        "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl "
        "&& rm -rf /var/lib/apt/lists/*\n",
        [3],
        "docker-clean",
    ),
    (
        "SL303",
        "FROM debian:12\nRUN echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' "
        "> /etc/apt/apt.conf.d/docker-clean\nRUN apt install -y curl\n",
        [3],
        "apt install",
    ),
    # SL304 dnf / yum
    ("SL304", "FROM centos:7\nRUN yum install -y httpd\n", [2], "yum clean all"),
    ("SL304", "FROM fedora:40\nRUN dnf -y upgrade && dnf -y install git\n", [2], "dnf clean all"),
    ("SL304", "FROM rockylinux:9\nRUN dnf clean all && dnf install -y git\n", [2], "dnf install"),
    (
        "SL304",
        "FROM registry.access.redhat.com/ubi9/ubi-minimal\nRUN microdnf install -y tar\n",
        [2],
        "microdnf",
    ),
    # SL305 zypper
    ("SL305", "FROM opensuse/leap:15.6\nRUN zypper in -y git\n", [2], "zypper clean --all"),
    (
        "SL305",
        "FROM opensuse/leap:15.6\nRUN zypper --non-interactive install git && zypper clean\n",
        [2],
        "only removes downloaded packages",
    ),
    # SL306 pip
    ("SL306", "FROM python:3.12\nRUN pip install flask\n", [2], "--no-cache-dir"),
    (
        "SL306",
        "FROM python:3.12\nRUN python3 -m pip install -r requirements.txt\n",
        [2],
        "python3 -m pip",
    ),
    (
        "SL306",
        "FROM python:3.12\nENV PIP_NO_CACHE_DIR=\nRUN pip3 install flask\n",
        [3],
        "pip3 install",
    ),
    ("SL306", "FROM python:3.12\nRUN pip install flask; PIP_NO_CACHE_DIR=1\n", [2], "pip install"),
    (
        "SL306",
        "FROM python:3.12\nRUN rm -rf /root/.cache/pip && pip install flask\n",
        [2],
        "~/.cache/pip",
    ),
    (
        "SL306",
        "FROM python:3.12\nENV UV_LINK_MODE=copy\nRUN uv pip install --system flask\n",
        [3],
        "UV_LINK_MODE=copy",
    ),
    (
        "SL306",
        "FROM python:3.12\nRUN UV_LINK_MODE=copy uv sync --frozen\n",
        [2],
        "uv sync",
    ),
    # SL307 npm / yarn
    ("SL307", "FROM node:20\nRUN npm ci --omit=dev\n", [2], "npm cache clean --force"),
    ("SL307", "FROM node:20\nRUN npm install -g pm2\n", [2], "~/.npm"),
    (
        "SL307",
        "FROM node:20\nRUN yarn install --frozen-lockfile --production\n",
        [2],
        "yarn cache clean",
    ),
    ("SL307", "FROM node:20\nRUN yarn --production\n", [2], "`yarn`"),
    ("SL307", "FROM node:20\nRUN yarn global add serve\n", [2], "yarn global"),
    # SL308 composer
    ("SL308", "FROM php:8.3-fpm\nRUN composer install --no-dev\n", [2], "composer clear-cache"),
    # Removing a COMPOSER_HOME that was never set removes nothing.
    (
        "SL308",
        'FROM php:8.3-fpm\nRUN composer install && rm -rf "$COMPOSER_HOME"\n',
        [2],
        "composer clear-cache",
    ),
    (
        "SL308",
        "FROM php:8.3-fpm\nRUN composer global require laravel/installer\n",
        [2],
        "composer global require",
    ),
    # SL309 conda
    (
        "SL309",
        "FROM continuumio/miniconda3\nRUN conda install -y numpy\n",
        [2],
        "conda clean --all",
    ),
    (
        "SL309",
        "FROM continuumio/miniconda3\nRUN conda env create -f env.yml\n",
        [2],
        "conda env create",
    ),
    (
        "SL309",
        "FROM mambaorg/micromamba\nRUN micromamba install -y -f env.yml\n",
        [2],
        "micromamba clean",
    ),
    (
        "SL309",
        "FROM continuumio/miniconda3\nRUN conda install -y numpy && conda clean --index-cache\n",
        [2],
        "pkgs",
    ),
    # SL310 go
    (
        "SL310",
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\n",
        [4],
        "build cache",
    ),
    ("SL310", "FROM golang:1.22\nRUN go mod download\n", [2], "the module cache"),
    (
        "SL310",
        "FROM golang:1.22\nRUN go install example.com/tool@latest && go clean -cache\n",
        [2],
        "module cache (/go/pkg/mod) in",
    ),
]

LEAVES_ALONE: list[tuple[str, str]] = [
    # SL301
    ("SL301", "FROM alpine:3.20\nRUN apk add --no-cache curl\n"),
    ("SL301", "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\n"),
    ("SL301", "FROM alpine:3.20\nRUN --mount=type=cache,target=/etc/apk/cache apk add curl\n"),
    ("SL301", "FROM alpine:3.20\nRUN apk add curl && rm -rf /var/cache/apk/*\n"),
    ("SL301", "FROM alpine:3.20\nRUN apk update && apk add curl && rm -rf /var/cache/apk\n"),
    ("SL301", "FROM alpine:3.20\nRUN apk del curl\n"),
    ("SL301", "FROM alpine:3.20\nRUN apk add --no-network --virtual .rundeps $runDeps\n"),
    (
        "SL301",
        "FROM alpine:3.20 AS build\nRUN apk add gcc\nRUN gcc -o /app main.c\n"
        "FROM scratch\nCOPY --from=build /app /app\n",
    ),
    # SL302: the docker-library idiom, cache mounts, distclean, find -delete
    (
        "SL302",
        "FROM debian:12\nRUN set -eux; \\\n\tapt-get update; \\\n"
        "\tapt-get install -y --no-install-recommends ca-certificates; \\\n"
        "\trm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n"
        "    --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n"
        "    apt-get update && apt-get install -y --no-install-recommends gcc\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update && apt-get install -y x\n",
    ),
    ("SL302", "FROM debian:13\nRUN apt-get update && apt-get install -y x && apt-get distclean\n"),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y x && find /var/lib/apt/lists -type f -delete\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN sh -c 'apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*'\n",
    ),
    (
        "SL302",
        'FROM debian:12\nRUN apt-get update && apt-get install -y x && rm -rf "/var/lib/apt/lists/"*\n',
    ),
    ("SL302", "FROM debian:12\nRUN apt-get install -y --no-install-recommends ./local.deb\n"),
    ("SL302", "FROM ubuntu:24.04\nRUN add-apt-repository -n -y ppa:x/y\n"),
    (
        "SL302",
        "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\n"
        "FROM gcr.io/distroless/cc-debian12\nCOPY --from=build /app /app\n",
    ),
    (
        "SL302",
        'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN apt-get update\n',
    ),
    # SL303: docker-clean untouched, or the BuildKit recipe with its mounts
    (
        "SL303",
        "FROM debian:12\nRUN apt-get update && apt-get install -y x && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL303",
        "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean; "
        "echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache\n"
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n"
        "    --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n"
        "    apt-get update && apt-get install -y --no-install-recommends gcc\n",
    ),
    (
        "SL303",
        "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\n"
        "RUN apt-get update && apt-get install -y x && apt-get clean && rm -rf /var/lib/apt/lists/*\n",
    ),
    # SL304
    ("SL304", "FROM centos:7\nRUN yum install -y httpd && yum clean all\n"),
    ("SL304", "FROM centos:7\nRUN yum install -y httpd; yum clean all\n"),
    ("SL304", "FROM fedora:40\nRUN dnf -y install git && dnf clean all && rm -rf /var/cache/dnf\n"),
    ("SL304", "FROM rockylinux:9\nRUN dnf install -y git && rm -rf /var/cache/{dnf,yum}\n"),
    ("SL304", "FROM fedora:40\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y git\n"),
    ("SL304", "FROM ubi9/ubi-minimal\nRUN microdnf install -y tar && microdnf clean all\n"),
    ("SL304", "FROM fedora:40\nRUN dnf remove -y vim\n"),
    # SL305
    ("SL305", "FROM opensuse/leap:15.6\nRUN zypper in -y git && zypper clean --all\n"),
    ("SL305", "FROM opensuse/leap:15.6\nRUN zypper in -y git && zypper cc -a\n"),
    ("SL305", "FROM opensuse/leap:15.6\nRUN zypper in -y git && rm -rf /var/cache/zypp/*\n"),
    # SL306
    ("SL306", "FROM python:3.12\nRUN pip install --no-cache-dir flask\n"),
    ("SL306", "FROM python:3.12\nRUN pip install --no-cache /wheels/*\n"),
    ("SL306", "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n"),
    ("SL306", "FROM python:3.12\nENV PIP_NO_CACHE_DIR=off\nRUN pip install flask\n"),
    ("SL306", "FROM python:3.12\nENV PIP_NO_CACHE_DIR=0\nRUN pip install flask\n"),
    ("SL306", "FROM python:3.12\nARG PIP_NO_CACHE_DIR=1\nRUN pip install flask\n"),
    ("SL306", "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=1 pip install flask\n"),
    ("SL306", "FROM python:3.12\nRUN export PIP_NO_CACHE_DIR=1 && pip install flask\n"),
    ("SL306", "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=1; pip install flask\n"),
    (
        "SL306",
        "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
    ),
    (
        "SL306",
        "FROM python:3.12\nUSER app\nRUN --mount=type=cache,target=/home/app/.cache pip install flask\n",
    ),
    (
        "SL306",
        "FROM python:3.12\nRUN --mount=type=cache,target=/pipcache pip install --cache-dir /pipcache flask\n",
    ),
    ("SL306", "FROM python:3.12\nRUN pip install flask && pip cache purge\n"),
    ("SL306", "FROM python:3.12\nRUN pip install flask && rm -rf ~/.cache/pip\n"),
    ("SL306", "FROM python:3.12\nRUN pip install flask && rm -rf $HOME/.cache\n"),
    ("SL306", "FROM python:3.12\nRUN pip install --no-index --find-links=/wheels app\n"),
    ("SL306", "FROM python:3.12\nRUN pip install --no-deps /wheels/app-1.0-py3-none-any.whl\n"),
    (
        "SL306",
        "FROM python:3.12\nRUN pip config set global.no-cache-dir false\nRUN pip install flask\n",
    ),
    ("SL306", "FROM python:3.12\nRUN uv pip install --system flask\n"),
    ("SL306", "FROM python:3.12\nENV UV_LINK_MODE=copy UV_NO_CACHE=1\nRUN uv sync\n"),
    (
        "SL306",
        "FROM python:3.12\nENV UV_LINK_MODE=copy\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n",
    ),
    ("SL306", "FROM python:3.12\nRUN pipx install black\n"),
    (
        "SL306",
        "FROM python:3.12 AS build\nRUN python -m venv /venv && /venv/bin/pip install -r req.txt\n"
        "FROM python:3.12-slim\nCOPY --from=build /venv /venv\n",
    ),
    # SL307
    ("SL307", "FROM node:20\nRUN npm ci --omit=dev && npm cache clean --force\n"),
    ("SL307", "FROM node:20\nRUN --mount=type=cache,target=/root/.npm npm ci\n"),
    (
        "SL307",
        "FROM node:20\nUSER node\nRUN --mount=type=cache,target=/home/node/.npm,uid=1000 npm ci\n",
    ),
    ("SL307", "FROM node:20\nRUN npm ci && rm -rf ~/.npm\n"),
    ("SL307", "FROM node:20\nRUN npm ci --cache /tmp/npm && rm -rf /tmp/npm\n"),
    ("SL307", "FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n"),
    (
        "SL307",
        "FROM node:20\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install\n",
    ),
    ("SL307", "FROM node:20\nRUN corepack enable && yarn install --immutable\n"),
    ("SL307", "FROM node:20\nRUN pnpm install --frozen-lockfile --prod\n"),
    ("SL307", "FROM node:20\nRUN npm run build\n"),
    (
        "SL307",
        "FROM node:20 AS build\nRUN npm ci && npm run build\nFROM nginx:alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n",
    ),
    # SL308
    ("SL308", "FROM php:8.3-fpm\nRUN composer install --no-dev --no-cache\n"),
    ("SL308", "FROM php:8.3-fpm\nRUN composer install && composer clear-cache\n"),
    ("SL308", "FROM php:8.3-fpm\nENV COMPOSER_CACHE_DIR=/dev/null\nRUN composer install\n"),
    (
        "SL308",
        "FROM php:8.3-fpm\nRUN --mount=type=cache,target=/root/.composer/cache composer install\n",
    ),
    ("SL308", "FROM php:8.3-fpm\nRUN composer install && rm -rf /root/.composer\n"),
    # docker-library's drupal: a throw-away COMPOSER_HOME, removed by name.
    (
        "SL308",
        'FROM php:8.3-fpm\nRUN export COMPOSER_HOME="$(mktemp -d)"; \\\n'
        '    composer create-project drupal/recommended-project ./; rm -rf "$COMPOSER_HOME"\n',
    ),
    (
        "SL308",
        "FROM composer:2 AS vendor\nRUN composer install --no-dev\nFROM php:8.3-fpm\nCOPY --from=vendor /app/vendor /app/vendor\n",
    ),
    # SL309
    ("SL309", "FROM continuumio/miniconda3\nRUN conda install -y numpy && conda clean -afy\n"),
    (
        "SL309",
        "FROM mambaorg/micromamba\nRUN micromamba install -y -f env.yml && micromamba clean --all --yes\n",
    ),
    (
        "SL309",
        "FROM continuumio/miniconda3\nRUN conda env create -f env.yml && rm -rf /opt/conda/pkgs/*\n",
    ),
    (
        "SL309",
        "FROM continuumio/miniconda3\nRUN --mount=type=cache,target=/opt/conda/pkgs conda install -y numpy\n",
    ),
    # SL310
    (
        "SL310",
        "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/static\nCOPY --from=build /app /app\n",
    ),
    (
        "SL310",
        "FROM golang:1.22\nRUN --mount=type=cache,target=/root/.cache/go-build \\\n"
        "    --mount=type=cache,target=/go/pkg/mod go build -o /app .\n",
    ),
    ("SL310", "FROM golang:1.22\nRUN go build -o /app . && go clean -cache -modcache\n"),
    ("SL310", "FROM golang:1.22\nRUN go build -mod=vendor -o /app . && go clean -cache\n"),
    ("SL310", "FROM golang:1.22\nRUN go get -d -v ./...\n"),
    ("SL310", "FROM golang:1.22\nRUN go version\n"),
]


def _id(case: tuple[object, ...]) -> str:
    return f"{case[0]}:{str(case[1]).splitlines()[-1][:40]}"


@pytest.mark.parametrize(
    ("rule", "text", "lines", "fragment"), CATCHES, ids=[_id(c) for c in CATCHES]
)
def test_catches(rule: str, text: str, lines: list[int], fragment: str) -> None:
    found = run_rule(rule, text)
    assert [f.line for f in found] == lines
    for f in found:
        assert fragment in f.message
        assert f.practice.value == "package-cache"


@pytest.mark.parametrize(("rule", "text"), LEAVES_ALONE, ids=[_id(c) for c in LEAVES_ALONE])
def test_leaves_alone(rule: str, text: str) -> None:
    assert run_rule(rule, text) == []


def test_findings_point_at_the_command() -> None:
    text = "FROM debian:12\nRUN echo start && \\\n    apt-get -qq update && apt-get install -y x\n"
    (finding,) = run_rule("SL302", text)
    assert (finding.line, finding.column) == (3, 5)
    assert finding.end_column == 23
    assert finding.estimated_bytes == APT_LISTS_BYTES
    assert finding.refs == ("DL3009", "DKL-DI-0005")


def test_estimated_bytes() -> None:
    assert run_rule("SL301", "FROM alpine\nRUN apk add x\n")[0].estimated_bytes == APK_INDEX_BYTES
    dockerfile = "FROM debian:12\nRUN rm /etc/apt/apt.conf.d/docker-clean && apt-get install -y x\n"
    assert run_rule("SL303", dockerfile)[0].estimated_bytes == APT_BINARY_CACHES_BYTES
    assert run_rule("SL306", "FROM python\nRUN pip install x\n")[0].estimated_bytes is None


def test_one_finding_per_run() -> None:
    text = (
        "FROM alpine\nRUN apk update && apk add a && apk add b\nRUN pip install a; pip install b\n"
    )
    assert [f.line for f in run_rule("SL301", text)] == [2]
    assert [f.line for f in run_rule("SL306", text)] == [3]


def test_parent_stage_in_the_final_image_counts() -> None:
    text = 'FROM python:3.12 AS base\nRUN pip install flask\nFROM base\nCMD ["flask", "run"]\n'
    assert [f.line for f in run_rule("SL306", text)] == [2]


def test_target_option_changes_the_final_image() -> None:
    from slimline.api import check_text
    from slimline.config import Config

    text = "FROM alpine AS dev\nRUN apk add gdb\nFROM alpine\nRUN apk add --no-cache curl\n"
    result = check_text(text, "Dockerfile", Config(select=("SL301",), target="dev"))
    assert [f.line for f in result.findings] == [2]
    assert run_rule("SL301", text) == []


def test_cleanup_before_the_install_does_not_count() -> None:
    text = "FROM node:20\nRUN npm cache clean --force && npm install -g serve\n"
    assert [f.line for f in run_rule("SL307", text)] == [2]


def test_later_run_cleanup_does_not_count() -> None:
    text = "FROM fedora\nRUN dnf install -y git\nRUN dnf clean all\n"
    assert [f.line for f in run_rule("SL304", text)] == [2]


def test_variables_in_paths() -> None:
    text = (
        "FROM python:3.12\nENV PIP_CACHE_DIR=/var/cache/pip\n"
        "RUN pip install flask && rm -rf $PIP_CACHE_DIR\n"
    )
    assert run_rule("SL306", text) == []
    text = "FROM python:3.12\nRUN pip install $PACKAGES && rm -rf $SOMEWHERE\n"
    assert [f.line for f in run_rule("SL306", text)] == [2]


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine\nRUN\n",
        "FROM alpine\nRUN []\n",
        'FROM alpine\nRUN ["apk"]\n',
        "FROM alpine\nONBUILD RUN apk add curl\n",
        "FROM alpine\nRUN apk add $(cat /pkgs) `echo x` && rm -rf ${X:-/var/cache/apk}/*\n",
        "FROM python\nRUN pip install -r\n",
        "FROM python\nRUN uv\n",
        "FROM golang\nRUN go mod\n",
        "FROM debian\nRUN --mount=type=cache apt-get update\n",
        "FROM debian\nRUN apt-get update && rm -rf /var/lib/apt/lists/{a,b,{c,d}}\n",
        "FROM node\nRUN yarn global\n",
        "FROM continuumio/miniconda3\nRUN conda env\n",
        "FROM $BASE\nRUN composer global\n",
        "FROM alpine\nRUN <<EOF bash\napk add x\nEOF\n",
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    for rule in (
        "SL301",
        "SL302",
        "SL303",
        "SL304",
        "SL305",
        "SL306",
        "SL307",
        "SL308",
        "SL309",
        "SL310",
    ):
        run_rule(rule, text)


@pytest.mark.parametrize(
    ("pattern", "target", "expected"),
    [
        ("/var/lib/apt/lists/*", "/var/lib/apt/lists/x", True),
        ("/var/lib/apt", "/var/lib/apt/lists/x", True),
        ("/var/lib/apt/lists/*.lz4", "/var/lib/apt/lists/x_InRelease", False),
        ("/var/cache/apt/*.bin", "/var/cache/apt/pkgcache.bin", True),
        ("/var/cache/apt/archives", "/var/cache/apt/pkgcache.bin", False),
        ("/~/.cache", "/~/.cache/pip/x", True),
        ("relative/.cache", "/~/.cache/pip/x", False),
    ],
)
def test_covers(pattern: str, target: str, expected: bool) -> None:
    assert covers(pattern, target) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("~/.cache/pip", "/~/.cache/pip"),
        ("$HOME/.npm/", "/~/.npm"),
        ("${HOME}", "/~"),
        ("/root/.cache", "/~/.cache"),
        ("/home/app/.cache/pip/../yarn", "/~/.cache/yarn"),
        ("/roots", "/roots"),
    ],
)
def test_norm_path(text: str, expected: str) -> None:
    assert norm_path(text) == expected
