"""install-scope rules (SL401-SL406): table-driven catches, idiomatic files left alone, edges."""

from __future__ import annotations

import pytest

from slimline.api import check_text
from slimline.config import Config
from slimline.dockerfile.rules.install_scope import RECOMMENDS_BYTES
from slimline.findings import Severity
from tests.dockerfile.rules.harness import run_rule

# (rule, Dockerfile, expected lines, a fragment every message must contain)
CATCHES: list[tuple[str, str, list[int], str]] = [
    # SL401 apt recommends
    (
        "SL401",
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n",
        [2],
        "--no-install-recommends",
    ),
    ("SL401", "FROM ubuntu:24.04\nRUN apt install -y git\n", [2], "`apt install`"),
    ("SL401", "FROM ubuntu:24.04\nRUN sudo apt-get -y install git\n", [2], "apt-get install"),
    (
        "SL401",
        "FROM debian:12\nRUN apt-get install -y a && \\\n    apt-get install -y b && apt-get install -y c\n",
        [2],
        "and 2 more installs in this RUN",
    ),
    (
        "SL401",
        "FROM debian:12\nRUN apt-get install -y -o APT::Install-Recommends=true x\n",
        [2],
        "recommended",
    ),
    (
        "SL401",
        "FROM debian:12\nARG PACKAGES='curl git'\nRUN apt-get install -y $PACKAGES\n",
        [3],
        "recommended",
    ),
    (
        "SL401",
        "FROM debian:12\nRUN echo 'Acquire::Retries \"3\";' > /etc/apt/apt.conf.d/80retries\n"
        "RUN apt-get install -y curl\n",
        [3],
        "recommended",
    ),
    (
        "SL401",
        "FROM debian:12\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n",
        [4],
        "recommended",
    ),
    ("SL401", 'FROM debian:12\nRUN ["apt-get", "install", "-y", "curl"]\n', [2], "recommended"),
    # SL402 dnf weak deps
    (
        "SL402",
        "FROM fedora:40\nRUN dnf install -y git && dnf clean all\n",
        [2],
        "install_weak_deps=False",
    ),
    ("SL402", "FROM ubi9/ubi-minimal\nRUN microdnf install -y tar\n", [2], "microdnf install"),
    (
        "SL402",
        "FROM fedora:40\nRUN dnf -y group install 'Development Tools'\n",
        [2],
        "dnf group install",
    ),
    # SL404 node devDependencies
    (
        "SL404",
        'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n',
        [4],
        "--omit=dev",
    ),
    ("SL404", "FROM node:20\nRUN npm install\n", [2], "devDependencies"),
    ("SL404", "FROM node:20\nRUN yarn install --frozen-lockfile\n", [2], "--production"),
    ("SL404", "FROM node:20\nRUN yarn\n", [2], "`yarn`"),
    ("SL404", "FROM node:20\nRUN yarn install --immutable\n", [2], "yarn workspaces focus"),
    (
        "SL404",
        "FROM node:20\nRUN yarn set version stable\nENV NODE_ENV=production\nRUN yarn install\n",
        [4],
        "yarn workspaces focus",
    ),
    ("SL404", "FROM node:20\nRUN pnpm install --frozen-lockfile\n", [2], "--prod"),
    (
        "SL404",
        "FROM node:20\nENV NODE_ENV=production\nRUN npm ci --include=dev\n",
        [3],
        "devDependencies",
    ),
    ("SL404", "FROM node:20\nRUN npm ci --production=false\n", [2], "devDependencies"),
    (
        "SL404",
        "FROM node:20\nRUN npm ci && NODE_ENV=production npm run build\n",
        [2],
        "devDependencies",
    ),
    (
        "SL404",
        'FROM node:20 AS base\nRUN npm ci\nFROM base\nCMD ["node", "server.js"]\n',
        [2],
        "devDependencies",
    ),
    # SL405 python dev requirements
    (
        "SL405",
        "FROM python:3.12\nRUN pip install -r requirements-dev.txt\n",
        [2],
        "requirements-dev.txt",
    ),
    (
        "SL405",
        "FROM python:3.12\nRUN pip install -r requirements/test.txt\n",
        [2],
        "development requirements",
    ),
    (
        "SL405",
        "FROM python:3.12\nRUN pip install -rtests/requirements.txt\n",
        [2],
        "tests/requirements.txt",
    ),
    (
        "SL405",
        "FROM python:3.12\nRUN pip install --requirement=dev-requirements.txt\n",
        [2],
        "dev-requirements",
    ),
    ("SL405", "FROM python:3.12\nRUN pip install -e '.[dev,test]'\n", [2], "extras dev, test"),
    ("SL405", 'FROM python:3.12\nRUN pip install "mylib[testing]>=1.0"\n', [2], "extra testing"),
    (
        "SL405",
        "FROM python:3.12\nRUN uv pip install --system -r requirements_lint.txt\n",
        [2],
        "uv pip",
    ),
    ("SL405", "FROM python:3.12\nRUN poetry install --no-root\n", [2], "--only main"),
    ("SL405", "FROM python:3.12\nRUN uv sync --frozen\n", [2], "--no-dev"),
    ("SL405", "FROM python:3.12\nRUN uv sync --only-dev\n", [2], "--only-dev"),
    ("SL405", "FROM python:3.12\nRUN pipenv install --system --dev\n", [2], "pipenv install --dev"),
    # SL406 gem docs
    (
        "SL406",
        "FROM alpine:3.20\nRUN apk add --no-cache ruby && gem install bundler\n",
        [2],
        "--no-document",
    ),
    ("SL406", "FROM debian:12\nRUN gem update --system\n", [2], "gem update"),
]

