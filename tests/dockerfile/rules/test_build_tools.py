import pytest

from slimline.api import check_text
from slimline.buildtools import tool_kind
from slimline.config import Config
from slimline.dockerfile.pkgmgr import package_name
from slimline.dockerfile.rules.build_tools import estimate_debian_bytes
from slimline.findings import Severity
from tests.dockerfile.rules.harness import lines_of, run_rule

APP = 'COPY . /app\nCMD ["python", "/app/main.py"]\n'

# (Dockerfile, expected lines, words the message must contain)
SL501_CATCHES = [
    (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n" + APP,
        [2],
        ["gcc", "headers libpq-dev", "apt-get purge -y --auto-remove gcc libpq-dev"],
    ),
    (
        "FROM alpine:3.20\nRUN apk add --no-cache build-base cmake\n" + APP,
        [2],
        ["build-base, cmake"],
    ),
    (
        "FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev\n" + APP,
        [2],
        ["gcc", "musl-dev", "apk del .build-deps"],
    ),
    (
        "FROM rockylinux:9\nRUN dnf install -y gcc-c++ make python3-devel\n" + APP,
        [2],
        ["gcc-c++, make"],
    ),
    (
        "FROM centos:7\nRUN yum groupinstall -y 'Development Tools'\n" + APP,
        [2],
        ["@development-tools"],
    ),
    (
        "FROM opensuse/leap\nRUN zypper install -y gcc12 make\n" + APP,
        [2],
        ["zypper remove -y gcc12 make"],
    ),
    (
        "FROM ubuntu:22.04\nRUN apt-get install -y golang-go cargo openjdk-17-jdk\n" + APP,
        [2],
        ["golang-go"],
    ),
    # Removed in a later RUN: still reported, and the message says why it does not help.
    (
        "FROM debian:bookworm-slim\nRUN apt-get install -y gcc make\nRUN make\n"
        "RUN apt-get purge -y gcc make\n" + APP,
        [2],
        ["removing gcc, make in the later RUN at line 4 does not shrink the image"],
    ),
    # autoremove alone keeps what was installed by name.
    (
        "FROM debian:bookworm-slim\nRUN apt-get install -y gcc && pip install x && apt-get autoremove -y\n"
        + APP,
        [2],
        ["`apt-get autoremove` keeps packages that were installed by name"],
    ),
    # The node-gyp toolchain names python3 too.
    (
        "FROM node:20-alpine\nRUN apk add --no-cache python3 make g++\nCOPY . .\nRUN npm ci\n"
        'CMD ["node", "index.js"]\n',
        [2],
        ["python3, make, g++", "node-gyp"],
    ),
    # Without a C++ compiler it is not the node-gyp trio: python3 is not named.
    (
        "FROM node:20-alpine\nRUN apk add --no-cache python3 make\nCOPY . .\nRUN npm ci\n" + APP,
        [2],
        ["final image: make;"],
    ),
    # Package lists in ENV and in a shell variable are expanded.
    (
        'FROM debian:bookworm-slim\nENV BUILD_DEPS="gcc libffi-dev"\n'
        "RUN apt-get install -y $BUILD_DEPS\n" + APP,
        [3],
        ["gcc", "libffi-dev"],
    ),
    (
        "FROM debian:bookworm-slim\nRUN deps='make cmake' && apt-get install -y curl $deps\n" + APP,
        [2],
        ["make, cmake"],
    ),
    # A parent stage of the final stage ships its layers.
    (
        "FROM python:3.12-slim AS base\nRUN apt-get install -y build-essential\nFROM base\n" + APP,
        [2],
        ["build-essential"],
    ),
    # A final stage named "build" still ships its tools.
    ("FROM debian AS build\nRUN apt-get install -y gcc\n" + APP, [2], ["gcc"]),
    # Heredoc RUN.
    (
        "FROM debian:bookworm-slim\nRUN <<EOF\nset -e\napt-get install -y clang-15\nEOF\n" + APP,
        [4],
        ["clang-15"],
    ),
    # A build-dep install.
    (
        "FROM debian:bookworm-slim\nRUN apt-get build-dep -y python3\n" + APP,
        [2],
        ["build-dep python3"],
    ),
]

