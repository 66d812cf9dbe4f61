import pytest

from slimline.dockerfile.rules.layer_waste import APT_LISTS_BYTES, LASTLOG_RECORD_BYTES
from tests.dockerfile.rules.harness import lines_of, run_rule

APP = 'CMD ["/app/run"]\n'

# --- SL601 update-alone ----------------------------------------------------------------

SL601_CATCHES = [
    (
        "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n",
        [2],
        "apt-get update",
    ),
    ("FROM ubuntu\nRUN apt update -qq\n", [2], "apt update"),
    ("FROM alpine:3.20\nRUN apk update\nRUN apk add curl\n", [2], "apk add --no-cache"),
    ("FROM centos:7\nRUN yum makecache\n", [2], "yum clean all"),
    ("FROM opensuse/leap\nRUN zypper refresh\n", [2], "zypper clean"),
    ("FROM debian\nRUN set -eux; apt-get update; rm -f /tmp/x\n", [2], "apt-get update"),
    # Build stages too: the stale-cache problem is the same there.
    ("FROM debian AS build\nRUN apt-get update\nFROM scratch\n", [2], "stale"),
    ('FROM debian\nRUN ["apt-get", "update"]\n', [2], "apt-get update"),
    # Options before the action: the message still names the action.
    ("FROM debian\nRUN apt-get -y update\n", [2], "`apt-get update` alone"),
]
SL601_LEAVES_ALONE = [
    "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    "FROM debian\nRUN apt-get update && apt-get -y upgrade\n",
    "FROM alpine\nRUN apk update && apk upgrade\n",
    "FROM debian\nRUN apt-get update && ./install-deps.sh\n",
    "FROM debian\nRUN apt-get update && curl -fsSL https://deb.nodesource.com/setup_20.x | bash -\n",
    "FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n",
    "FROM debian\nRUN echo apt-get update\n",
]


@pytest.mark.parametrize(("text", "lines", "word"), SL601_CATCHES)
def test_sl601_catches(text: str, lines: list[int], word: str) -> None:
    found = run_rule("SL601", text)
    assert [f.line for f in found] == lines
    assert word in found[0].message


@pytest.mark.parametrize("text", SL601_LEAVES_ALONE)
def test_sl601_leaves_alone(text: str) -> None:
    assert run_rule("SL601", text) == []


def test_sl601_estimate_only_for_apt_in_the_final_image() -> None:
    assert (
        run_rule("SL601", "FROM debian\nRUN apt-get update\n")[0].estimated_bytes == APT_LISTS_BYTES
    )
    build = "FROM debian AS b\nRUN apt-get update\nFROM scratch\n"
    assert run_rule("SL601", build)[0].estimated_bytes is None
    assert run_rule("SL601", "FROM alpine\nRUN apk update\n")[0].estimated_bytes is None


# --- SL602 deleted-in-later-layer ----------------------------------------------------

