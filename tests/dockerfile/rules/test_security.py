"""The security rules (SL0xx): what each catches, where, and what it leaves alone."""

from __future__ import annotations

import pytest

from slimline.api import check_text
from slimline.config import Config
from slimline.findings import Severity
from tests.dockerfile.rules.harness import run_rule

# Synthetic credentials, assembled from pieces so that secret scanners do not take this file
# for a leak.
NPM_TOKEN = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GITHUB_TOKEN = "ghp_" + "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
AWS_KEY_ID = "AKIA" + "Q3EGRXPT5ZWN7KLM"
JWT = ".".join(
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJyb2xlIjoiYW5vbiIsImlzcyI6InN1cGFiYXNlIn0",
        "dc3TrZz2sM9t8OJ1pX0xQqY4h2Ck",
    )
)
TELEGRAM_TOKEN = "123456789:" + "AA" + "Fq3kX9vB2mN7pL4wR8tY1zC6hJ5dG0sE2"
GOOGLE_KEY = "AIza" + "SyD-0123456789abcdefghijklmnopqrstu"
SLACK_TOKEN = "xoxb" + "-123456789012-abcdefghijkl"
GITLAB_TOKEN = "glpat" + "-abcdefghij0123456789"
PEM_HEADER = "-----BEGIN OPENSSH " + "PRIVATE KEY-----"
SHA = "0123456789abcdef0123456789abcdef01234567"


def check(
    rule_id: str, text: str, line: int, fragment: str, severity: Severity | None = None
) -> None:
    """Exactly one finding of ``rule_id``, at ``line``, whose message contains ``fragment``."""
    found = run_rule(rule_id, text)
    assert [f.line for f in found] == [line], [(f.line, f.message) for f in found]
    assert fragment in found[0].message, found[0].message
    if severity is not None:
        assert found[0].severity is severity


# ---------------------------------------------------------------------------------------------
# SL001 root-user

SL001_CATCHES = [
    ('FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n', 1, "no USER in the final stage", Severity.WARNING),
    ('FROM node:20\nUSER node\nRUN npm ci\nUSER root\nCMD ["node", "s.js"]\n', 4, "`USER root` is the last USER", Severity.WARNING),
    ('FROM debian:12\nUSER 0:0\nCMD ["/app"]\n', 2, "runs as root", Severity.WARNING),
    ('FROM debian:12\nUSER root:staff\nCMD ["/app"]\n', 2, "runs as root", Severity.WARNING),
    ('FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM debian:12-slim\nCOPY --from=build /app /app\nCMD ["/app"]\n', 3, "no USER", Severity.WARNING),
    # USER root inherited from the stage the final one is built FROM.
    ('FROM debian:12 AS base\nUSER root\nFROM base\nCMD ["/app"]\n', 2, "runs as root", Severity.WARNING),
    ('FROM debian:12\nARG RUN_AS=root\nUSER ${RUN_AS}\nCMD ["/app"]\n', 3, "runs as root", Severity.WARNING),
    ('FROM node:20-alpine\nCOPY . .\nCMD ["node", "server.js"]\n', 1, "USER node", Severity.WARNING),
    ('FROM gcr.io/distroless/static-debian12\nCOPY app /\nCMD ["/app"]\n', 1, ":nonroot", Severity.WARNING),
    # The postgres entrypoint drops privileges, but this file replaces it.
    ('FROM postgres:16\nCOPY e.sh /\nENTRYPOINT ["/e.sh"]\n', 1, "no USER", Severity.WARNING),
    ('FROM golang:1.22 AS build\nRUN CGO_ENABLED=0 go build -o /app\nFROM scratch\nCOPY --from=build /app /app\nENTRYPOINT ["/app"]\n', 3, "UID 0", Severity.INFO),
    ("FROM nginx:1.27-alpine\nCOPY dist /usr/share/nginx/html\n", 1, "nginx-unprivileged", Severity.INFO),
    ('FROM php:8.3-apache\nCOPY src/ /var/www/html/\n', 1, "master process", Severity.INFO),
    # A base image (no program of its own, or a bare interpreter as CMD).
    ('FROM debian:bookworm-slim\nRUN apt-get update\nCMD ["python3"]\n', 1, "base or tool image", Severity.INFO),
    ("FROM ubuntu:24.04\nRUN apt-get update\n", 1, "base or tool image", Severity.INFO),
    ('FROM alpine:3.20\nRUN apk add --no-cache bind-tools\nCMD ["/bin/sh"]\n', 1, "base or tool image", Severity.INFO),
    # Privilege-separated servers, known by the program the image runs.
    ('FROM alpine:3.20\nRUN apk add --no-cache nginx\nCMD ["nginx", "-g", "daemon off;"]\n', 1, "nginx-unprivileged", Severity.INFO),
    ('FROM debian:12\nCOPY docker-entrypoint.sh /\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["php-fpm"]\n', 1, "php-fpm master process", Severity.INFO),
    # A wrapper entrypoint with no CMD is the program; a script run by an interpreter too.
    ('FROM debian:12\nCOPY docker-entrypoint.sh /\nENTRYPOINT ["docker-entrypoint.sh"]\n', 1, "no USER in the final stage", Severity.WARNING),
    ('FROM python:3.12\nENTRYPOINT ["tini", "--"]\nCMD ["python", "app.py"]\n', 1, "no USER in the final stage", Severity.WARNING),
    ('FROM alpine:3.20\nCMD sh -c "exec /app"\n', 1, "no USER in the final stage", Severity.WARNING),
    ('FROM python:3\nCOPY bot.py /\nCMD ["bot.py"]\nENTRYPOINT ["python"]\n', 1, "no USER in the final stage", Severity.WARNING),
]  # fmt: skip