SL501_LEAVES_ALONE = [
    # Build stage only.
    "FROM golang:1.22 AS build\nRUN apt-get install -y gcc\nRUN go build -o /app .\n"
    'FROM gcr.io/distroless/static\nCOPY --from=build /app /app\nCMD ["/app"]\n',
    # Removed in the same RUN: the virtual-package idiom...
    "FROM python:3.12-alpine\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev libffi-dev \\\n"
    "    && pip install --no-cache-dir cffi && apk del --no-network .build-deps\n" + APP,
    # ...purge by name, by variable, and the docker-library apt-mark idiom.
    "FROM debian:bookworm-slim\nRUN apt-get install -y gcc && make && apt-get purge -y --auto-remove gcc\n"
    + APP,
    "FROM debian:bookworm-slim\nRUN buildDeps='gcc make' && apt-get install -y $buildDeps \\\n"
    "    && make && apt-get purge -y --auto-remove $buildDeps\n" + APP,
    'FROM debian:bookworm-slim\nRUN savedAptMark="$(apt-mark showmanual)"; apt-get update; \\\n'
    "    apt-get install -y --no-install-recommends gcc libssl-dev; make; \\\n"
    "    apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; \\\n"
    "    apt-get purge -y --auto-remove -o APT::AutoRemove::RecommendsImportant=false\n" + APP,
    # The same idiom marking the manual list through xargs (docker-library's ghost).
    'FROM node:20-bookworm-slim\nRUN savedAptMark="$(apt-mark showmanual)"; apt-get update; \\\n'
    "    apt-get install -y --no-install-recommends g++ make python3; npm install; \\\n"
    "    apt-mark showmanual | xargs apt-mark auto > /dev/null; \\\n"
    '    [ -z "$savedAptMark" ] || apt-mark manual $savedAptMark; apt-get purge -y --auto-remove\n'
    + APP,
    "FROM fedora:40\nRUN dnf install -y gcc && make && dnf history undo -y last\n" + APP,
    # Runtime packages, near-misses of tool names.
    "FROM debian:bookworm-slim\nRUN apt-get install -y libpq5 python3 curl gettext-base makedev\n"
    + APP,
    # Development, CI and toolchain images.
    "FROM buildpack-deps:bookworm\nRUN apt-get install -y gcc g++ make autoconf\n",
    "FROM ubuntu:24.04\nRUN apt-get install -y build-essential cmake git\n"
    'ENTRYPOINT ["/bin/bash"]\n',
    'FROM ruby:3.3-alpine\nRUN apk add --no-cache libffi-dev yaml-dev\nCMD ["irb"]\n',
    "FROM debian:bookworm\nRUN apt-get install -y gcc libc6-dev\nCOPY go-wrapper /usr/local/bin/\n",
    "FROM debian:bookworm-slim AS dev\nRUN apt-get install -y gcc\n" + APP,
    # A tool the image runs.
    'FROM alpine:3.20\nRUN apk add --no-cache make\nCOPY Makefile /\nENTRYPOINT ["make"]\n',
    # Not a package install at all.
    "FROM debian:bookworm-slim\nRUN echo apt-get install gcc\n" + APP,
    'FROM debian:bookworm-slim\nRUN ["apt-get", "remove", "-y", "gcc"]\n' + APP,
    "FROM debian:bookworm-slim\nRUN apt-get install -y $(cat /pkgs.txt) $UNKNOWN\n" + APP,
]

SL502_CATCHES = [
    # Used during the build: a warning.
    (
        "FROM python:3.12-slim\nRUN apt-get install -y git\n"
        "RUN git clone https://github.com/x/y /src\n" + APP,
        [2],
        Severity.WARNING,
    ),
    (
        "FROM python:3.12-alpine\nRUN apk add --no-cache git\n"
        "RUN pip install git+https://github.com/x/y\n" + APP,
        [2],
        Severity.WARNING,
    ),
    # Not used by the Dockerfile: maybe at runtime, so info.
    ("FROM alpine:3.20\nRUN apk add --no-cache git openssh\n" + APP, [2], Severity.INFO),
    ("FROM rockylinux:9\nRUN dnf install -y subversion\n" + APP, [2], Severity.INFO),
]

SL502_LEAVES_ALONE = [
    "FROM alpine:3.20 AS src\nRUN apk add --no-cache git && git clone https://x/y /y\n"
    "FROM alpine:3.20\nCOPY --from=src /y /y\n" + APP,
    "FROM debian:bookworm-slim\nRUN apt-get install -y git && git clone https://x/y /y \\\n"
    "    && apt-get purge -y --auto-remove git\n" + APP,
    'FROM alpine:3.20\nRUN apk add --no-cache git\nCOPY run.sh /\nENTRYPOINT ["git"]\n',
    "FROM mcr.microsoft.com/devcontainers/base:bookworm\nRUN apt-get install -y git\n" + APP,
]


@pytest.mark.parametrize(("text", "lines", "words"), SL501_CATCHES)
def test_sl501_catches(text: str, lines: list[int], words: list[str]) -> None:
    found = run_rule("SL501", text)
    assert [f.line for f in found] == lines
    for word in words:
        assert word in found[0].message


@pytest.mark.parametrize("text", SL501_LEAVES_ALONE)
def test_sl501_leaves_alone(text: str) -> None:
    assert run_rule("SL501", text) == []


