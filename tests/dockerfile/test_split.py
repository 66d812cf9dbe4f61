"""`fix --split`: a single-stage Dockerfile becomes a build stage and a slim runtime stage.

Table-driven: each case is a Dockerfile (and, where it matters, files of its build context)
and the exact multi-stage text, or None when the split is refused with the start of the
reason. The bundled examples are checked against golden files under tests/golden/split/
(regenerate with SLIMLINE_UPDATE_GOLDEN=1). Every output must parse as BuildKit parses it, and
`slimline check` must find no build-tools finding (SL5xx) in its final image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from slimline.api import check_text
from slimline.dockerfile.parse import ParseError, parse
from slimline.dockerfile.split import SplitResult, split, splitters
from tests.dockerfile.oracle import buildkit_view, our_view

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "split"
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "Dockerfile").is_file())


def assert_valid(text: str) -> None:
    """BuildKit parses ``text`` as we do, and its final image has no build tools."""
    view = buildkit_view(text)
    assert not isinstance(view, str), f"BuildKit rejects the output: {view}"
    assert our_view(parse(text)) == view
    result = check_text(text, "Dockerfile")
    assert result.error is None, result.error
    assert [f for f in result.findings if f.rule.startswith("SL5")] == []


def notes_text(result: SplitResult) -> str:
    lines = [f"refused: {result.refused}"] if result.refused else []
    lines += [str(n) for n in result.notes]
    return "\n".join(lines) + "\n"


def matches_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SLIMLINE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}: run with SLIMLINE_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_match_golden(name: str) -> None:
    directory = ROOT / "examples" / name
    text = (directory / "Dockerfile").read_text(encoding="utf-8")
    result = split(text, "Dockerfile", dev=True, context=directory)
    assert result.changed, result.refused
    assert result.dev_text is not None
    matches_golden(f"{name}.Dockerfile", result.text)
    matches_golden(f"{name}.dev.Dockerfile", result.dev_text)
    matches_golden(f"{name}.notes", notes_text(result))
    assert_valid(result.text)
    assert buildkit_view(result.dev_text) == our_view(parse(result.dev_text))


@dataclass(frozen=True)
class Case:
    id: str
    dockerfile: str
    expected: str | None  # None: refused, nothing changed
    reason: str = ""  # the start of the refusal
    files: dict[str, str] = field(default_factory=dict)  # the build context, when read


CASES = [
    Case(
        "python-libpq",
        (
            "FROM python:3.12-bookworm\n"
            "ENV PYTHONDONTWRITEBYTECODE=1\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends gcc libpq-dev curl \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "RUN useradd --create-home app\n"
            "WORKDIR /app\n"
            "# Dependencies first, for the layer cache.\n"
            "COPY requirements.txt .\n"
            "RUN pip install --no-cache-dir -r requirements.txt\n"
            "COPY . .\n"
            "USER app\n"
            "HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1\n"
            'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
        ),
        (
            "# Build stage: the original image, with its compilers and headers; it does not ship.\n"
            "FROM python:3.12-bookworm AS build\n"
            "ENV PYTHONDONTWRITEBYTECODE=1\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends gcc libpq-dev curl \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "RUN useradd --create-home app\n"
            "WORKDIR /app\n"
            "# Dependencies first, for the layer cache.\n"
            "COPY requirements.txt .\n"
            "RUN python -m venv /opt/venv\n"
            "ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH\n"
            "RUN pip install --no-cache-dir -r requirements.txt\n"
            "\n"
            "# Runtime stage: the virtualenv and the application, without compilers or headers.\n"
            "FROM python:3.12-slim-bookworm\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends libpq5 curl \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "ENV PYTHONDONTWRITEBYTECODE=1\n"
            "RUN useradd --create-home app\n"
            "WORKDIR /app\n"
            "# Dependencies first, for the layer cache.\n"
            "COPY requirements.txt .\n"
            "COPY --from=build /opt/venv /opt/venv\n"
            "ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH\n"
            "COPY . .\n"
            "USER app\n"
            "HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1\n"
            'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
        ),
        files={
            "requirements.txt": "gunicorn==22.0.0\npsycopg2==2.9.9  # no wheels: built from source\n",
        },
    ),
    Case(
        "python-arg-version",
        """\
ARG PY=3.11
FROM python:${PY}
WORKDIR /srv
COPY . .
RUN pip install .
CMD ["myapp"]
""",
        """\