SL001_LEAVES_ALONE = [
    'FROM python:3.12-slim\nRUN useradd -r app\nUSER app\nCMD ["python", "main.py"]\n',
    'FROM debian:12\nUSER 10001:10001\nCMD ["/app"]\n',
    'FROM debian:12\nUSER root\nRUN apt-get update\nUSER app\nCMD ["/app"]\n',
    'FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /\nCMD ["/app"]\n',
    'FROM gcr.io/distroless/python3-debian12:debug-nonroot\nCOPY app /\nCMD ["/app"]\n',
    'FROM cgr.dev/chainguard/python:latest\nCOPY app.py /\nENTRYPOINT ["python", "/app.py"]\n',
    'FROM bitnami/node:20\nCOPY . /app\nCMD ["node", "/app/s.js"]\n',
    'FROM mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled\nCOPY out /app\nENTRYPOINT ["dotnet", "/app/a.dll"]\n',
    "FROM nginxinc/nginx-unprivileged:1.27-alpine\nCOPY dist /usr/share/nginx/html\n",
    # Entrypoints that start the service as its own user.
    "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n",
    'FROM redis:7\nCOPY redis.conf /usr/local/etc/redis/\nCMD ["redis-server", "/usr/local/etc/redis/redis.conf"]\n',
    'FROM debian:12\nRUN apt-get update && apt-get install -y gosu && rm -rf /var/lib/apt/lists/*\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["redis-server"]\n',
    'FROM alpine:3.20\nRUN apk add --no-cache su-exec\nENTRYPOINT ["su-exec", "app", "/app"]\n',
    'FROM debian:12\nCMD su app -c "/app/run"\n',
    # Unknowable: a USER or a base image from a variable without a value.
    'FROM debian:12\nUSER $APP_USER\nCMD ["/app"]\n',
    'ARG BASE\nFROM $BASE\nCMD ["/app"]\n',
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD ["cmd"]\n',
    '# escape=`\nFROM mcr.microsoft.com/powershell:lts\nCMD ["pwsh"]\n',
    # A build stage running as root does not matter.
    'FROM debian:12 AS build\nUSER root\nRUN make\nFROM debian:12\nUSER 10001\nCMD ["/app"]\n',
    # ONBUILD USER applies to child images only.
    'FROM debian:12\nUSER app\nONBUILD USER root\nCMD ["/app"]\n',
]


@pytest.mark.parametrize(("text", "line", "fragment", "severity"), SL001_CATCHES)
def test_sl001_catches(text: str, line: int, fragment: str, severity: Severity) -> None:
    check("SL001", text, line, fragment, severity)


@pytest.mark.parametrize("text", SL001_LEAVES_ALONE)
def test_sl001_leaves_alone(text: str) -> None:
    assert run_rule("SL001", text) == []


def test_sl001_reports_once_at_the_final_from() -> None:
    text = (
        'FROM debian:12 AS a\nRUN true\nFROM debian:12 AS b\nRUN true\nFROM debian:12\nCMD ["/x"]\n'
    )
    found = run_rule("SL001", text)
    assert [(f.line, f.column, f.end_column) for f in found] == [(5, 1, 15)]


def test_sl001_target_option_picks_the_stage() -> None:
    text = 'FROM debian:12 AS dev\nCMD ["/x"]\nFROM debian:12 AS prod\nUSER 10001\nCMD ["/x"]\n'
    result = check_text(text, "Dockerfile", Config(select=("SL001",), target="dev"))
    assert [f.line for f in result.findings] == [1]


# ---------------------------------------------------------------------------------------------
# SL002 secret-in-env

SL002_CATCHES = [
    # A generated key that happens to hold a `$` is still a literal.
    (
        "FROM python:3.8\nENV DJANGO_SECRET_KEY abcde0s&&$uyc)hf_3rv@!a95nasd22e-dxt^9k^7!f+$jx\n",
        2,
        "DJANGO_SECRET_KEY holds a secret (a literal value)",
    ),
    ("FROM alpine:3.20\nENV DB_PASSWORD=hunter2xyz\n", 2, "ENV DB_PASSWORD holds a secret (a literal value)"),
    ("FROM alpine:3.20\nENV AWS_SECRET_ACCESS_KEY wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq4Lk2\n", 2, "AWS_SECRET_ACCESS_KEY"),
    (f"FROM alpine:3.20\nARG NPM_TOKEN={NPM_TOKEN}\n", 2, "an npm token"),
    (f"FROM alpine:3.20\nENV GH={GITHUB_TOKEN}\n", 2, "a GitHub token"),
    # The value's shape wins over a name that would be harmless (``*_KEY_ID``).
    (f"FROM alpine:3.20\nENV AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n", 2, "an AWS access key id"),
    ("FROM alpine:3.20\nENV DATABASE_URL=postgres://app:Sup3rS3cret@db:5432/app\n", 2, "a password in a URL"),
    ("FROM alpine:3.20\nENV apiKey=4f9a8b7c6d5e\n", 2, "apiKey"),
    ("FROM alpine:3.20\nENV MYSQL_PASS 123456\n", 2, "MYSQL_PASS"),
    (f"FROM python:3\nENV BOT={TELEGRAM_TOKEN}\n", 2, "a Telegram bot token"),
    (f"FROM node:20\nENV VITE_MAPS_KEY={GOOGLE_KEY}\n", 2, "a Google API key"),
    (f'FROM alpine:3.20\nLABEL token="{SLACK_TOKEN}"\n', 2, "a Slack token"),
    (f'FROM alpine:3.20\nENV SSH_KEY="{PEM_HEADER}\\nb3BlbnNzaC1rZXktdjE="\n', 2, "a private key"),
    ("FROM alpine:3.20\nONBUILD ENV API_KEY=abc123def456\n", 2, "API_KEY"),
    # A build arg copied into the final image's environment.
    ("FROM node:20\nARG NPM_TOKEN\nENV NPM_TOKEN=${NPM_TOKEN}\n", 3, "copies a build arg"),
    ("FROM alpine:3.20\nENV SECRET_KEY_BASE=8f2d4c6a1b3e5f7d9c0a\n", 2, "SECRET_KEY_BASE"),
]  # fmt: skip