SL602_CATCHES = [
    # Scratch directories emptied by a RUN that builds nothing: the copy put them there.
    ("FROM debian\nWORKDIR /app\nCOPY . .\nRUN rm -rf tmp/*\n" + APP, [4], "may have added"),
    (
        "FROM debian\nWORKDIR /app\nCOPY vendor ./\nRUN rm -rf cache/*.gem\n" + APP,
        [4],
        "COPY at line 3",
    ),
    ("FROM debian\nCOPY big.bin /tmp/\nRUN rm /tmp/big.bin\n" + APP, [3], "COPY at line 2 added"),
    (
        "FROM debian\nWORKDIR /app\nCOPY . .\nRUN rm -rf tests docs\n" + APP,
        [4, 4],
        "may have added",
    ),
    (
        "FROM debian\nRUN curl -fsSLo /tmp/x.deb https://e.com/x.deb && dpkg -i /tmp/x.deb\n"
        "RUN rm /tmp/x.deb\n" + APP,
        [3],
        "downloaded",
    ),
    (
        "FROM debian\nWORKDIR /src\nRUN git clone https://github.com/a/tool.git\n"
        "RUN cd tool && make install\nRUN rm -rf /src/tool\n" + APP,
        [5],
        "cloned",
    ),
    (
        "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n"
        + APP,
        [3],
        "apt package lists left by the RUN at line 2",
    ),
    ("FROM centos:7\nRUN yum install -y httpd\nRUN yum clean all\n" + APP, [3], "yum/dnf cache"),
    (
        "FROM python:3.12\nRUN pip install flask\nRUN rm -rf ~/.cache/pip\n" + APP,
        [3],
        "pip's cache",
    ),
    # Variables and the chain of stages.
    (
        "FROM debian AS base\nENV DIR=/opt/dl\nRUN wget -P $DIR https://e.com/a.bin\n"
        "FROM base\nRUN rm -f ${DIR}/a.bin\n" + APP,
        [5],
        "downloaded",
    ),
    # Relative to the base image's unknown WORKDIR on both sides; ENV built from ENV.
    ("FROM node:20\nCOPY . .\nRUN rm -rf test\n" + APP, [3], "may have added"),
    (
        "FROM debian\nENV HOME=/home/app\nENV APP_HOME=$HOME/web\nCOPY big.iso $APP_HOME/\n"
        "RUN rm /home/app/web/big.iso\n",
        [5],
        "COPY at line 4",
    ),
    # Inside a heredoc RUN.
    ("FROM debian\nCOPY x.bin /x.bin\nRUN <<EOF\nset -e\nrm /x.bin\nEOF\n" + APP, [5], "COPY"),
]
SL602_LEAVES_ALONE = [
    # Same RUN.
    "FROM debian\nRUN curl -o /tmp/x.tgz https://e.com/x.tgz && tar -xzf /tmp/x.tgz && rm /tmp/x.tgz\n",
    "FROM debian\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
    # Build stage.
    "FROM debian AS build\nCOPY . /src\nRUN rm -rf /src/tests\nFROM scratch\nCOPY --from=build /src /\n",
    # Base-image files and paths nothing added.
    "FROM debian\nRUN rm -rf /usr/share/doc/*\n",
    "FROM debian\nCOPY app /app\nRUN rm -rf /tmp/*\n",
    "FROM debian\nCOPY rootfs/ /\nRUN rm -rf /etc/motd\n",
    # Caches that were never written.
    "FROM python:3.12\nRUN pip install --no-cache-dir flask\nRUN rm -rf /root/.cache/pip\n",
    "FROM alpine\nRUN apk add --no-cache curl\nRUN rm -rf /var/cache/apk/*\n",
    "FROM debian\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update\n"
    "RUN rm -rf /var/lib/apt/lists/*\n",
    # SL606 reports an archive that is copied and extracted later.
    "FROM debian\nCOPY a.tgz /tmp/\nRUN tar -xzf /tmp/a.tgz -C /opt && rm /tmp/a.tgz\n",
    # Unknown variables.
    "FROM debian\nCOPY x /x\nRUN rm -rf $UNKNOWN/x\n",
    # Small scripts and text files: deleting them later wastes next to nothing.
    "FROM debian\nCOPY install.sh requirements.txt /tmp/\nRUN /tmp/install.sh\n"
    "RUN rm /tmp/install.sh /tmp/requirements.txt\n",
    "FROM node:20\nWORKDIR /app\nCOPY .npmrc-ci .npmrc\nRUN npm ci\nRUN rm -f .npmrc\n",
    # A path the same RUN creates (a symlink into a copied tree).
    "FROM debian\nCOPY . /app\nRUN ln -s /public /app/public && build && rm -rf /app/public\n",
    # A build step empties the scratch directories it wrote to in the copied tree.
    "FROM ruby:3.3-slim\nWORKDIR /app\nCOPY . .\n"
    "RUN rails assets:precompile && rm -rf tmp/* log/* .cache/*\n",
    # Extensionless names that are files (Gemfile) cannot have put anything in vendor/.
    "FROM ruby:3.3-slim\nWORKDIR /app\nCOPY Gemfile Gemfile.lock ./\n"
    "RUN bundle install\nRUN rm -rf vendor/bundle/ruby/3.3.0/cache/*.gem\n",
]


