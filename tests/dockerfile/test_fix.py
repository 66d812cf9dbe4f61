"""`slimline fix`: one table-driven case per fix (input, expected output), the refusals with
their reasons, and the engine's own guarantees (idempotence, findings gone, BuildKit parses
the result: see tests/dockerfile/fix/harness.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimline.config import Config
from slimline.dockerfile.edits import Edit, OffsetChain, OffsetMap, apply_edits
from slimline.dockerfile.fix import FixReport, fix_text, pipeline, unified_diff
from tests.dockerfile.fix.harness import FakeRegistry, Fixer, fix

# (rule, Dockerfile, the fixed Dockerfile): only the rule is selected.
FIXES: list[tuple[str, str, str]] = [
    (
        "SL301",
        "FROM alpine:3.20\nRUN apk add curl\n",
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
    ),
    (
        "SL301",
        "FROM alpine:3.20\nRUN apk update && apk add curl\n",
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
    ),
    (
        "SL301",
        "FROM alpine:3.20\nRUN set -e \\\n    && apk update \\\n    && apk add curl\n",
        "FROM alpine:3.20\nRUN set -e \\\n    && apk add --no-cache curl\n",
    ),
    (
        "SL301",
        "FROM alpine:3.20\nRUN apk update\nRUN apk add --no-cache curl\n",
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
    ),
    (
        "SL301",
        "FROM alpine:3.20\nRUN <<EOF\napk update\napk add git\nEOF\n",
        "FROM alpine:3.20\nRUN <<EOF\napk add --no-cache git\nEOF\n",
    ),
    (
        "SL301",
        "FROM alpine:3.20\nRUN apk upgrade && apk add --virtual .deps gcc && apk del .deps\n",
        "FROM alpine:3.20\nRUN apk upgrade --no-cache && apk add --no-cache --virtual .deps gcc && apk del .deps\n",
    ),
    (
        "SL301",
        "FROM alpine:3.20 AS base\nRUN apk update\nFROM base\nRUN apk add curl\n",
        "FROM alpine:3.20 AS base\nFROM base\nRUN apk add --no-cache curl\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends \\\n        curl \\\n        git\n",
        "FROM debian:12\nRUN apt-get update \\\n    && apt-get install -y --no-install-recommends \\\n        curl \\\n        git \\\n    && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y --no-install-recommends curl\n",
        "FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y --no-install-recommends curl && \\\n    rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL302",
        "FROM debian:12\r\nRUN apt-get update \\\r\n  && apt-get install -y --no-install-recommends curl\r\n",
        "FROM debian:12\r\nRUN apt-get update \\\r\n  && apt-get install -y --no-install-recommends curl \\\r\n  && rm -rf /var/lib/apt/lists/*\r\n",
    ),
    (
        "SL302",
        "# escape=`\nFROM debian:12\nRUN apt-get update `\n    && apt-get install -y --no-install-recommends curl\n",
        "# escape=`\nFROM debian:12\nRUN apt-get update `\n    && apt-get install -y --no-install-recommends curl `\n    && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\napt-get install -y --no-install-recommends curl\nEOF\n",
        "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\napt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\nEOF\n",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl; \\\n    echo done # all set\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl; \\\n    echo done && \\\n    rm -rf /var/lib/apt/lists/* # all set\n",
    ),
    (
        "SL303",
        "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* && apt-get clean\n",
    ),
    (
        "SL304",
        "FROM fedora:40\nRUN dnf install -y curl\n",
        "FROM fedora:40\nRUN dnf install -y curl && dnf clean all\n",
    ),
    (
        "SL304",
        "FROM fedora:40\nUSER 1000\nRUN sudo dnf install -y curl && \\\n    sudo dnf install -y git\n",
        "FROM fedora:40\nUSER 1000\nRUN sudo dnf install -y curl && \\\n    sudo dnf install -y git && \\\n    sudo dnf clean all\n",
    ),
    (
        "SL304",
        "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nRUN microdnf install -y curl\n",
        "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nRUN microdnf install -y curl && microdnf clean all\n",
    ),
    (
        "SL305",
        "FROM opensuse/leap:15.6\nRUN zypper --non-interactive install curl\n",
        "FROM opensuse/leap:15.6\nRUN zypper --non-interactive install curl && zypper clean --all\n",
    ),
    (
        "SL306",
        "FROM python:3.12-slim\nRUN pip install flask && python3 -m pip install -r requirements.txt\n",
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask && python3 -m pip install --no-cache-dir -r requirements.txt\n",
    ),
    (
        "SL306",
        "FROM python:3.12-slim\nENV UV_LINK_MODE=copy\nRUN uv pip install --system flask\n",
        "FROM python:3.12-slim\nENV UV_LINK_MODE=copy\nRUN uv pip install --no-cache --system flask\n",
    ),
    (
        "SL306",
        "FROM python:3.12-slim\nENV UV_LINK_MODE=copy\nRUN uv sync --frozen\n",
        "FROM python:3.12-slim\nENV UV_LINK_MODE=copy\nRUN uv sync --no-cache --frozen\n",
    ),
    (
        "SL307",
        "FROM node:20\nRUN npm ci\n",
        "FROM node:20\nRUN npm ci && npm cache clean --force\n",
    ),
    (
        "SL307",
        "FROM node:20\nRUN yarn install --frozen-lockfile\n",
        "FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n",
    ),
    (
        "SL307",
        "FROM node:20\nRUN npm ci && yarn install\n",
        "FROM node:20\nRUN npm ci && yarn install && npm cache clean --force && yarn cache clean\n",
    ),
    (
        "SL308",
        "FROM php:8.3-cli\nRUN composer install --no-dev\n",
        "FROM php:8.3-cli\nRUN composer install --no-dev && composer clear-cache\n",
    ),
    (
        "SL309",
        "FROM continuumio/miniconda3:24.1.2-0\nRUN conda install -y numpy\n",
        "FROM continuumio/miniconda3:24.1.2-0\nRUN conda install -y numpy && conda clean --all --yes\n",
    ),
    (
        "SL310",
        'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /usr/local/bin/app .\nCMD ["app"]\n',
        'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /usr/local/bin/app . && go clean -cache -modcache\nCMD ["app"]\n',
    ),
    (
        "SL401",
        "FROM debian:12\nRUN apt-get update && apt-get install curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL401",
        "FROM debian:12\nRUN apt-get update && apt-get -qq install curl && DEBIAN_FRONTEND=noninteractive apt-get install -y git && rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN apt-get update && apt-get -qq install --no-install-recommends curl && DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends -y git && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL401",
        "FROM ubuntu:24.04\nRUN apt update && yes | aptitude install curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM ubuntu:24.04\nRUN apt update && yes | aptitude install --without-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL402",
        "FROM fedora:40\nRUN dnf install -y curl && dnf clean all\n",
        "FROM fedora:40\nRUN dnf install --setopt=install_weak_deps=False -y curl && dnf clean all\n",
    ),
    (
        "SL402",
        "FROM fedora:40\nRUN dnf -y group install 'Development Tools' && dnf clean all\n",
        "FROM fedora:40\nRUN dnf -y group install --setopt=install_weak_deps=False 'Development Tools' && dnf clean all\n",
    ),
    (
        "SL402",
        "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nRUN microdnf install -y curl && microdnf clean all\n",
        "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nRUN microdnf install --setopt=install_weak_deps=0 -y curl && microdnf clean all\n",
    ),
    (
        "SL403",
        "FROM registry.access.redhat.com/ubi9/ubi:9.4\nRUN dnf install -y curl && yum install -y git && dnf clean all\n",
        "FROM registry.access.redhat.com/ubi9/ubi:9.4\nRUN dnf install --nodocs -y curl && yum install --setopt=tsflags=nodocs -y git && dnf clean all\n",
    ),
    (
        "SL406",
        "FROM alpine:3.20\nRUN apk add --no-cache ruby && gem install bundler && gem update --system\n",
        "FROM alpine:3.20\nRUN apk add --no-cache ruby && gem install --no-document bundler && gem update --no-document --system\n",
    ),
    (
        "SL007",
        'FROM alpine:3.20\nADD app.py /app/\nadd --chown=1000:1000 config /etc/app\nADD ["a b.txt", "/x/"]\n',
        'FROM alpine:3.20\nCOPY app.py /app/\ncopy --chown=1000:1000 config /etc/app\nCOPY ["a b.txt", "/x/"]\n',
    ),
    (
        "SL201",
        "FROM python AS build\nFROM alpine\nCOPY --from=nginx /etc/nginx /etc/nginx\n",
        "FROM python:3.14 AS build\nFROM alpine:3.24\nCOPY --from=nginx:1.29 /etc/nginx /etc/nginx\n",
    ),
    (
        "SL202",
        "FROM --platform=$BUILDPLATFORM golang:latest AS build\nFROM ubuntu:latest\nCOPY --from=nginx:latest /x /x\n",
        "FROM --platform=$BUILDPLATFORM golang:1.27 AS build\nFROM ubuntu:26.04\nCOPY --from=nginx:1.29 /x /x\n",
    ),
    (
        "SL601",
        "FROM python:3.12\n\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM python:3.12\n\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL601",
        "FROM python:3.12\nRUN apt-get -qq update\nWORKDIR /app\nENV LANG=C.UTF-8\nRUN set -ex; apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM python:3.12\nWORKDIR /app\nENV LANG=C.UTF-8\nRUN set -ex; apt-get -qq update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL601",
        "FROM debian:12\nRUN apt-get update\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL601",
        "FROM alpine:3.20\nRUN apk update\nRUN apk add --no-cache curl\n",
        "FROM alpine:3.20\nRUN apk add --no-cache curl\n",
    ),
    (
        "SL601",
        "FROM fedora:40\nRUN dnf makecache\nRUN dnf install -y curl && dnf clean all\n",
        "FROM fedora:40\nRUN dnf install -y curl && dnf clean all\n",
    ),
    (
        "SL602",
        "FROM debian:12\nRUN curl -fsSLo /tmp/tool.bin https://example.com/tool.bin && install /tmp/tool.bin /usr/local/bin/tool\nWORKDIR /app\nRUN echo built \\\n && rm -f /tmp/tool.bin\n",
        "FROM debian:12\nRUN curl -fsSLo /tmp/tool.bin https://example.com/tool.bin && install /tmp/tool.bin /usr/local/bin/tool && rm -f /tmp/tool.bin\nWORKDIR /app\nRUN echo built\n",
    ),
    (
        "SL602",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN rm -rf /var/lib/apt/lists/*\n",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "SL602",
        "FROM debian:12\nRUN git clone https://github.com/o/r /opt/r && make -C /opt/r install\nRUN rm -rf /opt/r && echo ok\n",
        "FROM debian:12\nRUN git clone https://github.com/o/r /opt/r && make -C /opt/r install && rm -rf /opt/r\nRUN echo ok\n",
    ),
]

# (rule, Dockerfile, a fragment of the reason): the file is left as it is.
REFUSALS: list[tuple[str, str, str]] = [
    ("SL301", 'FROM alpine:3.20\nRUN sh -c "apk add curl"\n', "sh -c"),
    ("SL301", 'FROM alpine:3.20\nRUN ["apk", "add", "curl"]\n', "JSON-form"),
    (
        "SL301",
        "FROM alpine:3.20 AS base\nRUN apk update\nFROM base AS build\nRUN apk add gcc\nFROM base\nCOPY --from=build /x /x\n",
        "`apk add` at line 4 uses the index",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN apt-get install -y --no-install-recommends git\n",
        "`apt-get install` at line 3 installs with these lists",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN set +e; apt-get update && apt-get install -y --no-install-recommends curl\n",
        "set +e",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends a || apt-get install -y --no-install-recommends b\n",
        "only on some paths",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl &\n",
        "background",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN <<-EOF\n\tapt-get update\n\tapt-get install -y --no-install-recommends curl\n\tEOF\n",
        "<<-",
    ),
    (
        "SL302",
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl\nRUN ./install-more.sh\n",
        "may install packages",
    ),
    ("SL307", "FROM node:20\nRUN npm ci --cache /tmp/npm-cache\n", "own cache directory"),
    (
        "SL310",
        "FROM golang:1.22\nWORKDIR /src\nCOPY go.* ./\nRUN go mod download\n",
        "go mod download",
    ),
    ("SL310", "FROM golang:1.9\nCOPY . /go/src/app\nRUN go build -o /app app\n", "before 1.11"),
    (
        "SL310",
        'FROM golang:1.22\nCOPY . .\nRUN go build ./...\nCMD ["go", "run", "."]\n',
        "container's command",
    ),
    (
        "SL401",
        "FROM debian:12\nRUN apt-get update && (apt-get install -y a || apt-get install -y b) && rm -rf /var/lib/apt/lists/*\n",
        "only on some paths",
    ),
    (
        "SL601",
        "FROM debian:12\nRUN apt-get update\nUSER app\nRUN apt-get install -y curl\n",
        "USER at line 3",
    ),
    ("SL601", 'FROM debian:12\nRUN apt-get update\nCMD ["bash"]\n', "no later RUN"),
    (
        "SL601",
        "FROM debian:12\nRUN apt-get update\nCOPY sources.list /etc/apt/sources.list\nRUN apt-get install -y curl\n",
        "apt's configuration",
    ),
    (
        "SL601",
        "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt apt-get update\nRUN apt-get install -y curl\n",
        "own flags",
    ),
    (
        "SL601",
        "FROM opensuse/leap:15.6\nRUN zypper refresh\nRUN zypper install -y curl && zypper clean --all\n",
        "zypper",
    ),
    (
        "SL602",
        "FROM debian:12\nCOPY big.bin /opt/big.bin\nRUN rm /opt/big.bin\n",
        "COPY at line 2 added the files",
    ),
    (
        "SL602",
        "FROM debian:12\nRUN curl -o /tmp/x.bin https://example.com/x.bin\nRUN cp /tmp/x.bin /usr/bin/x\nRUN rm /tmp/x.bin\n",
        "uses x.bin",
    ),
    (
        "SL602",
        "FROM debian:12\nWORKDIR /tmp\nRUN curl -o x.bin https://example.com/x.bin\nRUN rm x.bin\n",
        "relative",
    ),
    (
        "SL602",
        "FROM debian:12\nRUN curl -o /tmp/a.bin https://example.com/a.bin\nRUN rm -rf /tmp/a.bin /var/log/foo\n",
        "deletes more than",
    ),
    ("SL201", "FROM someuser/tool\n", "no concrete tag"),
    ("SL201", "ARG BASE=python\nFROM $BASE\n", "build argument"),
    ("SL404", "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", "build context is unknown"),
]


@pytest.mark.parametrize(("rule", "text", "expected"), FIXES)
def test_fix(rule: str, text: str, expected: str) -> None:
    report = fix(text, rule)
    assert report.text == expected
    assert [a.rule for a in report.applied] and {a.rule for a in report.applied} == {rule}
    assert not [s for s in report.skipped if s.rule == rule]


@pytest.mark.parametrize(("rule", "text", "reason"), REFUSALS)
def test_refusal(rule: str, text: str, reason: str) -> None:
    report = fix(text, rule)
    assert report.text == text
    notes = [s.note() for s in report.skipped if s.rule == rule]
    assert any(reason in note for note in notes), notes
    assert all(note.startswith(f"{rule} line ") and ": not fixed: " in note for note in notes)


def test_every_fixable_rule_has_a_case() -> None:
    from slimline.api import rules

    fixable = {rid for rid, info in rules().items() if info.fixable}
    covered = {rule for rule, _, _ in FIXES} | {"SL203", "SL404"}  # both tested below
    assert fixable <= covered, fixable - covered


# --- Every fixable rule together, on realistic files -----------------------------------


PYTHON_WEB = """\
FROM python:3.12