SL002_LEAVES_ALONE = [
    # Values made of references, with at most a little literal glue around them.
    'FROM alpine:3.20\nENV DATABASE_PASSWORD="${DB_USER}:${DB_PASS}"\n',
    "FROM alpine:3.20\nENV API_KEY=key-$ENVIRONMENT\n",
    "FROM python:3.12\nENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305\n",
    'FROM php:8.3\nENV GPG_KEYS="1729F83938DA44E27BA0F4D3DBDB397470D12172 BFDDD28642824F8118EF77909B67A5C12229118F"\n',
    "FROM alpine:3.20\nENV NGINX_GPGKEY=573BFD6B3D8FBC641079A6ABABF5BD827BD9BF62\n",
    "FROM alpine:3.20\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
    "FROM alpine:3.20\nENV POSTGRES_PASSWORD_FILE=/run/secrets/pg\n",
    "FROM alpine:3.20\nENV TOKEN_URL=https://auth.example.com/token\n",
    "FROM alpine:3.20\nENV TOKENIZERS_PARALLELISM=false\n",
    "FROM alpine:3.20\nENV SECRET_KEY_BASE=changeme\n",
    "FROM alpine:3.20\nENV SECRET_KEY_BASE=your_secret_key_base\n",
    'FROM alpine:3.20\nENV ACCESS_KEY "{Upbit Key}"\n',
    "FROM alpine:3.20\nENV DB_PASSWORD=\n",
    "FROM alpine:3.20\nENV DB_PASSWORD=$DB_PASSWORD\n",
    "FROM alpine:3.20\nENV ALLOW_EMPTY_PASSWORD=yes\n",
    "FROM alpine:3.20\nENV POSTGRES_PASSWORD=postgres\n",
    "FROM alpine:3.20\nENV PWD=/app PASSWORD_MIN_LENGTH=12 SECRET_KEY_LENGTH=64\n",
    "FROM alpine:3.20\nARG DATABASE_URL=postgresql://build:build@localhost:5432/build\n",
    'FROM alpine:3.20\nENV DATABASE_URL="postgresql://user:password@localhost:5432/db"\n',
    "FROM alpine:3.20\nENV DATABASE_URL=file:/app/data/app.db REDIS_URL=redis://cache:6379\n",
    # A dummy value for a build step that needs one; the real one comes at run time.
    "FROM python:3.12\nARG SECRET_KEY=dummy-secret-key-for-build\nENV SECRET_KEY=${SECRET_KEY}\n",
    f"FROM node:20\nENV NEXT_PUBLIC_SUPABASE_ANON_KEY={JWT}\n",
    f"FROM node:20\nENV NEXT_PUBLIC_FIREBASE_API_KEY={GOOGLE_KEY}\n",
    # The ARG alone is SL003's; copying it into ENV in a build stage reaches no image.
    "FROM node:20\nARG NPM_TOKEN\nRUN npm ci\n",
    "FROM node:20 AS build\nARG NPM_TOKEN\nENV NPM_TOKEN=$NPM_TOKEN\nRUN npm ci\nFROM node:20-slim\nCOPY --from=build /app /app\n",
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL002_CATCHES)
def test_sl002_catches(text: str, line: int, fragment: str) -> None:
    check("SL002", text, line, fragment, Severity.ERROR)


@pytest.mark.parametrize("text", SL002_LEAVES_ALONE)
def test_sl002_leaves_alone(text: str) -> None:
    assert run_rule("SL002", text) == []


def test_sl002_points_at_the_pair_and_never_repeats_the_secret() -> None:
    text = "FROM alpine:3.20\nENV A=1 \\\n    SECRET_KEY=q8w7e6r5t4y3 B=2\n"
    [finding] = run_rule("SL002", text)
    assert (finding.line, finding.column, finding.end_column) == (3, 5, 28)
    assert "q8w7e6r5t4y3" not in finding.message


def test_sl002_jwt_under_a_secret_name() -> None:
    check("SL002", f"FROM node:20\nENV SERVICE_ROLE_KEY={JWT}\n", 2, "a JSON web token")


# ---------------------------------------------------------------------------------------------
# SL003 secret-build-arg

SL003_CATCHES = [
    (
        "FROM node:20\nARG NPM_TOKEN\nRUN npm ci\n",
        2,
        "--mount=type=secret,id=npm_token,env=NPM_TOKEN",
    ),
    ('FROM node:20\nARG GITHUB_TOKEN=""\nRUN make\n', 2, "GITHUB_TOKEN"),
    ('FROM node:20 AS base\nARG PIP_PASSWORD\nFROM base\nCMD ["x"]\n', 2, "PIP_PASSWORD"),
]
SL003_LEAVES_ALONE = [
    "FROM node:20 AS build\nARG NPM_TOKEN\nRUN npm ci\nFROM node:20-slim\nCOPY --from=build /app /app\n",
    "ARG NPM_TOKEN\nFROM node:20\nRUN npm ci\n",
    "FROM node:20\nARG GPG_KEY\nARG TOKEN_URL\nARG PASSWORD_FILE\nARG NODE_VERSION\n",
    f"FROM node:20\nARG NPM_TOKEN={NPM_TOKEN}\n",
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL003_CATCHES)
def test_sl003_catches(text: str, line: int, fragment: str) -> None:
    check("SL003", text, line, fragment, Severity.WARNING)


@pytest.mark.parametrize("text", SL003_LEAVES_ALONE)
def test_sl003_leaves_alone(text: str) -> None:
    assert run_rule("SL003", text) == []


# ---------------------------------------------------------------------------------------------
# SL004 secret-in-run