def test_sl501_points_at_the_first_offending_package() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get install -y curl ca-certificates make gcc\n" + APP
    [finding] = run_rule("SL501", text)
    assert (finding.line, finding.column) == (2, text.splitlines()[1].index("make") + 1)
    assert finding.end_column == finding.column + len("make")


def test_sl501_estimate_from_measured_table() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get install -y gcc make\n" + APP
    [finding] = run_rule("SL501", text)
    assert finding.estimated_bytes == estimate_debian_bytes(["gcc", "make"])
    assert finding.estimated_bytes is not None and 150e6 < finding.estimated_bytes < 250e6


def test_sl501_no_estimate_where_unknown() -> None:
    # Another manager, and a base that already has a compiler.
    assert (
        run_rule("SL501", "FROM alpine:3.20\nRUN apk add --no-cache gcc\n" + APP)[0].estimated_bytes
        is None
    )
    assert (
        run_rule("SL501", "FROM python:3.12\nRUN apt-get install -y gcc\n" + APP)[0].estimated_bytes
        is None
    )


def test_sl501_dev_file_names_are_toolchain_images() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get install -y gcc\n" + APP
    for path in (
        "Dockerfile.dev",
        ".devcontainer/Dockerfile",
        "ci.Dockerfile",
        "docker/Dockerfile.build",
    ):
        assert check_text(text, path, Config(select=("SL501",))).findings == []
    assert check_text(text, "docker/Dockerfile.prod", Config(select=("SL501",))).findings


def test_sl501_odd_input_does_not_crash() -> None:
    for text in [
        "FROM debian\nRUN\n",
        'FROM debian\nSHELL ["powershell", "-c"]\nRUN apt-get install gcc\n' + APP,
        "FROM debian\nONBUILD RUN apt-get install -y gcc\n" + APP,
        "FROM debian\nRUN apt-get install -y 'gcc\n" + APP,
        "FROM debian\nRUN apt-get install -y --virtual\n" + APP,
        "FROM debian\nRUN apk add -t\n" + APP,
    ]:
        run_rule("SL501", text)


@pytest.mark.parametrize(("text", "lines", "severity"), SL502_CATCHES)
def test_sl502_catches(text: str, lines: list[int], severity: Severity) -> None:
    found = run_rule("SL502", text)
    assert [f.line for f in found] == lines
    assert found[0].severity == severity
    assert "build stage" in found[0].message


@pytest.mark.parametrize("text", SL502_LEAVES_ALONE)
def test_sl502_leaves_alone(text: str) -> None:
    assert run_rule("SL502", text) == []


def test_sl501_and_sl502_split_one_install() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get install -y git gcc\n" + APP
    assert lines_of("SL501", text) == [2]
    assert lines_of("SL502", text) == [2]
    assert "git" not in run_rule("SL501", text)[0].message.split(";")[0]


@pytest.mark.parametrize(
    ("manager", "word", "name"),
    [
        ("apt", "gcc=4:12.2.0-3", "gcc"),
        ("apt", "libpq-dev:amd64", "libpq-dev"),
        ("apt", "git/bookworm-backports", "git"),
        ("apk", "gcc~13", "gcc"),
        ("apk", "musl-dev>=1.2", "musl-dev"),
        ("dnf", "gcc-c++-11.4.1-3.el9", "gcc-c++"),
        ("dnf", "python3-devel.x86_64", "python3-devel"),
        ("dnf", "java-17-openjdk-devel", "java-17-openjdk-devel"),
        ("dnf", "java-17-openjdk-devel-17.0.9.0.9-2.el9", "java-17-openjdk-devel"),
        ("zypper", "make>=4", "make"),
    ],
)
def test_package_name(manager: str, word: str, name: str) -> None:
    assert package_name(manager, word) == name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("gcc", "toolchain"),
        ("g++-12", "toolchain"),
        ("openjdk17", "toolchain"),
        ("openjdk-17-jdk-headless", "toolchain"),
        ("openjdk-17-jre-headless", None),
        ("java-17-openjdk-devel", "toolchain"),
        ("java-17-openjdk-headless", None),
        ("linux-headers", "toolchain"),
        ("libssl-dev", "headers"),
        ("postgresql-server-dev-15", "headers"),
        ("git", "vcs"),
        ("libgit2-1.5", None),
        ("make-guile", None),
        ("python3", None),
    ],
)
def test_tool_kind(name: str, kind: str | None) -> None:
    assert tool_kind(name) == kind


def test_estimate_counts_shared_dependencies_once() -> None:
    gcc = estimate_debian_bytes(["gcc"])
    gxx = estimate_debian_bytes(["g++"])
    both = estimate_debian_bytes(["gcc", "g++"])
    assert gcc is not None and gxx is not None and both is not None
    assert both < gcc + gxx
    assert both >= gxx
    assert estimate_debian_bytes(["not-a-package"]) is None
    assert estimate_debian_bytes(["gcc-12"]) == gcc