@pytest.mark.parametrize(("text", "lines", "word"), SL602_CATCHES)
def test_sl602_catches(text: str, lines: list[int], word: str) -> None:
    found = run_rule("SL602", text)
    assert [f.line for f in found] == lines
    assert word in found[0].message


@pytest.mark.parametrize("text", SL602_LEAVES_ALONE)
def test_sl602_leaves_alone(text: str) -> None:
    assert run_rule("SL602", text) == []


def test_sl602_points_at_the_deleted_path() -> None:
    text = "FROM debian\nCOPY big.bin /tmp/\nRUN rm -f /etc/x /tmp/big.bin\n"
    [finding] = run_rule("SL602", text)
    assert finding.column == text.splitlines()[2].index("/tmp/big.bin") + 1


def test_sl602_apt_lists_estimate_is_not_counted_twice_with_sl601() -> None:
    alone = "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n"
    assert run_rule("SL602", alone)[0].estimated_bytes is None
    joined = "FROM debian\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n"
    assert run_rule("SL602", joined)[0].estimated_bytes == APT_LISTS_BYTES


# --- SL603 package-removed-in-later-layer ----------------------------------------------

SL603_CATCHES = [
    (
        "FROM debian\nRUN apt-get install -y gcc make\nRUN make\nRUN apt-get purge -y gcc\n",
        [4],
        "gcc",
    ),
    (
        "FROM alpine\nRUN apk add --virtual .build-deps gcc\nRUN make\nRUN apk del .build-deps\n",
        [4],
        ".build-deps",
    ),
    ("FROM python:3.12\nRUN pip install cython\nRUN pip uninstall -y cython\n", [3], "cython"),
    (
        "FROM debian AS base\nRUN apt-get install -y curl\nFROM base\nRUN apt-get remove -y curl\n",
        [4],
        "line 2",
    ),
]
SL603_LEAVES_ALONE = [
    "FROM debian\nRUN apt-get install -y gcc && make && apt-get purge -y gcc\n",
    "FROM debian\nRUN apt-get purge -y curl\n",  # came with the base image
    "FROM debian\nRUN apt-get install -y gcc\nRUN apt-get autoremove -y\n",
    "FROM debian AS build\nRUN apt-get install -y gcc\nRUN apt-get purge -y gcc\nFROM scratch\n",
]


@pytest.mark.parametrize(("text", "lines", "word"), SL603_CATCHES)
def test_sl603_catches(text: str, lines: list[int], word: str) -> None:
    found = run_rule("SL603", text)
    assert [f.line for f in found] == lines
    assert word in found[0].message
    assert "does not shrink the image" in found[0].message


@pytest.mark.parametrize("text", SL603_LEAVES_ALONE)
def test_sl603_leaves_alone(text: str) -> None:
    assert run_rule("SL603", text) == []


def test_sl603_estimate_for_known_debian_packages() -> None:
    text = "FROM debian:bookworm-slim\nRUN apt-get install -y git\nRUN apt-get purge -y git\n"
    [finding] = run_rule("SL603", text)
    assert finding.estimated_bytes is not None and finding.estimated_bytes > 50e6


# --- SL604 context-copied-before-dependencies ------------------------------------------