ARG PY=3.11
# Build stage: the original image, with its compilers and headers; it does not ship.
FROM python:${PY} AS build
WORKDIR /srv
COPY . .
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install .

# Runtime stage: the virtualenv and the application, without compilers or headers.
FROM python:${PY}-slim
WORKDIR /srv
COPY . .
COPY --from=build /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
CMD ["myapp"]
""",
    ),
    Case(
        "python-own-venv",
        """\
FROM python:3.12
RUN python -m venv /venv
ENV PATH="/venv/bin:$PATH"
COPY requirements.txt /tmp/
RUN pip install --no-cache-dir -r /tmp/requirements.txt
COPY app.py /srv/
CMD ["python", "/srv/app.py"]
""",
        """\
# Build stage: the original image, with its compilers and headers; it does not ship.
FROM python:3.12 AS build
RUN python -m venv /venv
ENV PATH="/venv/bin:$PATH"
COPY requirements.txt /tmp/
RUN pip install --no-cache-dir -r /tmp/requirements.txt

# Runtime stage: the virtualenv and the application, without compilers or headers.
FROM python:3.12-slim
COPY --from=build /venv /venv
ENV PATH="/venv/bin:$PATH"
COPY requirements.txt /tmp/
COPY app.py /srv/
CMD ["python", "/srv/app.py"]
""",
    ),
    Case(
        "node-build",
        """\
FROM node:18-bookworm
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
ENV NODE_ENV=production
USER node
EXPOSE 8080
CMD ["node", "dist/server.js"]
""",
        """\
# Build stage: install and build with every dependency; only the app directory ships.
FROM node:18-bookworm AS build
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
RUN npm prune --omit=dev

# Runtime stage: the application and its production dependencies only.
FROM node:18-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production
USER node
EXPOSE 8080
CMD ["node", "dist/server.js"]
""",
    ),
    Case(
        "go-install-user",
        """\
FROM golang:1.22-bookworm
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go install -trimpath ./cmd/server
RUN useradd --system svc
USER svc
HEALTHCHECK CMD server -healthcheck
CMD server --listen :8080
""",
        """\
# Build stage: the Go toolchain compiles the program; it does not ship.
FROM golang:1.22-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go install -trimpath ./cmd/server
RUN useradd --system svc

# Runtime stage: the static binary and the few files it reads, nothing else.
FROM scratch
WORKDIR /src
COPY --from=build /etc/passwd /etc/group /etc/
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /go/bin/server /go/bin/server
USER svc
HEALTHCHECK CMD ["/go/bin/server", "-healthcheck"]
CMD ["/go/bin/server", "--listen", ":8080"]
""",
    ),
    Case(
        "go-cgo",
        """\
FROM golang:1.22-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN CGO_ENABLED=1 go build -o app .
CMD ["./app"]
""",
        (
            "# Build stage: the Go toolchain compiles the program; it does not ship.\n"
            "FROM golang:1.22-bookworm AS build\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev && rm -rf /var/lib/apt/lists/*\n"
            "WORKDIR /src\n"
            "COPY . .\n"
            "RUN CGO_ENABLED=1 go build -o app .\n"
            "RUN set -eu; \\\n"
            "    mkdir -p /runtime-root; \\\n"
            "    bin=/src/app; \\\n"
            '    for f in "$bin" $(ldd "$bin" | grep -o "/[^ ]*" || true); do \\\n'
            '        dir="$(realpath "$(dirname "$f")")"; \\\n'
            '        cp -P --parents "$dir/$(basename "$f")" /runtime-root/; \\\n'
            '        cp --parents "$(realpath "$f")" /runtime-root/; \\\n'
            "    done\n"
            "\n"
            "# Runtime stage: the program and the shared libraries it links, on slim Debian.\n"
            "FROM debian:bookworm-slim\n"
            "WORKDIR /src\n"
            "COPY --from=build /runtime-root/ /\n"
            'CMD ["/src/app"]\n'
        ),
    ),
    Case(
        "go-tls",
        """\
FROM golang:1.22
WORKDIR /src
COPY . .
RUN go build -o /bin/fetcher .
ENTRYPOINT ["fetcher"]
""",
        """\
# Build stage: the Go toolchain compiles the program; it does not ship.
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
ENV CGO_ENABLED=0
RUN go build -o /bin/fetcher .