SL004_CATCHES = [
    (f"FROM alpine\nRUN git clone https://oauth2:{GITLAB_TOKEN}@gitlab.com/x/y.git\n", 2, "a GitLab token"),
    ("FROM alpine\nRUN git clone https://deploy:S3cr3tPassw0rd@github.com/o/r.git /src\n", 2, "a password in a URL"),
    (f"FROM alpine\nRUN git clone https://{GITHUB_TOKEN}@github.com/o/r.git\n", 2, "a GitHub token"),
    ("FROM mysql:8\nRUN mysql -uroot -pS3cr3t123 -e 'CREATE DATABASE app'\n", 2, "`mysql` is given a literal credential"),
    ("FROM alpine\nRUN curl -u admin:Zx9vB7nM2q https://x.example/api\n", 2, "`curl`"),
    ('FROM node:20\nRUN echo "//registry.npmjs.org/:_authToken=abcd1234efgh5678" > ~/.npmrc\n', 2, "npm auth token"),
    ("FROM node:20\nRUN npm config set //registry.npmjs.org/:_authToken abcd1234efgh5678\n", 2, "npm auth token"),
    ("FROM alpine\nRUN some-cli --api-key=k3y0123456789 deploy\n", 2, "literal credential"),
    ("FROM alpine\nRUN wget --password Zx9vB7nM2q https://x.example/f\n", 2, "`wget`"),
    ("FROM alpine\nRUN docker login -u me -p Zx9vB7nM2q registry.example.com\n", 2, "`docker`"),
    ("FROM nginx\nRUN htpasswd -bc /etc/nginx/.htpasswd admin Zx9vB7nM2q\n", 2, "`htpasswd`"),
    ("FROM alpine\nRUN <<EOF\nset -e\ngit clone https://u:Zx9vB7nM2qw@host.example/r.git\nEOF\n", 4, "a password in a URL"),
    (f'FROM alpine\nRUN ["sh", "-c", "aws configure set aws_access_key_id {AWS_KEY_ID}"]\n', 2, "AWS access key id"),
]  # fmt: skip
SL004_LEAVES_ALONE = [
    "FROM node:20\nRUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n",
    'FROM node:20\nRUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc\n',
    "FROM mysql:8\nRUN mysql -uroot -p$MYSQL_ROOT_PASSWORD -e 'select 1'\n",
    "FROM mysql:8\nRUN mysql -uroot -proot -e 'select 1'\n",
    "FROM alpine\nRUN cat /run/secrets/pw | docker login --password-stdin -u me reg.example\n",
    'FROM alpine\nRUN curl -u "$USER:$TOKEN" https://x.example\n',
    "FROM alpine\nRUN git clone https://github.com/o/r.git && git clone git@github.com:o/r.git\n",
    "FROM postgres\nRUN psql postgres://postgres:postgres@localhost/db -c 'select 1'\n",
    "FROM alpine\nRUN ssh -p 2222 host.example true; redis-cli -p 6379 ping\n",
    "FROM alpine\nRUN some-cli --password-file /run/secrets/pw --token-file=/run/secrets/t\n",
    "FROM alpine\nRUN some-cli --password changeme --token ${TOKEN}\n",
    'FROM nginx\nRUN htpasswd -bc /etc/nginx/.htpasswd admin "$ADMIN_PASSWORD"\n',
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL004_CATCHES)
def test_sl004_catches(text: str, line: int, fragment: str) -> None:
    check("SL004", text, line, fragment, Severity.ERROR)


@pytest.mark.parametrize("text", SL004_LEAVES_ALONE)
def test_sl004_leaves_alone(text: str) -> None:
    assert run_rule("SL004", text) == []


def test_sl004_points_at_the_word() -> None:
    [finding] = run_rule("SL004", "FROM mysql:8\nRUN mysql -uroot -pS3cr3t123\n")
    assert (finding.line, finding.column, finding.end_column) == (2, 18, 29)


# ---------------------------------------------------------------------------------------------
# SL005 secret-file-copied

SL005_CATCHES = [
    ("FROM alpine\nCOPY id_rsa /root/.ssh/id_rsa\n", 2, "an SSH private key", Severity.ERROR),
    ("FROM alpine\nCOPY keys/id_ed25519 /root/.ssh/\n", 2, "an SSH private key", Severity.ERROR),
    ("FROM alpine\nCOPY .ssh /root/.ssh\n", 2, "the .ssh directory", Severity.ERROR),
    ("FROM alpine\nCOPY deploy_key /root/.ssh/id_rsa\n", 2, "an SSH private key", Severity.ERROR),
    ("FROM alpine\nCOPY .aws/credentials /root/.aws/credentials\n", 2, "AWS credentials", Severity.ERROR),
    ("FROM alpine\nADD .netrc /root/.netrc\n", 2, ".netrc", Severity.ERROR),
    ('FROM alpine\nCOPY [".docker/config.json", "/root/.docker/"]\n', 2, "registry credentials", Severity.ERROR),
    ("FROM node:20\nCOPY .env ./\n", 2, ".env", Severity.WARNING),
    ("FROM nginx\nCOPY certs/server.key /etc/ssl/private/\n", 2, "a private key (server.key)", Severity.WARNING),
    # In a build stage the secret stays in the build cache: one step lower.
    ("FROM golang AS build\nCOPY id_ed25519 /root/.ssh/\nRUN go build\nFROM alpine\nCOPY --from=build /app /app\n", 2, "build stage build", Severity.WARNING),
]  # fmt: skip
SL005_LEAVES_ALONE = [
    "FROM alpine\nCOPY id_rsa.pub /root/.ssh/authorized_keys\n",
    "FROM alpine\nCOPY known_hosts /root/.ssh/known_hosts\n",
    "FROM alpine\nCOPY ssh_config /root/.ssh/\n",
    "FROM debian\nCOPY nodesource.gpg.key Release.key /tmp/\n",
    "FROM node:20\nCOPY .env.example .env.production ./\n",
    "FROM node:20\nCOPY .env.example .env\n",
    "FROM node:20\nCOPY .npmrc package.json ./\n",
    "FROM nginx\nCOPY .htpasswd /etc/nginx/.htpasswd\n",
    "FROM alpine\nRUN --mount=type=ssh git clone git@github.com:o/r.git\n",
    "FROM alpine\nCOPY <<EOF /root/.netrc\nmachine x\nEOF\n",
]


@pytest.mark.parametrize(("text", "line", "fragment", "severity"), SL005_CATCHES)
def test_sl005_catches(text: str, line: int, fragment: str, severity: Severity) -> None:
    check("SL005", text, line, fragment, severity)


@pytest.mark.parametrize("text", SL005_LEAVES_ALONE)
def test_sl005_leaves_alone(text: str) -> None:
    assert run_rule("SL005", text) == []