SL604_CATCHES = [
    (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
        [3],
        "requirements.txt",
    ),
    ("FROM node:20\nCOPY . /app\nRUN cd /app && npm ci\n", [2], "package-lock.json"),
    ("FROM node:20\nCOPY ./ ./\nRUN yarn install --frozen-lockfile\n", [2], "yarn.lock"),
    ("FROM golang:1.22\nCOPY . .\nRUN go mod download\nRUN go build -o /x\n", [2], "go.sum"),
    ("FROM ruby:3.3\nADD . /app\nRUN bundle install\n", [2], "Gemfile.lock"),
    ("FROM composer\nCOPY . .\nRUN composer install --no-dev\n", [2], "composer.lock"),
    ("FROM python:3.12\nCOPY . .\nRUN poetry install --no-root\n", [2], "poetry.lock"),
]
SL604_LEAVES_ALONE = [
    "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\nCOPY . .\n",
    "FROM node:20\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
    "FROM python:3.12\nCOPY . .\nRUN pip install .\n",
    "FROM node:20\nCOPY . .\nRUN npm install -g serve\n",
    "FROM python:3.12\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt\n",
    "FROM golang\nCOPY --from=deps /go /go\nRUN go mod download\n",
    "FROM node:20\nCOPY . .\nFROM node:20\nRUN npm ci\n",
    # Dependencies installed before the full copy; the second sync installs the project.
    "FROM python:3.12\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --no-install-project\n"
    "COPY . .\nRUN uv sync\n",
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv --mount=type=bind,source=uv.lock,"
    "target=uv.lock uv sync --no-install-project\nCOPY . /app\n"
    "RUN --mount=type=cache,target=/root/.cache/uv uv sync\n",
]


@pytest.mark.parametrize(("text", "lines", "word"), SL604_CATCHES)
def test_sl604_catches(text: str, lines: list[int], word: str) -> None:
    found = run_rule("SL604", text)
    assert [f.line for f in found] == lines
    assert word in found[0].message


@pytest.mark.parametrize("text", SL604_LEAVES_ALONE)
def test_sl604_leaves_alone(text: str) -> None:
    assert run_rule("SL604", text) == []


# --- SL605 recursive-chown-after-copy --------------------------------------------------

SL605_CATCHES = [
    ("FROM node:20\nCOPY . /app\nRUN chown -R node:node /app\n", [3], "COPY --chown=..."),
    ("FROM debian\nWORKDIR /app\nCOPY dist/ .\nRUN chmod -R 755 .\n", [4], "COPY --chmod=..."),
    ("FROM debian\nCOPY app /opt/app/\nRUN chown -R 1000 /opt\n", [3], "line 2"),
    (
        "FROM debian\nRUN git clone https://x/y /srv/y\nRUN chown --recursive app /srv/y\n",
        [3],
        "RUN at line 2",
    ),
    # A --chown to another owner does not make the later chown free.
    ("FROM node:20\nCOPY --chown=root . /app\nRUN chown -R node /app\n", [3], "line 2"),
]
SL605_LEAVES_ALONE = [
    "FROM node:20\nCOPY --chown=node:node . /app\nRUN mkdir -p /data && chown -R node /data\n",
    "FROM debian\nCOPY app /app\nRUN chown node /app\n",  # not recursive: only the directory
    "FROM debian\nRUN git clone https://x/y /srv/y && chown -R app /srv/y\n",
    "FROM debian AS b\nCOPY . /app\nRUN chown -R x /app\nFROM scratch\n",
    # Only a small configuration file was copied there.
    "FROM busybox\nCOPY prometheus.yml /etc/prometheus/prometheus.yml\n"
    "RUN chown -R nobody /etc/prometheus\n",
    # The copy already set that owner; the RUN re-owns what it generated next to the files.
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY --chown=app:app superset superset\n"
    "RUN ./gen-translations.sh && chown -R app:app superset/translations\n",
]


@pytest.mark.parametrize(("text", "lines", "word"), SL605_CATCHES)
def test_sl605_catches(text: str, lines: list[int], word: str) -> None:
    found = run_rule("SL605", text)
    assert [f.line for f in found] == lines
    assert word in found[0].message


@pytest.mark.parametrize("text", SL605_LEAVES_ALONE)
def test_sl605_leaves_alone(text: str) -> None:
    assert run_rule("SL605", text) == []


# --- SL606 archive-copied-then-extracted -----------------------------------------------