# Runtime stage: the static binary and the few files it reads, nothing else.
FROM scratch
WORKDIR /src
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /bin/fetcher /bin/fetcher
ENTRYPOINT ["/bin/fetcher"]
""",
        files={
            "go.mod": "module example.com/fetcher\n\ngo 1.22\n",
            "main.go": 'package main\n\nimport (\n\t"fmt"\n\t"net/http"\n\t"time"\n)\n\nfunc main() {\n\tloc, _ := time.LoadLocation("Europe/Paris")\n\tresp, err := http.Get("https://example.com/")\n\tfmt.Println(loc, resp, err)\n}\n',
        },
    ),
    Case(
        "c-cmake-ubuntu",
        (
            "FROM ubuntu:22.04\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends build-essential cmake libssl-dev ca-certificates \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "COPY . /src\n"
            "RUN cmake -S /src -B /build && cmake --build /build\n"
            "COPY tool.conf /etc/tool/tool.conf\n"
            'CMD ["/build/tool", "--config", "/etc/tool/tool.conf"]\n'
        ),
        (
            "# Build stage: compilers and headers build the program; it does not ship.\n"
            "FROM ubuntu:22.04 AS build\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends build-essential cmake libssl-dev ca-certificates \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "COPY . /src\n"
            "RUN cmake -S /src -B /build && cmake --build /build\n"
            "RUN set -eu; \\\n"
            "    mkdir -p /runtime-root; \\\n"
            "    bin=/build/tool; \\\n"
            '    for f in "$bin" $(ldd "$bin" | grep -o "/[^ ]*" || true); do \\\n'
            '        dir="$(realpath "$(dirname "$f")")"; \\\n'
            '        cp -P --parents "$dir/$(basename "$f")" /runtime-root/; \\\n'
            '        cp --parents "$(realpath "$f")" /runtime-root/; \\\n'
            "    done\n"
            "\n"
            "# Runtime stage: the program and the shared libraries it links, nothing else.\n"
            "FROM ubuntu:22.04\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends ca-certificates \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "COPY --from=build /runtime-root/ /\n"
            "COPY tool.conf /etc/tool/tool.conf\n"
            'CMD ["/build/tool", "--config", "/etc/tool/tool.conf"]\n'
        ),
    ),
    Case(
        "multi-stage",
        """\
FROM python:3.12 AS build
RUN pip wheel --wheel-dir /wheels flask
FROM python:3.12-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*
CMD ["flask", "run"]
""",
        None,
        reason="already multi-stage (2 stages): slimline splits single-stage files",
    ),
    Case(
        "unknown",
        """\
FROM alpine:3.20
RUN apk add --no-cache bash
COPY run.sh /usr/local/bin/
CMD ["run.sh"]
""",
        None,
        reason="no splitter recognises this Dockerfile (known: python, node,",
    ),
    Case(
        "onbuild",
        """\
FROM python:3.12
ONBUILD COPY . /app
ONBUILD RUN pip install -r /app/requirements.txt
""",
        None,
        reason="ONBUILD at line 2: the image is a",
    ),
    Case(
        "supervisor",
        """\
FROM python:3.12
RUN apt-get update && apt-get install -y --no-install-recommends supervisor && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir gunicorn celery
CMD ["supervisord", "-n", "-c", "/etc/supervisor/supervisord.conf"]
""",
        None,
        reason="line 4: the image starts the supervisord process",
    ),
    Case(
        "pip-user",
        """\
FROM python:3.12
RUN pip install --user flask
CMD ["python", "-m", "flask", "run"]
""",
        None,
        reason="the RUN at line 2 installs with --user,",
    ),
    Case(
        "pip-and-more",
        """\
FROM python:3.12
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt && python manage.py collectstatic --noinput
CMD ["gunicorn", "site.wsgi"]
""",
        None,
        reason="the RUN at line 4 also runs `python",
    ),
    Case(
        "go-run",
        """\
FROM golang:1.22
WORKDIR /src
COPY . .
RUN go build -o /bin/tool .
CMD ["go", "run", "."]
""",
        None,
        reason="the CMD at line 5 runs go, not",
    ),
    Case(
        "c-shell-cmd",
        """\
FROM debian:bookworm
RUN apt-get update && apt-get install -y gcc make
COPY . /src
RUN make -C /src
CMD ["sh", "-c", "/src/tool --verbose"]
""",
        None,
        reason="the CMD at line 5 runs sh, not",
    ),
    Case(
        "npm-global",
        """\