# ---------------------------------------------------------------------------------------------
# SL006 add-url-no-checksum

SL006_CATCHES = [
    ("FROM alpine\nADD https://example.com/tool.tar.gz /opt/\n", 2, "--checksum=sha256:"),
    ("FROM alpine\nADD http://example.com/tool /usr/local/bin/tool\n", 2, "over plain HTTP"),
    ("FROM alpine\nADD https://github.com/moby/buildkit.git#v0.10.1 /src\n", 2, "pin a commit"),
    ("FROM alpine\nADD git@github.com:o/r.git /src\n", 2, "Git repository"),
    ("FROM alpine\nARG URL=https://example.com/f.tgz\nADD $URL /tmp/\n", 3, "without verifying"),
    # Verified, but not the file that was downloaded.
    (
        f'FROM alpine\nADD https://example.com/a /a\nRUN echo "{SHA}  /b" | sha1sum -c -\n',
        2,
        "without verifying",
    ),
]
SL006_LEAVES_ALONE = [
    f"FROM alpine\nADD --checksum=sha256:{SHA}{SHA[:24]} https://example.com/f /f\n",
    f"FROM alpine\nADD https://github.com/moby/buildkit.git#{SHA} /src\n",
    f'FROM alpine\nADD https://github.com/krallin/tini/releases/download/v0.19.0/tini /tini\nRUN echo "{SHA}  /tini" | sha1sum -c -\n',
    "FROM scratch\nADD rootfs.tar.xz /\n",
    "FROM alpine\nCOPY app /app\n",
    "FROM alpine\nADD .git /src/.git\n",
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL006_CATCHES)
def test_sl006_catches(text: str, line: int, fragment: str) -> None:
    check("SL006", text, line, fragment, Severity.WARNING)


@pytest.mark.parametrize("text", SL006_LEAVES_ALONE)
def test_sl006_leaves_alone(text: str) -> None:
    assert run_rule("SL006", text) == []


def test_sl006_points_at_the_url() -> None:
    [finding] = run_rule("SL006", "FROM alpine\nADD --chown=1:1 https://example.com/f /f\n")
    assert (finding.line, finding.column, finding.end_column) == (2, 17, 38)


# ---------------------------------------------------------------------------------------------
# SL007 add-instead-of-copy

SL007_CATCHES = [
    ("FROM eclipse-temurin:21\nADD app.jar /app.jar\n", 2),
    ("FROM python:3.12\nADD . /app\n", 2),
    ("FROM alpine\nARG CONF=conf.yml\nADD $CONF /etc/app/\n", 3),
    ('FROM alpine\nADD ["start.sh", "/start.sh"]\n', 2),
]
SL007_LEAVES_ALONE = [
    "FROM scratch\nADD alpine-minirootfs-3.20.0-x86_64.tar.gz /\n",
    "FROM debian\nADD vendor.tgz deps.tar.zst /opt/\n",
    "FROM alpine\nADD https://example.com/f /f\n",
    "FROM alpine\nADD $UNKNOWN /x\n",
    "FROM alpine\nADD dist/* /app/\n",
    "FROM alpine\nADD <<EOF /etc/motd\nhello\nEOF\n",
    "FROM alpine\nARG REPO=https://raw.githubusercontent.com/o/r/main\nADD $REPO/app.conf /etc/app.conf\n",
]


@pytest.mark.parametrize(("text", "line"), SL007_CATCHES)
def test_sl007_catches(text: str, line: int) -> None:
    check("SL007", text, line, "use COPY", Severity.INFO)


@pytest.mark.parametrize("text", SL007_LEAVES_ALONE)
def test_sl007_leaves_alone(text: str) -> None:
    assert run_rule("SL007", text) == []


def test_sl007_honours_hadolint_ignore() -> None:
    text = "FROM alpine\n# hadolint ignore=DL3020\nADD start.sh /start.sh\n"
    assert run_rule("SL007", text) == []


# ---------------------------------------------------------------------------------------------
# SL008 pipe-to-shell

SL008_CATCHES = [
    ("FROM ubuntu\nRUN curl -fsSL https://get.docker.com | sh\n", 2, "`curl ... | sh`"),
    ("FROM ubuntu\nRUN wget -qO- https://x.example/install.sh | bash\n", 2, "`wget ... | bash`"),
    ("FROM ubuntu\nRUN wget -O - https://x.example/install.sh | sh -s v1.2\n", 2, "`wget ... | sh`"),
    ("FROM ubuntu\nRUN curl -sL https://deb.nodesource.com/setup_20.x | sudo -E bash -\n", 2, "| bash"),
    ("FROM python:3.12\nRUN curl -sSL https://install.python-poetry.org | python3 -\n", 2, "| python"),
    ("FROM php:8\nRUN curl -sS https://getcomposer.org/installer | php -- --install-dir=/usr/local/bin --filename=composer\n", 2, "| php"),
    ('FROM ubuntu\nRUN sh -c "$(curl -fsSL https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)"\n', 2, "command substitution"),
    ("FROM ubuntu\nRUN bash <(curl -s https://x.example/install.sh)\n", 2, "command substitution"),
    ("FROM rust\nRUN curl -s https://sh.rustup.rs | bash -s -- -y\n", 2, "| bash"),
    ("FROM node\nRUN curl -o- https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.7/install.sh | bash\n", 2, "| bash"),
    ("FROM ubuntu\nRUN curl -fsSL https://x.example/i.sh | tee /tmp/i.log | sh\n", 2, "| sh"),
    ("FROM ubuntu AS tools\nRUN apt-get update && \\\n    curl -fsSL https://x.example/i.sh | bash\nFROM alpine\nCOPY --from=tools /x /x\n", 3, "| bash"),
]  # fmt: skip
SL008_LEAVES_ALONE = [
    f'FROM ubuntu\nRUN curl -fsSLo /tmp/i.sh https://x.example/i.sh && echo "{SHA}  /tmp/i.sh" | sha1sum -c - && sh /tmp/i.sh\n',
    "FROM ubuntu\nRUN curl -fsSL https://x.example/k.gpg | gpg --dearmor -o /usr/share/keyrings/k.gpg\n",
    "FROM ubuntu\nRUN curl -sL https://x.example/v.tar.gz | tar xz -C /opt\n",
    "FROM ubuntu\nRUN curl -s https://api.github.com/repos/o/r/releases/latest | python3 -c 'import sys,json; print(json.load(sys.stdin)[\"tag_name\"])'\n",
    "FROM ubuntu\nRUN curl -fsSL https://x.example | sh -c 'cat > /tmp/x'\n",
    "FROM ubuntu\nRUN VERSION=$(curl -s https://x.example/latest) && echo $VERSION\n",
    "FROM ubuntu\nRUN curl -sO https://x.example/i.sh | sh\n",
    'FROM ubuntu\nSHELL ["pwsh", "-Command"]\nRUN iwr https://x.example/i.ps1 | iex\n',
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL008_CATCHES)
def test_sl008_catches(text: str, line: int, fragment: str) -> None:
    check("SL008", text, line, fragment, Severity.WARNING)