SL606_CATCHES = [
    (
        "FROM debian\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n",
        [2],
        "ADD app.tar.gz",
    ),
    ("FROM debian\nCOPY app.zip /tmp/app.zip\nRUN unzip /tmp/app.zip -d /opt\n", [2], "bind mount"),
    ("FROM debian\nADD https://e.com/x.tgz /tmp/\nRUN tar xzf /tmp/x.tgz\n", [2], "curl -fsSL URL"),
    (
        "FROM debian\nWORKDIR /opt\nRUN wget -q https://e.com/x.tar.xz\nRUN tar -xJf x.tar.xz && rm x.tar.xz\n",
        [3],
        "downloaded here",
    ),
    (
        'FROM debian\nCOPY ["dist.tgz", "/tmp/"]\nRUN tar --extract --file=/tmp/dist.tgz\n',
        [2],
        "dist.tgz",
    ),
    # ADD into an existing directory without a trailing slash (s6-overlay's documented form).
    (
        "FROM alpine:3.20\nADD https://e.com/s6-overlay-noarch.tar.xz /tmp\n"
        "RUN tar -C / -Jxpf /tmp/s6-overlay-noarch.tar.xz\n",
        [2],
        "s6-overlay-noarch.tar.xz is copied by ADD",
    ),
    ("FROM debian\nWORKDIR /src\nCOPY app.zip .\nRUN unzip app.zip\n", [3], "app.zip"),
    # The archive's name spelled with a build arg, on both sides.
    (
        "FROM alpine:3.20\nARG ARCH=x86_64\nADD https://e.com/s6-${ARCH}.tar.xz /tmp/\n"
        "RUN tar -C / -Jxpf /tmp/s6-${ARCH}.tar.xz\n",
        [3],
        "s6-x86_64.tar.xz",
    ),
    # Copied from a build stage: ADD cannot read from a stage, so the advice is a bind mount
    # of that stage (or extracting there).
    (
        "FROM debian AS build\nRUN make dist\nFROM debian\n"
        "COPY --from=build /out/app.tar.gz /root/\nRUN tar -xzf /root/app.tar.gz -C /opt\n",
        [4],
        "--mount=type=bind,from=build,source=/out/app.tar.gz",
    ),
]
SL606_LEAVES_ALONE = [
    "FROM debian\nADD app.tar.gz /opt/\n",
    "FROM debian\nRUN curl -fsSL https://e.com/x.tgz -o /tmp/x.tgz && tar -xzf /tmp/x.tgz && rm /tmp/x.tgz\n",
    "FROM debian\nCOPY app.tar.gz /tmp/\nRUN tar -czf /tmp/other.tar.gz /etc\n",
    "FROM debian\nCOPY app.jar /app/\nRUN java -jar /app/app.jar --version\n",
    "FROM debian AS b\nCOPY a.tgz /\nRUN tar -xzf /a.tgz\nFROM scratch\nCOPY --from=b / /\n",
    "FROM debian\nRUN --mount=type=bind,source=a.tgz,target=/tmp/a.tgz tar -xzf /tmp/a.tgz\n",
]


@pytest.mark.parametrize(("text", "lines", "word"), SL606_CATCHES)
def test_sl606_catches(text: str, lines: list[int], word: str) -> None:
    found = run_rule("SL606", text)
    assert [f.line for f in found] == lines
    assert word in found[0].message


@pytest.mark.parametrize("text", SL606_LEAVES_ALONE)
def test_sl606_leaves_alone(text: str) -> None:
    assert run_rule("SL606", text) == []


def test_sl606_points_at_the_copied_archive() -> None:
    text = "FROM debian\nCOPY --chown=1:1 app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz\n"
    [finding] = run_rule("SL606", text)
    assert (finding.line, finding.column) == (2, text.splitlines()[1].index("app.tar.gz") + 1)


# --- SL607 useradd-high-uid-lastlog ----------------------------------------------------