FROM node:20
WORKDIR /app
RUN npm install -g pm2
COPY . .
RUN npm ci
CMD ["pm2-runtime", "server.js"]
""",
        None,
        reason="the RUN at line 3 installs packages globally,",
    ),
    Case(
        "git-at-runtime",
        """\
FROM python:3.12
RUN pip install --no-cache-dir flask
RUN git clone https://example.com/plugins.git /opt/plugins
CMD ["python", "-m", "flask", "run"]
""",
        None,
        reason="the RUN at line 3 runs git outside",
    ),
    Case(
        "go-no-output",
        """\
FROM golang:1.22
WORKDIR /src
COPY . .
RUN go build .
CMD ["./src"]
""",
        None,
        reason="the RUN at line 4 builds without -o:",
    ),
    Case(
        "python-no-pip",
        """\
FROM python:3.12
COPY app.py /
CMD ["python", "/app.py"]
""",
        None,
        reason="no `pip install`: nothing is built, so there",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_split(case: Case, tmp_path: Path) -> None:
    for name, content in case.files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    result = split(case.dockerfile, "Dockerfile", context=tmp_path if case.files else None)
    if case.expected is None:
        assert not result.changed and result.text == case.dockerfile
        assert result.refused is not None and result.refused.startswith(case.reason)
        assert result.dev_text is None
        return
    assert result.refused is None
    assert result.text == case.expected
    assert_valid(result.text)


@pytest.mark.parametrize("case", [c for c in CASES if c.expected is not None], ids=lambda c: c.id)
def test_splitting_twice_is_refused(case: Case) -> None:
    assert case.expected is not None
    again = split(case.expected, "Dockerfile")
    assert again.refused is not None and again.refused.startswith("already multi-stage")


def test_every_language_has_a_splitter() -> None:
    assert [cls.language for cls in splitters()] == ["python", "node", "go", "c"]


def test_the_dev_file_is_the_original_with_dev_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements-dev.txt").write_text("pytest\n", encoding="utf-8")
    text = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    result = split(text, dev=True, context=tmp_path)
    assert result.dev_text == (
        "# Development image: the single-stage build, with compilers, headers and dev\n"
        "# dependencies. The production image is built by the multi-stage Dockerfile.\n"
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        "RUN pip install --no-cache-dir -r requirements-dev.txt\n"
    )
    assert split(text, context=tmp_path).dev_text is None


def test_the_dev_file_keeps_the_build_tools_the_original_purged() -> None:
    text = (ROOT / "examples" / "c-tool" / "Dockerfile").read_text(encoding="utf-8")
    dev = split(text, dev=True).dev_text
    assert dev is not None and "apt-get purge" not in dev and "apt-get install" in dev


def test_go_can_run_on_distroless() -> None:
    text = 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'
    result = split(text, static_runtime="distroless")
    assert "FROM gcr.io/distroless/static-debian12\n" in result.text
    assert "ca-certificates" not in result.text
    assert_valid(result.text)
    with pytest.raises(ValueError):
        split(text, static_runtime="busybox")


def test_go_without_context_copies_the_ca_bundle_and_says_why() -> None:
    text = 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'
    result = split(text)
    assert "COPY --from=build /etc/ssl/certs/ca-certificates.crt" in result.text
    assert any("the sources were not read" in n.message for n in result.notes)


def test_windows_line_endings_are_kept() -> None:
    text = "FROM python:3.12\r\nWORKDIR /app\r\nCOPY . .\r\nRUN pip install -r requirements.txt\r\n"
    result = split(text)
    assert result.changed and "\n" not in result.text.replace("\r\n", "")
    assert_valid(result.text)


def test_generated_continuations_use_the_escape_character() -> None:
    text = (
        "# escape=`\nFROM python:3.12\n"
        "RUN apt-get update && apt-get install -y libpq-dev libxml2-dev libxslt1-dev libjpeg-dev"
        " libffi-dev libssl-dev zlib1g-dev libyaml-dev\n"
        "RUN pip install -r requirements.txt\n"
    )
    result = split(text)
    assert result.text.startswith("# escape=`\n")
    assert " `\n    && rm -rf /var/lib/apt/lists/*" in result.text
    assert_valid(result.text)


def test_a_stage_name_stays_on_the_runtime_stage() -> None:
    text = 'FROM node:20 AS app\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n'
    result = split(text)
    assert "FROM node:20 AS build\n" in result.text
    assert "FROM node:20-slim AS app\n" in result.text


def test_parse_errors_are_raised() -> None:
    with pytest.raises(ParseError):
        split("RUN echo no FROM\n")