@pytest.mark.parametrize("text", SL008_LEAVES_ALONE)
def test_sl008_leaves_alone(text: str) -> None:
    assert run_rule("SL008", text) == []


def test_sl008_spans_the_pipeline() -> None:
    [finding] = run_rule("SL008", "FROM ubuntu\nRUN set -e; curl -fsSL https://x.example | sh\n")
    assert (finding.line, finding.column, finding.end_column) == (2, 13, 46)


# ---------------------------------------------------------------------------------------------
# SL009 tls-verification-disabled

SL009_CATCHES = [
    ("FROM alpine\nRUN curl -k https://x.example/f -o /f\n", 2, "`curl -k`"),
    ("FROM alpine\nRUN curl -fsSLk https://x.example/f\n", 2, "`curl -k`"),
    ("FROM alpine\nRUN curl --insecure https://x.example/f\n", 2, "--insecure"),
    ("FROM alpine\nRUN wget --no-check-certificate https://x.example/f\n", 2, "--no-check-certificate"),
    ("FROM python:3.12\nRUN pip install --trusted-host pypi.org --trusted-host files.pythonhosted.org -r r.txt\n", 2, "--trusted-host"),
    ("FROM python:3.12\nRUN python3 -m pip install --trusted-host=mirror.example x\n", 2, "--trusted-host"),
    ("FROM python:3.12\nRUN pip config set global.trusted-host pypi.org\n", 2, "trusted-host"),
    ("FROM node:20\nRUN npm config set strict-ssl false\n", 2, "strict-ssl"),
    ("FROM node:20\nRUN yarn config set strict-ssl false\n", 2, "strict-ssl"),
    ("FROM node:20\nRUN npm install --strict-ssl=false\n", 2, "--strict-ssl=false"),
    ('FROM node:20\nRUN echo "strict-ssl=false" >> ~/.npmrc\n', 2, "strict-ssl=false"),
    ("FROM alpine\nRUN git config --global http.sslVerify false\n", 2, "http.sslVerify"),
    ("FROM alpine\nRUN git -c http.sslVerify=false clone https://x.example/r.git\n", 2, "http.sslVerify=false"),
    ("FROM alpine\nENV NODE_TLS_REJECT_UNAUTHORIZED=0\n", 2, "Node.js"),
    ("FROM alpine\nENV PYTHONHTTPSVERIFY 0\n", 2, "Python"),
    ("FROM alpine\nARG GIT_SSL_NO_VERIFY=true\n", 2, "Git"),
    ("FROM alpine\nENV PIP_TRUSTED_HOST=pypi.org\n", 2, "listed hosts"),
    ("FROM debian\nRUN echo 'Acquire::https::Verify-Peer \"false\";' > /etc/apt/apt.conf.d/99insecure\n", 2, "Verify-Peer"),
    ("FROM debian\nRUN apt-get -o Acquire::https::Verify-Peer=false update\n", 2, "Verify-Peer"),
    ("FROM alpine\nRUN echo insecure >> ~/.curlrc\n", 2, ".curlrc"),
    ("FROM node:20\nRUN NODE_TLS_REJECT_UNAUTHORIZED=0 npm install\n", 2, "Node.js"),
    ("FROM continuumio/miniconda3\nRUN conda config --set ssl_verify false\n", 2, "ssl_verify"),
    ("FROM alpine\nRUN helm repo add x https://x.example --insecure-skip-tls-verify\n", 2, "--insecure-skip-tls-verify"),
    ("FROM fedora\nRUN dnf install -y --setopt=sslverify=false x\n", 2, "sslverify=false"),
    ("FROM composer\nRUN composer config -g secure-http false\n", 2, "secure-http"),
]  # fmt: skip
SL009_LEAVES_ALONE = [
    "FROM alpine\nRUN wget -k https://x.example/page\n",
    "FROM alpine\nRUN curl -fsSL https://x.example -o /f && tar -xkf a.tar\n",
    "FROM alpine\nRUN curl -sSLo k https://x.example/k && curl -H 'X-k: 1' https://x.example\n",
    "FROM node:20\nRUN npm config set strict-ssl true\n",
    "FROM alpine\nENV NODE_TLS_REJECT_UNAUTHORIZED=1 GIT_SSL_NO_VERIFY=false\n",
    "FROM alpine\nENV NODE_TLS_REJECT_UNAUTHORIZED=$TLS\n",
    "FROM python:3.12\nRUN pip install --index-url https://pypi.org/simple x\n",
    "FROM alpine\nRUN git config --global http.sslVerify true\n",
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN curl -k https://x.example\n',
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL009_CATCHES)
def test_sl009_catches(text: str, line: int, fragment: str) -> None:
    check("SL009", text, line, fragment, Severity.ERROR)


@pytest.mark.parametrize("text", SL009_LEAVES_ALONE)
def test_sl009_leaves_alone(text: str) -> None:
    assert run_rule("SL009", text) == []


def test_sl009_points_at_the_option() -> None:
    [finding] = run_rule("SL009", "FROM alpine\nRUN curl -fsSL -k https://x.example\n")
    assert (finding.line, finding.column, finding.end_column) == (2, 16, 18)