SL607_CATCHES = [
    ("FROM debian\nRUN useradd -u 1000000 app\n", [2], 1_000_001),
    (
        "FROM ubuntu\nRUN groupadd -g 65532 nonroot && useradd -m -u 65532 -g nonroot nonroot\n",
        [2],
        65533,
    ),
    ("FROM debian\nRUN useradd --uid=100000 app\n", [2], 100_001),
    ("FROM debian\nRUN useradd -mu 200000 app\n", [2], 200_001),
    ("FROM debian\nARG UID=123456\nRUN useradd -u ${UID} app\n", [3], 123_457),
]
SL607_LEAVES_ALONE = [
    "FROM debian\nRUN useradd -l -u 1000000 app\n",
    "FROM debian\nRUN useradd --no-log-init -u 1000000 app\n",
    "FROM debian\nRUN useradd -lmu 1000000 app\n",
    "FROM debian\nRUN useradd -u 10001 app\n",
    "FROM debian\nRUN useradd -r app\n",
    "FROM debian\nRUN useradd -u $UID app\n",
    "FROM alpine\nRUN apk add --no-cache shadow && useradd -u 1000000 app\n",
    "FROM debian AS b\nRUN useradd -u 1000000 app\nFROM scratch\n",
]


@pytest.mark.parametrize(("text", "lines", "records"), SL607_CATCHES)
def test_sl607_catches(text: str, lines: list[int], records: int) -> None:
    found = run_rule("SL607", text)
    assert [f.line for f in found] == lines
    assert found[0].estimated_bytes == records * LASTLOG_RECORD_BYTES
    assert "-l" in found[0].message


@pytest.mark.parametrize("text", SL607_LEAVES_ALONE)
def test_sl607_leaves_alone(text: str) -> None:
    assert run_rule("SL607", text) == []


# --- SL608 split-package-installs (opt-in) ---------------------------------------------

SL608_CATCHES = [
    (
        "FROM debian\nRUN apt-get update && apt-get install -y curl\n# git too\n"
        "RUN apt-get update && apt-get install -y git\n",
        [4],
    ),
    (
        "FROM alpine\nRUN apk add --no-cache curl\nRUN apk add --no-cache git\nRUN apk add jq\n",
        [3, 4],
    ),
]
SL608_LEAVES_ALONE = [
    "FROM debian\nRUN apt-get install -y curl\nENV X=1\nRUN apt-get install -y git\n",
    "FROM debian\nRUN apt-get install -y curl\nRUN pip install flask\n",
    "FROM debian AS b\nRUN apt-get install -y a\nRUN apt-get install -y b\nFROM scratch\n",
    "FROM debian\nRUN apt-get install -y curl && apt-get install -y git\n",
]


@pytest.mark.parametrize(("text", "lines"), SL608_CATCHES)
def test_sl608_catches(text: str, lines: list[int]) -> None:
    found = run_rule("SL608", text)
    assert [f.line for f in found] == lines
    assert "one RUN" in found[0].message


@pytest.mark.parametrize("text", SL608_LEAVES_ALONE)
def test_sl608_leaves_alone(text: str) -> None:
    assert run_rule("SL608", text) == []


def test_sl608_is_opt_in() -> None:
    from slimline.api import rules

    assert rules()["SL608"].default_enabled is False
    assert all(rules()[f"SL60{i}"].default_enabled for i in range(1, 8))


# --- Robustness ------------------------------------------------------------------------

ODD = [
    "FROM debian\nRUN\n",
    'FROM debian\nSHELL ["cmd", "/S", "/C"]\nRUN rm -rf C:\\\\x\n',
    "FROM debian\nONBUILD RUN rm -rf /x\nONBUILD COPY . /app\n",
    "FROM debian\nCOPY <<EOF /x\nhi\nEOF\nRUN rm /x\n",
    "FROM debian\nCOPY\nRUN rm\nRUN chown -R\nRUN tar -x\nRUN useradd -u\nRUN wget -O\n",
    "FROM debian\nWORKDIR $NOPE\nCOPY . .\nRUN rm -rf x && cd $X && rm y && tar xf\n",
    "FROM debian\nRUN curl -o\nRUN git clone\nRUN cd\nRUN useradd -u abc x\n",
    'FROM debian\nRUN ["sh", "-c", "rm -rf /x"]\n',
]


@pytest.mark.parametrize("text", ODD)
@pytest.mark.parametrize("rule", [f"SL60{i}" for i in range(1, 9)])
def test_odd_input_does_not_crash(rule: str, text: str) -> None:
    lines_of(rule, text)