LEAVES_ALONE: list[tuple[str, str]] = [
    # SL401
    ("SL401", "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n"),
    (
        "SL401",
        "FROM debian:12\nRUN apt-get install --no-install-recommends --no-install-suggests -y curl\n",
    ),
    ("SL401", "FROM debian:12\nRUN apt-get install -y curl --no-install-recommends\n"),
    ("SL401", "FROM debian:12\nRUN apt-get -o APT::Install-Recommends=false install -y curl\n"),
    ("SL401", "FROM debian:12\nRUN apt-get install -y -o APT::Install-Recommends=0 curl\n"),
    ("SL401", "FROM debian:12\nRUN aptitude install -y --without-recommends curl\n"),
    (
        "SL401",
        "FROM debian:12\nRUN echo 'APT::Install-Recommends \"false\";' > /etc/apt/apt.conf.d/99norecommends\n"
        "RUN apt-get install -y curl\n",
    ),
    (
        "SL401",
        'FROM debian:12\nRUN printf \'APT::Install-Recommends "0";\\nAPT::Install-Suggests "0";\\n\' '
        "| tee /etc/apt/apt.conf.d/01norecommend && apt-get install -y curl\n",
    ),
    (
        "SL401",
        "FROM debian:12\nCOPY apt.conf /etc/apt/apt.conf.d/99local\nRUN apt-get install -y curl\n",
    ),
    (
        "SL401",
        "FROM debian:12\nARG APT_OPTS='--no-install-recommends'\nRUN apt-get install -y $APT_OPTS curl\n",
    ),
    ("SL401", "FROM debian:12\nRUN apt-get install -y $INSTALL_FLAGS curl\n"),
    ("SL401", "FROM debian:12\nRUN apt-get install -y\n"),
    ("SL401", "FROM debian:12\nRUN apt-get remove -y curl && apt-get upgrade -y\n"),
    ("SL401", "FROM debian:12\nRUN apt add curl\n"),
    (
        "SL401",
        "FROM debian:12 AS build\nRUN apt-get install -y build-essential\n"
        "FROM debian:12-slim\nCOPY --from=build /app /app\n",
    ),
    # SL402
    ("SL402", "FROM fedora:40\nRUN dnf install -y --setopt=install_weak_deps=False git\n"),
    ("SL402", "FROM fedora:40\nRUN dnf install -y --setopt install_weak_deps=0 git\n"),
    ("SL402", "FROM ubi9/ubi-minimal\nRUN microdnf install -y --setopt=install_weak_deps=0 tar\n"),
    (
        "SL402",
        "FROM fedora:40\nRUN echo -e 'install_weak_deps=False\\ntsflags=nodocs' >> /etc/dnf/dnf.conf\n"
        "RUN dnf install -y git\n",
    ),
    (
        "SL402",
        "FROM fedora:40\nRUN dnf config-manager --setopt=install_weak_deps=False --save\nRUN dnf install -y git\n",
    ),
    ("SL402", "FROM fedora:40\nCOPY dnf.conf /etc/dnf/dnf.conf\nRUN dnf install -y git\n"),
    ("SL402", "FROM centos:7\nRUN yum install -y httpd\n"),
    ("SL402", "FROM fedora:40\nRUN dnf upgrade -y && dnf remove -y vim\n"),
    (
        "SL402",
        "FROM fedora:40 AS build\nRUN dnf install -y gcc\nFROM scratch\nCOPY --from=build /app /app\n",
    ),
    # SL404
    ("SL404", "FROM node:20\nRUN npm ci --omit=dev\n"),
    ("SL404", "FROM node:20\nRUN npm ci --omit dev\n"),
    ("SL404", "FROM node:20\nRUN npm ci --only=production\n"),
    ("SL404", "FROM node:20\nRUN npm install --production\n"),
    ("SL404", "FROM node:20\nRUN NODE_ENV=production; npm ci\n"),
    ("SL404", "FROM node:20\nENV NODE_ENV=production\nRUN npm ci\n"),
    ("SL404", "FROM node:20\nARG NODE_ENV=production\nRUN npm ci\n"),
    ("SL404", "FROM node:20\nRUN NODE_ENV=production npm ci\n"),
    ("SL404", "FROM node:20\nENV npm_config_omit=dev\nRUN npm ci\n"),
    ("SL404", "FROM node:20\nRUN yarn install --production --frozen-lockfile\n"),
    ("SL404", "FROM node:20\nRUN corepack enable\nENV NODE_ENV=production\nRUN yarn install\n"),
    ("SL404", "FROM node:20\nRUN yarn set version classic\nRUN yarn install --production\n"),
    ("SL404", "FROM node:20\nRUN pnpm install --prod --frozen-lockfile\n"),
    ("SL404", "FROM node:20\nRUN pnpm i -P\n"),
    ("SL404", "FROM node:20\nRUN npm ci && npm run build && npm prune --omit=dev\n"),
    (
        "SL404",
        "FROM node:20\nRUN npm ci\nCOPY . .\nRUN npm run build\nRUN npm prune --production\n",
    ),
    (
        "SL404",
        "FROM node:20\nRUN yarn install && yarn build && yarn install --production --ignore-scripts\n",
    ),
    (
        "SL404",
        "FROM node:20\nRUN yarn install --immutable && yarn workspaces focus --all --production\n",
    ),
    ("SL404", "FROM node:20\nRUN pnpm install && pnpm build && pnpm prune --prod\n"),
    ("SL404", "FROM node:20\nRUN npm ci && npm run build && rm -rf node_modules\n"),
    ("SL404", "FROM node:20\nRUN npm install express\n"),
    ("SL404", "FROM node:20\nRUN npm install -g pm2\n"),
    ("SL404", "FROM node:20\nRUN yarn global add serve\n"),
    (
        "SL404",
        "FROM node:20 AS build\nRUN npm ci && npm run build\n"
        "FROM node:20-slim\nCOPY --from=build /app/dist /app\nRUN npm ci --omit=dev\n",
    ),
    ("SL404", "FROM node:20 AS dev\nRUN npm ci\n"),
    ("SL404", 'FROM node:20\nRUN npm install\nCMD ["npm", "run", "dev"]\n'),
    ("SL404", "FROM node:20\nRUN npm install\nCMD npx nodemon server.js\n"),
    ("SL404", 'FROM node:20\nRUN yarn install\nCMD ["yarn", "dev"]\n'),
    # SL405
    ("SL405", "FROM python:3.12\nRUN pip install -r requirements.txt\n"),
    (
        "SL405",
        "FROM python:3.12\nRUN pip install -r requirements/production.txt -c constraints-dev.txt\n",
    ),
    ("SL405", "FROM python:3.12\nRUN pip install 'uvicorn[standard]' 'celery[redis]'\n"),
    ("SL405", "FROM python:3.12\nRUN pip install -r /dev/stdin < requirements.txt\n"),
    ("SL405", "FROM python:3.12\nRUN pip install -r requirements-devices.txt\n"),
    ("SL405", "FROM python:3.12\nRUN pip install -r $REQUIREMENTS\n"),
    ("SL405", "FROM python:3.12\nRUN poetry install --only main --no-root\n"),
    ("SL405", "FROM python:3.12\nRUN poetry install --without dev,test\n"),
    ("SL405", "FROM python:3.12\nRUN uv sync --frozen --no-dev\n"),
    ("SL405", "FROM python:3.12\nENV UV_NO_DEV=1\nRUN uv sync --frozen\n"),
    ("SL405", "FROM python:3.12\nRUN pipenv install --system --deploy\n"),
    (
        "SL405",
        "FROM python:3.12 AS test\nRUN pip install -r requirements-dev.txt && pytest\n"
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir -r requirements.txt\n",
    ),
    ("SL405", "FROM python:3.12 AS dev\nRUN pip install -e '.[dev]'\n"),
    ("SL405", 'FROM python:3.12\nRUN pip install -r requirements-test.txt\nCMD ["pytest"]\n'),
    ("SL405", "FROM python:3.12\nRUN pip install -e '.[dev]'\nCMD uvicorn app:app --reload\n"),
    # SL406
    (
        "SL406",
        "FROM alpine:3.20\nRUN apk add --no-cache ruby && gem install --no-document bundler\n",
    ),
    ("SL406", "FROM alpine:3.20\nRUN gem install -N bundler\n"),
    ("SL406", "FROM alpine:3.20\nRUN gem install bundler --no-ri --no-rdoc\n"),
    ("SL406", "FROM ruby:3.3-slim\nRUN gem install bundler\n"),
    ("SL406", "FROM docker.io/library/ruby:3.3-alpine\nRUN gem install bundler\n"),
    ("SL406", "FROM jruby:9.4\nRUN gem install bundler\n"),
    ("SL406", "FROM ${BASE}\nRUN gem install bundler\n"),
    (
        "SL406",
        "FROM alpine:3.20\nRUN echo 'gem: --no-document' > ~/.gemrc\nRUN gem install bundler\n",
    ),
    (
        "SL406",
        "FROM alpine:3.20\nRUN echo 'gem: --no-document' | tee -a /etc/gemrc && gem install rake\n",
    ),
    ("SL406", "FROM alpine:3.20\nCOPY .gemrc /root/.gemrc\nRUN gem install bundler\n"),
    ("SL406", "FROM alpine:3.20\nRUN bundle install\n"),
    (
        "SL406",
        "FROM alpine:3.20 AS gems\nRUN gem install rake\nFROM alpine:3.20\nCOPY --from=gems /usr/lib/ruby /usr/lib/ruby\n",
    ),
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
        assert f.practice.value == "install-scope"


@pytest.mark.parametrize(("rule", "text"), LEAVES_ALONE, ids=[_id(c) for c in LEAVES_ALONE])
def test_leaves_alone(rule: str, text: str) -> None:
    assert run_rule(rule, text) == []


def test_apt_finding_points_at_install_word_with_measured_bytes() -> None:
    text = "FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y curl python3-pip=23.0.1+dfsg-1 git\n"
    (finding,) = run_rule("SL401", text)
    assert (finding.line, finding.column, finding.end_column) == (3, 13, 20)
    assert finding.estimated_bytes == RECOMMENDS_BYTES["python3-pip"]
    assert finding.refs == ("DL3015", "DS-0029")
    unknown = run_rule("SL401", "FROM debian:12\nRUN apt-get install -y libfoo1\n")
    assert unknown[0].estimated_bytes is None


def test_python_finding_points_at_the_culprit_word() -> None:
    text = "FROM python:3.12\nRUN pip install --no-cache-dir -r requirements.txt -r requirements-dev.txt\n"
    (finding,) = run_rule("SL405", text)
    assert (finding.column, finding.end_column) == (55, 75)


def test_uncertain_python_groups_are_info() -> None:
    assert run_rule("SL405", "FROM python\nRUN poetry install\n")[0].severity is Severity.INFO
    assert run_rule("SL405", "FROM python\nRUN uv sync\n")[0].severity is Severity.INFO
    assert (
        run_rule("SL405", "FROM python\nRUN pip install .[test]\n")[0].severity is Severity.WARNING
    )


def test_dev_dockerfile_names_are_development_images() -> None:
    config = Config(select=("SL404", "SL405"))
    text = "FROM node:20\nRUN npm ci\nRUN pip install -r requirements-dev.txt\n"
    assert check_text(text, "Dockerfile.dev", config).findings == []
    assert check_text(text, ".devcontainer/Dockerfile", config).findings == []
    assert len(check_text(text, "services/api/Dockerfile", config).findings) == 2


class TestRpmDocs:
    """SL403 is opt-in: quiet by default, and quiet on bases that already skip docs."""

    def test_opt_in(self) -> None:
        text = "FROM registry.access.redhat.com/ubi9/ubi\nRUN dnf install -y git\n"
        assert all(f.rule != "SL403" for f in check_text(text).findings)
        (finding,) = run_rule("SL403", text)
        assert "--nodocs" in finding.message
        assert finding.severity is Severity.INFO

    @pytest.mark.parametrize(
        "text",
        [
            "FROM fedora:40\nRUN dnf install -y git\n",
            "FROM quay.io/centos/centos:stream9\nRUN dnf install -y git\n",
            "FROM rockylinux:9\nRUN dnf install -y git\n",
            "FROM ubi9/ubi\nRUN dnf install -y --nodocs git\n",
            "FROM ubi9/ubi\nRUN dnf install -y --setopt=tsflags=nodocs git\n",
            "FROM ubi9/ubi\nRUN echo tsflags=nodocs >> /etc/dnf/dnf.conf && dnf install -y git\n",
            "FROM ubi9/ubi\nRUN dnf remove -y git\n",
        ],
    )
    def test_leaves_alone(self, text: str) -> None:
        assert run_rule("SL403", text) == []


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian\nRUN\n",
        'FROM debian\nRUN ["apt-get"]\n',
        "FROM debian\nRUN apt-get install\n",
        "FROM debian\nRUN apt-get install -o\n",
        "FROM node\nRUN npm ci --omit\n",
        "FROM node\nRUN yarn workspaces\n",
        "FROM python\nRUN pip install -r\n",
        "FROM python\nRUN pip install '[' ']' '.[]'\n",
        "FROM python\nRUN uv sync\n",
        "FROM fedora\nRUN dnf group\n",
        "FROM fedora\nRUN dnf install --setopt\n",
        "FROM alpine\nRUN gem install --document\n",
        "FROM node\nCMD\n",
        "FROM node\nCMD []\n",
        "FROM $BASE AS x\nRUN npm ci\n",
        'FROM alpine\nSHELL ["cmd", "/S", "/C"]\nRUN npm ci\n',
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    for rule in ("SL401", "SL402", "SL403", "SL404", "SL405", "SL406"):
        run_rule(rule, text)