def test_sl009_json_form_run() -> None:
    [finding] = run_rule("SL009", 'FROM alpine\nRUN ["sh", "-c", "curl -k https://x.example"]\n')
    assert finding.line == 2


# ---------------------------------------------------------------------------------------------
# SL010 signature-check-disabled

SL010_CATCHES = [
    ("FROM centos:7\nRUN yum install -y --nogpgcheck epel-release\n", 2, "--nogpgcheck"),
    ("FROM fedora\nRUN dnf install -y --setopt=gpgcheck=0 nginx\n", 2, "--setopt=gpgcheck=0"),
    ("FROM alpine\nRUN apk add --allow-untrusted curl\n", 2, "--allow-untrusted"),
    ("FROM debian\nRUN apt-get install -y --allow-unauthenticated curl\n", 2, "--allow-unauthenticated"),
    ("FROM debian\nRUN apt-get -o APT::Get::AllowUnauthenticated=true install -y curl\n", 2, "AllowUnauthenticated"),
    ('FROM debian\nRUN echo "deb [trusted=yes] http://repo.example/ ./" > /etc/apt/sources.list.d/x.list\n', 2, "[trusted=yes]"),
    ("FROM centos:7\nRUN sed -i 's/gpgcheck=1/gpgcheck=0/' /etc/yum.repos.d/x.repo\n", 2, "gpgcheck=0"),
    ("FROM centos:7\nRUN rpm -ivh --nosignature https://x.example/p.rpm\n", 2, "--nosignature"),
    ("FROM centos:7\nRUN yum localinstall --nogpgcheck -y https://dl.google.com/linux/direct/google-chrome-stable_current_x86_64.rpm\n", 2, "--nogpgcheck"),
    ("FROM opensuse/leap\nRUN zypper --no-gpg-checks install -y x\n", 2, "--no-gpg-checks"),
    ("FROM golang\nENV GOSUMDB=off\n", 2, "checksum database"),
    ("FROM golang\nRUN go env -w GOSUMDB=off\n", 2, "GOSUMDB=off"),
]  # fmt: skip
SL010_LEAVES_ALONE = [
    "FROM alpine\nRUN apk add --allow-untrusted /tmp/glibc.apk\n",
    # Indexing locally built packages (nginx's pkg-oss fallback) installs nothing.
    "FROM alpine\nRUN apk index --allow-untrusted -o /tmp/pkgs/APKINDEX.tar.gz /tmp/pkgs/*.apk\n",
    "FROM alpine\nRUN apk add --allow-untrusted ./pkgs/*.apk\n",
    "FROM centos:7\nRUN yum localinstall -y --nogpgcheck ./x.rpm\n",
    "FROM fedora\nRUN dnf install -y --nogpgcheck /tmp/rpms/*.rpm\n",
    "FROM centos:7\nRUN rpm -ivh --nosignature x.rpm\n",
    "FROM debian\nRUN apt-get install -y ./pkg.deb\n",
    "FROM golang\nENV GOPRIVATE=github.com/me/* GONOSUMDB=github.com/me/*\n",
    "FROM centos:7\nRUN echo 'gpgcheck=1' >> /etc/yum.repos.d/x.repo\n",
    "FROM opensuse/leap\nRUN zypper --gpg-auto-import-keys refresh\n",
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL010_CATCHES)
def test_sl010_catches(text: str, line: int, fragment: str) -> None:
    check("SL010", text, line, fragment, Severity.WARNING)


@pytest.mark.parametrize("text", SL010_LEAVES_ALONE)
def test_sl010_leaves_alone(text: str) -> None:
    assert run_rule("SL010", text) == []


# ---------------------------------------------------------------------------------------------
# SL011 package-upgrade

SL011_CATCHES = [
    ("FROM debian\nRUN apt-get update && apt-get upgrade -y\n", 2, "`apt-get upgrade`"),
    (
        "FROM debian\nRUN apt-get update \\\n && apt-get -y dist-upgrade\n",
        3,
        "`apt-get dist-upgrade`",
    ),
    ("FROM ubuntu\nRUN apt full-upgrade -y\n", 2, "`apt full-upgrade`"),
    ("FROM alpine\nRUN apk upgrade --no-cache\n", 2, "`apk upgrade`"),
    ("FROM centos:7\nRUN yum -y update && yum clean all\n", 2, "`yum update`"),
    ("FROM fedora\nRUN dnf upgrade -y --refresh\n", 2, "`dnf upgrade`"),
    ("FROM redhat/ubi9-minimal\nRUN microdnf update -y\n", 2, "`microdnf update`"),
    ("FROM opensuse/leap\nRUN zypper --non-interactive update\n", 2, "`zypper update`"),
]
SL011_LEAVES_ALONE = [
    "FROM debian\nRUN apt-get update && apt-get install -y curl\n",
    "FROM alpine\nRUN apk update && apk add curl\n",
    "FROM alpine\nRUN apk upgrade --no-cache openssl\n",
    "FROM centos:7\nRUN yum update -y curl\n",
    "FROM python\nRUN pip install --upgrade pip\n",
    "FROM debian\nRUN apt-get install --only-upgrade -y openssl\n",
    "FROM opensuse/leap\nRUN zypper refresh\n",
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL011_CATCHES)
def test_sl011_catches(text: str, line: int, fragment: str) -> None:
    check("SL011", text, line, fragment, Severity.INFO)


@pytest.mark.parametrize("text", SL011_LEAVES_ALONE)
def test_sl011_leaves_alone(text: str) -> None:
    assert run_rule("SL011", text) == []


# ---------------------------------------------------------------------------------------------
# SL012 world-writable