RUN apt-get update
RUN apt-get install -y build-essential curl git

WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
CMD ["python", "app.py"]
"""


def test_update_merged_then_cleaned_up() -> None:
    report = fix(PYTHON_WEB)
    assert report.text == (
        "FROM python:3.12\n"
        "\n"
        "RUN apt-get update && apt-get install --no-install-recommends -y build-essential curl"
        " git && rm -rf /var/lib/apt/lists/*\n"
        "\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        'CMD ["python", "app.py"]\n'
    )
    assert {(a.rule, a.line) for a in report.applied} == {
        ("SL601", 3),
        ("SL401", 4),
        ("SL302", 4),
        ("SL306", 8),
    }
    assert report.passes == 2


def test_comments_blank_lines_and_indentation_are_kept() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "FROM debian:12\n"
        "\n"
        "# tools\n"
        "RUN apt-get update \\\n"
        "\t&& apt-get install -y \\\n"
        "\t\tcurl \\\n"
        "# a comment inside the continuation\n"
        "\t\tgit\n"
        "\n"
        'CMD ["bash"]   \n'
    )
    report = fix(text, "SL302", "SL401")
    assert report.text == (
        "# syntax=docker/dockerfile:1\n"
        "FROM debian:12\n"
        "\n"
        "# tools\n"
        "RUN apt-get update \\\n"
        "\t&& apt-get install --no-install-recommends -y \\\n"
        "\t\tcurl \\\n"
        "# a comment inside the continuation\n"
        "\t\tgit \\\n"
        "\t&& rm -rf /var/lib/apt/lists/*\n"
        "\n"
        'CMD ["bash"]   \n'
    )


def test_fixes_in_one_run_that_touch_the_same_place_wait_for_the_next_pass() -> None:
    text = "FROM node:20\nRUN apt-get update && apt-get install -y --no-install-recommends x && npm ci\n"
    report = fix(text, "SL302", "SL307")
    assert report.text == (
        "FROM node:20\nRUN apt-get update && apt-get install -y --no-install-recommends x && npm ci"
        " && rm -rf /var/lib/apt/lists/* && npm cache clean --force\n"
    )
    assert report.passes == 2


def test_no_newline_at_end_of_file() -> None:
    report = fix("FROM alpine:3.20\nRUN apk add curl", "SL301")
    assert report.text == "FROM alpine:3.20\nRUN apk add --no-cache curl"
    assert report.diff().endswith("\\ No newline at end of file\n")


def test_maintainer_becomes_the_authors_label() -> None:
    text = 'FROM alpine:3.20\nMAINTAINER Jo "The Dev" <jo@example.com> $HOME\nmaintainer x\n'
    report = fix(text, "maintainer")
    assert report.text == (
        "FROM alpine:3.20\n"
        'LABEL org.opencontainers.image.authors="Jo \\"The Dev\\" <jo@example.com> \\$HOME"\n'
        'label org.opencontainers.image.authors="x"\n'
    )
    from tests.dockerfile.oracle import buildkit_view

    view = buildkit_view(report.text)
    assert not isinstance(view, str)
    assert view[1][2] == (
        "org.opencontainers.image.authors",
        '"Jo \\"The Dev\\" <jo@example.com> \\$HOME"',
    )


def test_maintainer_is_left_alone_when_not_selected_or_ignored() -> None:
    text = "FROM alpine:3.20\nMAINTAINER jo\n"
    assert fix(text, "SL301").text == text
    config = Config(ignore=("maintainer",))
    assert fix_text(text, "Dockerfile", config).text == text


def test_a_file_that_does_not_parse_is_returned_unchanged() -> None:
    text = "FROM alpine:3.20\nRUN apk add curl\nNOPE\n"
    report = fix_text(text)
    assert report.error is not None and report.error.line == 3
    assert report.text == text and not report.applied


def test_unfixable_rules_are_not_noted() -> None:
    report = fix("FROM python:3.12\nRUN pip install --no-cache-dir flask\n")
    assert "SL101" in {f.rule for f in report.remaining}
    assert "SL101" not in {s.rule for s in report.skipped}


# --- Pinning ---------------------------------------------------------------------------


def test_tags_from_the_registry() -> None:
    registry = FakeRegistry(tags={"localhost:5000/team/app": "2.4.1"})
    text = "FROM localhost:5000/team/app\nFROM localhost:5000/team/app:latest AS two\n"
    report = fix(text, "SL201", "SL202", resolver=registry)
    assert report.text == (
        "FROM localhost:5000/team/app:2.4.1\nFROM localhost:5000/team/app:2.4.1 AS two\n"
    )
    assert "the fake registry" in report.applied[0].description


def test_digest_pinning_after_the_tag() -> None:
    digest = "sha256:" + "ab" * 32
    registry = FakeRegistry(
        tags={"python": "3.14"}, digests={"python:3.14": digest, "alpine:3.20": digest}
    )
    text = "FROM python\nFROM alpine:3.20\nCOPY --from=python /x /x\n"
    report = fix(text, "SL201", "SL203", resolver=registry, pin_digests=True)
    assert report.text == (
        f"FROM python:3.14@{digest}\nFROM alpine:3.20@{digest}\nCOPY --from=python:3.14@{digest} /x /x\n"
    )


def test_digest_pinning_needs_to_be_asked_for() -> None:
    text = "FROM alpine:3.20\n"
    registry = FakeRegistry(digests={"alpine:3.20": "sha256:" + "cd" * 32})
    report = Fixer(rules=("SL203",), resolver=registry).run(text)
    assert report.text == text
    assert "--pin-digest" in report.skipped[0].reason


def test_digest_pinning_without_a_digest_says_why() -> None:
    text = "FROM alpine:3.20\n"
    report = fix(text, resolver=FakeRegistry(), pin_digests=True)
    assert report.text == text
    assert any("no digest" in s.reason for s in report.skipped if s.rule == "SL203")


# --- Node devDependencies (read from the build context) ----------------------------------


def _project(tmp_path: Path, dev: dict[str, str], *, lock: bool = False, **extra: object) -> Path:
    manifest = {"name": "app", "dependencies": {"express": "^4.19.0"}, "devDependencies": dev}
    manifest.update(extra)
    (tmp_path / "package.json").write_text(json.dumps(manifest))
    if lock:
        packages = {"": {"dependencies": manifest["dependencies"], "devDependencies": dev}}
        (tmp_path / "package-lock.json").write_text(
            json.dumps({"lockfileVersion": 3, "packages": packages})
        )
    return tmp_path


NODE = """\
FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm install
COPY . .
CMD ["node", "server.js"]
"""


def test_npm_install_without_a_lock_file(tmp_path: Path) -> None:
    report = fix(NODE, "SL404", context=_project(tmp_path, {"jest": "^29"}))
    assert "RUN npm install --omit=dev\n" in report.text


def test_npm_ci_with_a_matching_lock_file(tmp_path: Path) -> None:
    report = fix(NODE, "SL404", context=_project(tmp_path, {"jest": "^29"}, lock=True))
    assert "RUN npm ci --omit=dev\n" in report.text


def test_stale_or_ignored_lock_file_keeps_npm_install(tmp_path: Path) -> None:
    context = _project(tmp_path, {"jest": "^29"}, lock=True)
    (context / ".dockerignore").write_text("node_modules\npackage-lock.json\n")
    assert "RUN npm install --omit=dev\n" in fix(NODE, "SL404", context=context).text
    (context / ".dockerignore").unlink()
    manifest = json.loads((context / "package.json").read_text())
    manifest["dependencies"]["left-pad"] = "^1"
    (context / "package.json").write_text(json.dumps(manifest))
    assert "RUN npm install --omit=dev\n" in fix(NODE, "SL404", context=context).text


def test_old_node_uses_production(tmp_path: Path) -> None:
    text = NODE.replace("node:20", "node:14")
    report = fix(text, "SL404", context=_project(tmp_path, {"jest": "^29"}))
    assert "RUN npm install --production\n" in report.text


def test_yarn_and_pnpm(tmp_path: Path) -> None:
    context = _project(tmp_path, {"jest": "^29"})
    yarn = NODE.replace("RUN npm install", "RUN yarn install")
    assert "RUN yarn install --production\n" in fix(yarn, "SL404", context=context).text
    pnpm = NODE.replace("RUN npm install", "RUN pnpm install")
    assert "RUN pnpm install --prod\n" in fix(pnpm, "SL404", context=context).text


@pytest.mark.parametrize(
    ("change", "extra", "reason"),
    [
        (("COPY . .", "COPY . .\nRUN npm run build"), {}, "`npm run` at line 6"),
        (("", ""), {"scripts": {"prepare": "husky install"}}, "install or prepare scripts"),
        (
            ('CMD ["node", "server.js"]', 'CMD ["npm", "start"]'),
            {"scripts": {"start": "nodemon server.js"}, "devDependencies": {"nodemon": "^3"}},
            "`start` script",
        ),
        (('CMD ["node", "server.js"]', 'CMD ["npx", "serve"]'), {}, "runs `npx`"),
        (("COPY package*.json ./", "COPY other.json ./"), {}, "no COPY of package.json"),
        (("RUN npm install", "RUN cd sub && npm install"), {}, "after a `cd`"),
    ],
)
def test_devdependencies_needed_later(
    tmp_path: Path, change: tuple[str, str], extra: dict[str, object], reason: str
) -> None:
    text = NODE.replace(*change) if change[0] else NODE
    report = fix(text, "SL404", context=_project(tmp_path, {"jest": "^29"}, **extra))
    assert report.text == text
    assert any(reason in s.reason for s in report.skipped), report.skipped


def test_no_devdependencies_is_always_safe(tmp_path: Path) -> None:
    text = NODE.replace("COPY . .", "COPY . .\nRUN npm run build")
    report = fix(text, "SL404", context=_project(tmp_path, {}))
    assert "RUN npm install --omit=dev\n" in report.text


def test_add_of_an_archive_without_archive_name_stays_add(tmp_path: Path) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        tar.addfile(info, io.BytesIO(b""))
    (tmp_path / "bundle").write_bytes(buffer.getvalue())
    (tmp_path / "app.py").write_text("print(1)\n")
    text = "FROM alpine:3.20\nADD bundle /opt/\nADD app.py /app/\n"
    report = fix(text, "SL007", context=tmp_path)
    assert report.text == "FROM alpine:3.20\nADD bundle /opt/\nCOPY app.py /app/\n"
    assert "archive" in report.skipped[0].reason


# --- The engine's parts ------------------------------------------------------------------


def test_offsets_through_edits() -> None:
    text = "abcdefghij"
    edits = [Edit.insert(2, "XY"), Edit(4, 6, "Z"), Edit.delete(8, 9)]
    new = apply_edits(text, edits)
    assert new == "abXYcdZghj"
    moved = OffsetMap(edits)
    assert [moved.to_new(i) for i in (0, 2, 3, 4, 5, 6, 8, 9)] == [0, 4, 5, 6, 6, 7, 9, 9]
    assert [moved.to_old(i) for i in (0, 2, 3, 4, 6, 7, 9)] == [0, 2, 2, 2, 4, 6, 9]
    chain = OffsetChain()
    chain.add(edits)
    chain.add([Edit.insert(0, "__")])
    assert chain.to_original(2 + 4) == 2


def test_pipeline_chains_transformations() -> None:
    def shout(text: str, path: str) -> FixReport:
        return FixReport(path, text, text.replace("alpine", "ALPINE"))

    def real(text: str, path: str) -> FixReport:
        return fix_text(text, path, Config(select=("SL301",)))

    report = pipeline("FROM alpine:3.20\nRUN apk add x\n", "Dockerfile", [real, shout])
    assert report.original == "FROM alpine:3.20\nRUN apk add x\n"
    assert report.text == "FROM ALPINE:3.20\nRUN apk add --no-cache x\n"
    assert [a.rule for a in report.applied] == ["SL301"]


def test_edit_based_transformations_chain_in() -> None:
    def rebase(text: str, path: str) -> FixReport:
        start = text.index("debian:12")
        edit = Edit(start, start + len("debian:12"), "debian:12-slim")
        return FixReport.from_edits(
            path, text, [edit], "rebase", "debian:12 -> debian:12-slim", ["check the packages"]
        )

    def fixes(text: str, path: str) -> FixReport:
        return fix_text(text, path, Config(select=("SL302",)))

    text = "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends x\n"
    report = pipeline(text, "Dockerfile", [rebase, fixes])
    assert report.text == (
        "FROM debian:12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends x"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    assert [(a.rule, a.line) for a in report.applied] == [("rebase", 1), ("SL302", 2)]
    assert report.notes == ["check the packages"]


def test_unified_diff_format() -> None:
    assert unified_diff("a\n", "a\n", "Dockerfile") == ""
    diff = unified_diff("FROM a\nRUN x\n", "FROM a\nRUN y\n", "Dockerfile")
    assert diff.splitlines()[:3] == ["--- Dockerfile", "+++ Dockerfile", "@@ -1,2 +1,2 @@"]


def test_a_fix_that_leaves_its_finding_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from slimline.dockerfile.fixes import FixResult
    from slimline.dockerfile.rules.package_cache import ApkAddWithoutNoCache

    def useless(self: object, ctx: object, finding: object) -> FixResult:
        return FixResult.of([Edit.insert(0, "# touched\n")], "adds a comment")

    monkeypatch.setattr(ApkAddWithoutNoCache, "fix", useless)
    text = "FROM alpine:3.20\nRUN apk add x\n"
    report = fix_text(text, "Dockerfile", Config(select=("SL301",)))
    assert report.text == text
    assert report.skipped[0].reason == "the rewrite would not remove the finding"


def test_a_fix_that_breaks_the_file_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    from slimline.dockerfile.fixes import FixResult
    from slimline.dockerfile.rules.package_cache import ApkAddWithoutNoCache

    def breaking(self: object, ctx: object, finding: object) -> FixResult:
        return FixResult.of([Edit.insert(0, "BOGUS\n")], "breaks the file")

    monkeypatch.setattr(ApkAddWithoutNoCache, "fix", breaking)
    text = "FROM alpine:3.20\nRUN apk add x\n"
    report = fix_text(text, "Dockerfile", Config(select=("SL301",)))
    assert report.text == text
    assert "would not parse" in report.skipped[0].reason


def test_a_crashing_fix_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from slimline.dockerfile.rules.package_cache import ApkAddWithoutNoCache

    def crashing(self: object, ctx: object, finding: object) -> None:
        raise KeyError("boom")

    monkeypatch.delenv("SLIMLINE_DEBUG", raising=False)
    monkeypatch.setattr(ApkAddWithoutNoCache, "fix", crashing)
    report = fix_text("FROM alpine:3.20\nRUN apk add x\n", "Dockerfile", Config(select=("SL301",)))
    assert "internal error in the fix" in report.skipped[0].reason


def test_every_fixable_rule_has_a_fix_method() -> None:
    from slimline.dockerfile.rules import Rule, load_rules

    for rule_id, cls in load_rules().items():
        assert (cls.fix is not Rule.fix) == cls.fixable, rule_id


def test_ignored_findings_are_not_fixed() -> None:
    text = "FROM alpine:3.20\n# slimline ignore=SL301\nRUN apk add curl\nRUN apk add git\n"
    report = fix(text, "SL301")
    assert report.text == (
        "FROM alpine:3.20\n# slimline ignore=SL301\nRUN apk add curl\nRUN apk add --no-cache git\n"
    )


def test_digest_pinning_keeps_the_other_fixes() -> None:
    digest = "sha256:" + "ef" * 32
    registry = FakeRegistry(digests={"alpine:3.20": digest})
    text = "FROM alpine:3.20\nMAINTAINER jo\nRUN apk add curl\n"
    report = Fixer(resolver=registry, pin_digests=True).run(text)
    assert report.text == (
        f"FROM alpine:3.20@{digest}\n"
        'LABEL org.opencontainers.image.authors="jo"\n'
        "RUN apk add --no-cache curl\n"
    )
