"""The attack-surface rules (SL9xx): what each catches, where, and what it leaves alone."""

from __future__ import annotations

import pytest

from slimline.api import check_text
from slimline.config import Config
from slimline.dockerfile.rules.attack_surface import (
    CURL_DEBIAN_BYTES,
    SUDO_DEBIAN_BYTES,
    WGET_DEBIAN_BYTES,
)
from slimline.findings import Severity
from tests.dockerfile.rules.harness import run_rule


def check(
    rule_id: str, text: str, lines: list[int], fragment: str, path: str = "Dockerfile"
) -> None:
    found = run_rule(rule_id, text) if path == "Dockerfile" else _run_at(rule_id, text, path)
    assert [f.line for f in found] == lines, [(f.line, f.message) for f in found]
    assert all(fragment in f.message for f in found), [f.message for f in found]


def _run_at(rule_id: str, text: str, path: str) -> list:  # type: ignore[type-arg]
    result = check_text(text, path, Config(select=(rule_id,)))
    assert result.error is None
    return [f for f in result.findings if f.rule == rule_id]


# ---------------------------------------------------------------------------------------------
# SL901 sudo-installed

SL901_CATCHES = [
    (
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends sudo\n",
        [2],
        "privilege escalation",
    ),
    ("FROM alpine:3.20\nRUN apk add --no-cache sudo bash\n", [2], "`sudo`"),
    ("FROM rockylinux:9\nRUN dnf install -y sudo-1.9.5p2\n", [2], "`sudo-1.9.5p2`"),
    ("FROM alpine:3.20\nRUN apk add --no-cache doas\n", [2], "`doas`"),
]
SL901_LEAVES_ALONE = [
    "FROM debian:12\nRUN apt-get install -y gosu\n",
    "FROM debian:12\nRUN apt-get install -y sudo && make install && apt-get purge -y sudo\n",
    "FROM debian:12\nRUN apt-get install -y sudo\nRUN apt-get remove -y sudo\n",
    "FROM debian:12 AS b\nRUN apt-get install -y sudo\nFROM debian:12\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL901_CATCHES)
def test_sl901_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL901", text, lines, fragment)


@pytest.mark.parametrize("text", SL901_LEAVES_ALONE)
def test_sl901_leaves_alone(text: str) -> None:
    assert run_rule("SL901", text) == []


def test_sl901_estimates_debian_only() -> None:
    [apt] = run_rule("SL901", "FROM debian:12\nRUN apt-get install -y sudo\n")
    [apk] = run_rule("SL901", "FROM alpine:3.20\nRUN apk add sudo\n")
    assert apt.estimated_bytes == SUDO_DEBIAN_BYTES and apk.estimated_bytes is None
    assert (apt.line, apt.column, apt.end_column) == (2, 24, 28)


@pytest.mark.parametrize(
    "path",
    [".devcontainer/Dockerfile", "project/.devcontainer/base.Dockerfile", ".gitpod.Dockerfile"],
)
def test_sl901_leaves_dev_environments_alone(path: str) -> None:
    assert _run_at("SL901", "FROM debian:12\nRUN apt-get install -y sudo\n", path) == []


# ---------------------------------------------------------------------------------------------
# SL902 sudo-in-run

SL902_CATCHES = [
    ("FROM ubuntu:22.04\nRUN sudo apt-get update\n", [2], "drop it: the step already runs as root"),
    (
        "FROM ubuntu:22.04\nUSER dev\nRUN sudo -E apt-get install -y git\n",
        [3],
        "`USER root` before this step",
    ),
    ("FROM ubuntu:22.04\nRUN apt-get update && sudo -u root make install\n", [2], "`sudo` in RUN"),
    ('FROM ubuntu:22.04\nRUN ["sh", "-c", "sudo make install"]\n', [2], "`sudo`"),
    ("FROM ubuntu:22.04 AS build\nRUN sudo make\nFROM scratch\n", [2], "`sudo`"),
    ("FROM ubuntu:22.04\nRUN <<EOF\nset -e\nsudo chown -R dev /src\nEOF\n", [4], "`sudo`"),
]
SL902_LEAVES_ALONE = [
    "FROM ubuntu:22.04\nRUN sudo -u postgres createdb app\n",
    "FROM ubuntu:22.04\nRUN sudo --user=app npm ci\n",
    "FROM ubuntu:22.04\nRUN echo 'dev ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\n",
    "FROM ubuntu:22.04\nRUN apt-get install -y sudo\n",
    "FROM ubuntu:22.04\nRUN gosu app true\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL902_CATCHES)
def test_sl902_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL902", text, lines, fragment)


@pytest.mark.parametrize("text", SL902_LEAVES_ALONE)
def test_sl902_leaves_alone(text: str) -> None:
    assert run_rule("SL902", text) == []


def test_sl902_points_at_sudo() -> None:
    [f] = run_rule("SL902", "FROM ubuntu:22.04\nRUN apt-get update && sudo make install\n")
    assert (f.line, f.column, f.end_column) == (2, 23, 27)
    assert f.refs == ("DL3004", "DKL-DI-0001")


def test_sl902_honours_hadolint_ignore() -> None:
    text = "FROM ubuntu:22.04\n# hadolint ignore=DL3004\nRUN sudo make install\n"
    assert run_rule("SL902", text) == []


# ---------------------------------------------------------------------------------------------
# SL903 download-tool-kept

SL903_CATCHES = [
    (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl && curl -fsSLo /usr/local/bin/tool https://example.com/tool\n",
        [2],
        "`curl` is installed for downloads",
    ),
    (
        "FROM nginx:1.27\nRUN apt-get update && apt-get install -y zip curl\nRUN curl -Lo /tmp/site.zip https://example.com/site.zip && unzip /tmp/site.zip\n",
        [2],
        "`curl`",
    ),
    (
        "FROM alpine:3.20\nRUN apk add --no-cache wget && wget -qO /bin/probe https://example.com/probe\n",
        [2],
        "`wget`",
    ),
    (
        "FROM ubuntu:22.04\nRUN apt-get install -y ca-certificates curl gnupg \\\n && curl -fsSL https://example.com/key.gpg | gpg --dearmor -o /etc/apt/keyrings/x.gpg\n",
        [2],
        "ADD --checksum",
    ),
]
SL903_LEAVES_ALONE = [
    # Removed after use.
    "FROM debian:12\nRUN apt-get install -y curl && curl -o /x https://x && apt-get purge -y --auto-remove curl\n",
    "FROM alpine:3.20\nRUN apk add --no-cache --virtual .fetch-deps curl && curl -o /x https://x && apk del .fetch-deps\n",
    "FROM debian:12\nRUN apt-get install -y wget && wget https://x\nRUN apt-get remove -y wget\n",
    # The docker-library pattern.
    "FROM debian:12\nRUN set -eux; savedAptMark=\"$(apt-mark showmanual)\"; apt-get update; apt-get install -y --no-install-recommends wget; wget -O /usr/local/bin/gosu https://x; apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; apt-get purge -y --auto-remove\n",
    'FROM debian:12\nRUN set -eux; savedAptMark="$(apt-mark showmanual)"; apt-get update; apt-get install -y --no-install-recommends wget; wget -O /usr/local/bin/gosu https://x; apt-mark showmanual | xargs apt-mark auto > /dev/null; apt-mark manual $savedAptMark; apt-get purge -y --auto-remove\n',
    # Used at run time.
    "FROM debian:12\nRUN apt-get install -y curl && curl -o /x https://x\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\n",
    'FROM debian:12\nRUN apt-get install -y curl && curl -o /x https://x\nCMD ["sh", "-c", "curl -s $CONFIG_URL > /c && exec app"]\n',
    # Installed, never used by the build: there for run time.
    "FROM debian:12\nRUN apt-get install -y curl\n",
    # Runtime dependencies, used by a later RUN (the official images' layout).
    "FROM debian:12\n# persistent / runtime deps\nRUN apt-get install -y ca-certificates curl xz-utils\nRUN curl -o /x https://x\n",
    "FROM debian:12\nRUN apt-get install -y curl git jq make\nRUN curl -o /x https://x\n",
    # Used before it is installed: not the install's purpose.
    "FROM buildpack-deps:bookworm\nRUN curl -o /x https://x\nRUN apt-get install -y curl\n",
    # Build stages.
    "FROM debian:12 AS fetch\nRUN apt-get install -y curl && curl -o /x https://x\nFROM debian:12\nCOPY --from=fetch /x /x\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL903_CATCHES)
def test_sl903_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL903", text, lines, fragment)
    assert all(f.severity is Severity.INFO for f in run_rule("SL903", text))


@pytest.mark.parametrize("text", SL903_LEAVES_ALONE)
def test_sl903_leaves_alone(text: str) -> None:
    assert run_rule("SL903", text) == []


def test_sl903_estimates() -> None:
    [curl] = run_rule(
        "SL903", "FROM debian:12\nRUN apt-get install -y curl && curl -o /x https://x\n"
    )
    [wget] = run_rule("SL903", "FROM debian:12\nRUN apt-get install -y wget && wget https://x\n")
    [apk] = run_rule("SL903", "FROM alpine:3.20\nRUN apk add curl && curl -o /x https://x\n")
    assert (curl.estimated_bytes, wget.estimated_bytes, apk.estimated_bytes) == (
        CURL_DEBIAN_BYTES,
        WGET_DEBIAN_BYTES,
        None,
    )
    assert (curl.column, curl.end_column) == (24, 28)


# ---------------------------------------------------------------------------------------------
# SL904 curl-and-wget

SL904_CATCHES = [
    ("FROM debian:12\nRUN curl -o /a https://a\nRUN wget https://b\n", [3], "use `curl` here too"),
    (
        "FROM debian:12\nRUN wget -q https://b && curl -fsSL https://a | tar xz\n",
        [2],
        "use `wget` here too",
    ),
]
SL904_LEAVES_ALONE = [
    # One tool per branch: the image uses one of them, depending on the architecture.
    'FROM alpine:3.20\nRUN case "$(apk --print-arch)" in \\\n'
    "    x86_64) wget -O /tmp/k https://a ;; \\\n"
    "    *) apk add --no-cache --virtual .b curl && curl -fLO https://b && apk del .b ;; \\\n"
    "  esac\n",
    "FROM debian:12\nRUN wget -q https://a || curl -fsSLO https://a\n",
    "FROM debian:12\nRUN curl -o /a https://a && curl -o /b https://b\n",
    "FROM debian:12 AS b\nRUN wget https://b\nFROM debian:12\nRUN curl -o /a https://a\n",
    "FROM debian:12\nRUN apt-get install -y curl wget-hsts\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL904_CATCHES)
def test_sl904_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL904", text, lines, fragment)


@pytest.mark.parametrize("text", SL904_LEAVES_ALONE)
def test_sl904_leaves_alone(text: str) -> None:
    assert run_rule("SL904", text) == []


# ---------------------------------------------------------------------------------------------
# SL905 distroless-opportunity

GO_BUILD = (
    "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /out/app .\n"
)
RUST_BUILD = "FROM rust:1.80 AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\n"

SL905_CATCHES = [
    (
        GO_BUILD
        + 'FROM debian:12-slim\nCOPY --from=build /out/app /usr/local/bin/app\nENTRYPOINT ["/usr/local/bin/app"]\n',
        [5],
        "gcr.io/distroless/static-debian12",
    ),
    (
        GO_BUILD
        + 'FROM alpine:3.20\nRUN apk add --no-cache ca-certificates tzdata && adduser -D app\nCOPY --from=build /out/app /usr/local/bin/\nUSER app\nENTRYPOINT ["/usr/local/bin/app"]\n',
        [5],
        "`alpine`",
    ),
    (
        RUST_BUILD
        + 'FROM debian:bookworm-slim\nWORKDIR /srv\nCOPY --from=build /src/target/release/server .\nEXPOSE 8080\nCMD ["./server", "--port", "8080"]\n',
        [5],
        "`./server`",
    ),
    (
        GO_BUILD
        + 'FROM ubuntu:24.04\nCOPY --from=build /out/app /app\nHEALTHCHECK CMD ["/app", "health"]\nCMD ["/app"]\n',
        [5],
        "`ubuntu`",
    ),
]
SL905_LEAVES_ALONE = [
    # Already minimal.
    GO_BUILD
    + 'FROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/app /app\nENTRYPOINT ["/app"]\n',
    GO_BUILD + 'FROM scratch\nCOPY --from=build /out/app /app\nENTRYPOINT ["/app"]\n',
    # Needs more than a distroless base gives.
    GO_BUILD
    + 'FROM debian:12-slim\nRUN apt-get update && apt-get install -y libpq5\nCOPY --from=build /out/app /app\nCMD ["/app"]\n',
    GO_BUILD
    + 'FROM debian:12-slim\nCOPY --from=build /out/app /app\nRUN /app --selftest\nCMD ["/app"]\n',
    GO_BUILD
    + 'FROM debian:12-slim\nCOPY --from=build /out/app /app\nHEALTHCHECK CMD curl -f http://localhost/ || exit 1\nCMD ["/app"]\n',
    # Shell form, scripts, interpreters, wrappers.
    GO_BUILD + "FROM debian:12-slim\nCOPY --from=build /out/app /app\nCMD /app --port $PORT\n",
    GO_BUILD
    + 'FROM debian:12-slim\nCOPY --from=build /out/app /app\nCOPY start.sh /\nCMD ["/start.sh"]\n',
    GO_BUILD
    + 'FROM debian:12-slim\nCOPY --from=build /out/app /app\nENTRYPOINT ["tini", "--", "/app"]\n',
    'FROM python:3.12 AS build\nRUN pip wheel -w /w .\nFROM debian:12-slim\nCOPY --from=build /w /w\nCMD ["python3", "-m", "app"]\n',
    # The program does not come from a build stage.
    'FROM debian:12-slim AS x\nFROM debian:12-slim\nCOPY app /app\nCMD ["/app"]\n',
    # On musl without evidence of a static build.
    'FROM golang:1.22-alpine AS build\nRUN go build -o /out/app .\nFROM alpine:3.20\nCOPY --from=build /out/app /app\nCMD ["/app"]\n',
    # A single-stage file.
    'FROM debian:12-slim\nCOPY app /app\nCMD ["/app"]\n',
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL905_CATCHES)
def test_sl905_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL905", text, lines, fragment)
    assert all(f.severity is Severity.INFO for f in run_rule("SL905", text))


@pytest.mark.parametrize("text", SL905_LEAVES_ALONE)
def test_sl905_leaves_alone(text: str) -> None:
    assert run_rule("SL905", text) == []


# ---------------------------------------------------------------------------------------------
# SL906 ssh-server

SL906_CATCHES = [
    (
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y openssh-server\nEXPOSE 22\n",
        [2],
        "installs an SSH server",
    ),
    ("FROM alpine:3.20\nRUN apk add --no-cache openssh\n", [2], "`openssh`"),
    ("FROM debian:12\nRUN apt-get install -y dropbear\n", [2], "`dropbear`"),
    ("FROM debian:12\nRUN apt-get install -y ssh\n", [2], "`ssh`"),
    ("FROM linuxserver/openssh-server:latest\nEXPOSE 8080 22/tcp\n", [2], "EXPOSE 22"),
]
SL906_LEAVES_ALONE = [
    "FROM debian:12\nRUN apt-get install -y openssh-client git\n",
    "FROM rockylinux:9\nRUN dnf install -y openssh-clients openssh\n",
    "FROM debian:12\nEXPOSE 2222 8022 220\n",
    "FROM debian:12 AS b\nRUN apt-get install -y openssh-server\nFROM debian:12\n",
    "FROM debian:12\nRUN apt-get install -y openssh-server && ssh-keygen -A && apt-get purge -y openssh-server\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL906_CATCHES)
def test_sl906_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL906", text, lines, fragment)


@pytest.mark.parametrize("text", SL906_LEAVES_ALONE)
def test_sl906_leaves_alone(text: str) -> None:
    assert run_rule("SL906", text) == []


def test_sl906_points_at_the_port() -> None:
    [f] = run_rule("SL906", "FROM debian:12\nEXPOSE 8080 22/tcp\n")
    assert (f.column, f.end_column) == (13, 19)
    assert f.refs == ("DS-0004",)


# ---------------------------------------------------------------------------------------------
# SL907 setuid-file

SL907_CATCHES = [
    (
        "FROM debian:12\nRUN chmod u+s /usr/local/bin/gosu\n",
        [2],
        "mode u+s makes /usr/local/bin/gosu setuid",
    ),
    ("FROM debian:12\nRUN chmod +s /usr/bin/tool\n", [2], "setuid"),
    ("FROM debian:12\nRUN chmod 4755 /usr/bin/tool && chmod -R 06755 /opt/x\n", [2, 2], "setuid"),
    ("FROM debian:12\nRUN chmod a+rx,u+s /usr/bin/tool\n", [2], "setuid"),
    ("FROM debian:12\nRUN install -m 4755 tool /usr/local/bin/tool\n", [2], "`install` mode 4755"),
    ("FROM debian:12\nCOPY --chmod=4755 tool /usr/local/bin/\n", [2], "--chmod=4755"),
]
SL907_LEAVES_ALONE = [
    "FROM debian:12\nRUN chmod g+s /srv/shared && chmod 2775 /srv/shared\n",
    "FROM debian:12\nRUN chmod u-s /usr/bin/passwd && chmod a-s /usr/bin/chsh && chmod -s /bin/su\n",
    "FROM debian:12\nRUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + || true\n",
    "FROM debian:12\nRUN chmod 755 /app && chmod +x /entrypoint.sh && chmod 0644 /etc/x\n",
    "FROM debian:12\nRUN chmod $MODE /app\n",
    "FROM debian:12\nCOPY --chmod=755 tool /usr/local/bin/\n",
    "FROM debian:12 AS b\nRUN chmod u+s /x\nFROM debian:12\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL907_CATCHES)
def test_sl907_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL907", text, lines, fragment)


@pytest.mark.parametrize("text", SL907_LEAVES_ALONE)
def test_sl907_leaves_alone(text: str) -> None:
    assert run_rule("SL907", text) == []


def test_sl907_points_at_the_mode() -> None:
    [f] = run_rule("SL907", "FROM debian:12\nRUN chmod -R u+s /usr/bin/tool\n")
    assert (f.column, f.end_column) == (14, 17)
    assert f.refs == ("CIS-DI-0008",)


# ---------------------------------------------------------------------------------------------
# Robustness

ODD_INPUTS = [
    "FROM debian:12\nRUN\n",
    'FROM debian:12\nRUN ["sudo", "apt-get", "install", "-y", "curl"]\n',
    "FROM debian:12\nRUN apt-get install -y $TOOLS ${SSH:-openssh-server}\n",
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN Invoke-WebRequest https://x -OutFile x; curl.exe -o y https://y\n',
    "FROM debian:12\nONBUILD RUN sudo chmod u+s /x\n",
    "FROM debian:12\nEXPOSE\n",
    "FROM debian:12\nEXPOSE $PORT\nCOPY --chmod=$MODE a /b\n",
    "FROM golang AS b\nFROM debian\nCOPY --from=b\nCMD []\n",
    'FROM golang AS b\nFROM debian\nCOPY --from=b /x /y\nENTRYPOINT [""]\n',
    "FROM debian:12\nRUN chmod\nRUN install -m\nRUN sudo\n",
]


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_input_does_not_raise(text: str) -> None:
    result = check_text(text, "Dockerfile", Config(select=("SL9",)))
    assert result.error is not None or isinstance(result.findings, list)