SL012_CATCHES = [
    ("FROM debian\nRUN chmod 777 /app\n", 2, "`chmod 777` makes /app world-writable"),
    ("FROM debian\nRUN chmod -R 777 /var/www\n", 2, "/var/www"),
    ("FROM debian\nRUN chmod a+rwx /data\n", 2, "`chmod a+rwx`"),
    ("FROM debian\nRUN chmod 0666 /app/config.json\n", 2, "`chmod 0666`"),
    ("FROM debian\nRUN chmod u+x,o+w /app\n", 2, "world-writable"),
    ("FROM debian\nRUN mkdir -p -m 777 /shared\n", 2, "`mkdir 777`"),
    ("FROM debian\nRUN install -d --mode=0777 /shared\n", 2, "`install 0777`"),
    ("FROM debian\nRUN find /app -type d -exec chmod 777 {} +\n", 2, "`chmod 777` makes /app"),
    ("FROM debian\nCOPY --chmod=777 app /app\n", 2, "`--chmod=777`"),
    ('FROM debian AS base\nRUN chmod 777 /srv\nFROM base\nCMD ["x"]\n', 2, "/srv"),
]
SL012_LEAVES_ALONE = [
    "FROM debian\nRUN chmod 1777 /tmp/cache && chmod 3777 /var/run/app\n",
    "FROM debian\nRUN chmod 755 /app && chmod +x /app/run.sh && chmod +w /app\n",
    "FROM debian\nRUN chgrp -R 0 /app && chmod -R g=u /app\n",
    "FROM debian\nRUN chmod 666 /dev/null\n",
    "FROM debian\nRUN chmod a+rwxt /shared\n",
    "FROM debian\nRUN chmod $MODE /app\n",
    "FROM debian AS build\nRUN chmod 777 /build\nFROM debian\nCOPY --from=build /build/app /app\n",
    "FROM debian\nCOPY --chmod=755 app /app\n",
]


@pytest.mark.parametrize(("text", "line", "fragment"), SL012_CATCHES)
def test_sl012_catches(text: str, line: int, fragment: str) -> None:
    check("SL012", text, line, fragment, Severity.WARNING)


@pytest.mark.parametrize("text", SL012_LEAVES_ALONE)
def test_sl012_leaves_alone(text: str) -> None:
    assert run_rule("SL012", text) == []


def test_sl012_points_at_the_mode() -> None:
    [finding] = run_rule("SL012", "FROM debian\nRUN chmod -R 777 /app\n")
    assert (finding.line, finding.column, finding.end_column) == (2, 14, 17)


# ---------------------------------------------------------------------------------------------
# The family as a whole

ALL = tuple(f"SL0{i:02d}" for i in range(1, 13))

IDIOMATIC = [
    # A docker-library style image: gosu entrypoint, GPG key fingerprints, verified downloads.
    """FROM debian:bookworm-slim
ENV GOSU_VERSION 1.17
ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305
RUN set -eux; \\
    apt-get update; \\
    apt-get install -y --no-install-recommends ca-certificates gnupg wget; \\
    wget -O /usr/local/bin/gosu "https://github.com/tianon/gosu/releases/download/$GOSU_VERSION/gosu-amd64"; \\
    wget -O /usr/local/bin/gosu.asc "https://github.com/tianon/gosu/releases/download/$GOSU_VERSION/gosu-amd64.asc"; \\
    gpg --batch --verify /usr/local/bin/gosu.asc /usr/local/bin/gosu; \\
    chmod +x /usr/local/bin/gosu; \\
    gosu nobody true; \\
    rm -rf /var/lib/apt/lists/*
RUN mkdir -p /data && chmod 1777 /data
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
""",
    # A multi-stage build to a distroless non-root image, secrets through mounts.
    """# syntax=docker/dockerfile:1.7
FROM golang:1.22 AS build
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \\
    --mount=type=secret,id=netrc,target=/root/.netrc \\
    --mount=type=bind,target=. \\
    CGO_ENABLED=0 go build -o /out/app ./cmd/app
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
""",
    # A Python service that creates its own user.
    """FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --chown=app:app requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=app:app . .
USER 10001
CMD ["gunicorn", "app:app", "-b", "0.0.0.0:8000"]
""",
]


@pytest.mark.parametrize("text", IDIOMATIC)
def test_idiomatic_files_are_clean(text: str) -> None:
    result = check_text(text, "Dockerfile", Config(select=ALL))
    assert result.error is None
    assert [(f.rule, f.line, f.message) for f in result.findings] == []


ODD_INPUTS = [
    "FROM alpine\nRUN\n",
    'FROM alpine\nRUN [""]\n',
    "FROM alpine\nRUN []\n",
    "FROM alpine\nENV A=\nARG\nLABEL\n",
    "FROM alpine\nONBUILD RUN curl -k https://x.example | sh\nONBUILD ADD . /app\n",
    'FROM alpine\nRUN <<EOF\n#!/usr/bin/env python3\nprint("curl -k https://x | sh")\nEOF\n',
    "FROM alpine\nRUN <<-EOF bash\n\tcurl -k https://x.example | sh\n\tEOF\n",
    'FROM alpine\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -s https://x.example | bash\n',
    "FROM alpine\nUSER\n",
    "FROM alpine\nADD\nCOPY\n",
    "FROM ${BASE:-alpine}\nRUN chmod 777 ${DIR}\nUSER ${U:-root}\n",
    "FROM alpine\nRUN $(echo curl) -k x | $SHELL\n",
    "FROM alpine\nRUN 'unterminated\n",
    "FROM alpine\nRUN curl -k\nRUN chmod\nRUN mkdir -m\nRUN find . -exec chmod\n",
    "FROM alpine\nENV 'A B'=c\n",
]


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_inputs_never_raise(text: str) -> None:
    result = check_text(text, "Dockerfile", Config(select=ALL))
    for f in result.findings:
        assert f.line >= 1 and f.rule in ALL


def test_heredoc_run_body_is_checked() -> None:
    text = "FROM alpine\nRUN <<EOF\nset -e\ncurl -k https://x.example -o /f\nEOF\n"
    [finding] = run_rule("SL009", text)
    assert finding.line == 4


def test_every_rule_documents_itself() -> None:
    from slimline.api import rules

    infos = rules()
    for rid in ALL:
        info = infos[rid]
        assert info.practice.value == "security"
        assert info.summary and "Leaves alone" in info.doc and "Catches" in info.doc
