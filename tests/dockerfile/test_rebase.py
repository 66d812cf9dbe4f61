"""`fix --rebase`: the final image moves to a slimmer variant of its official base.

Table-driven: each case is a Dockerfile and the exact rebased text (None when the rebase is
refused, with the start of the reason). The bundled examples are checked against golden files
under tests/golden/rebase/ (regenerate with SLIMLINE_UPDATE_GOLDEN=1). Every output must parse
as BuildKit parses it, and must not bring build-tools findings (SL5xx) the input did not have,
unless the case says the Dockerfile visibly needs those tools.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from slimline.api import check_text
from slimline.dockerfile.parse import ParseError, parse
from slimline.dockerfile.rebase import RebaseResult, rebase
from tests.dockerfile.oracle import buildkit_view, our_view

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "rebase"
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "Dockerfile").is_file())


def build_tool_rules(text: str) -> set[str]:
    result = check_text(text, "Dockerfile")
    assert result.error is None, result.error
    return {f.rule for f in result.findings if f.rule.startswith("SL5")}


def assert_valid(before: str, after: str, allowed: frozenset[str] = frozenset()) -> None:
    """``after`` parses as BuildKit parses it and adds no SL5xx finding beyond ``allowed``."""
    view = buildkit_view(after)
    assert not isinstance(view, str), f"BuildKit rejects the output: {view}"
    assert our_view(parse(after)) == view
    assert build_tool_rules(after) <= build_tool_rules(before) | allowed


def notes_text(result: RebaseResult) -> str:
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
    text = (ROOT / "examples" / name / "Dockerfile").read_text(encoding="utf-8")
    result = rebase(text, "Dockerfile", context=ROOT / "examples" / name)
    matches_golden(f"{name}.notes", notes_text(result))
    if result.changed:
        rebased = result.apply(text)
        matches_golden(f"{name}.Dockerfile", rebased)
        assert_valid(text, rebased)


@dataclass(frozen=True)
class Case:
    id: str
    dockerfile: str
    expected: str | None  # None: refused, nothing changed
    reason: str = ""  # the start of the refusal
    alpine: bool = False
    allowed: frozenset[str] = frozenset()  # SL5xx the Dockerfile visibly needs


CASES = [
    Case(
        "curl",
        """\
FROM python:3.12
WORKDIR /app
COPY . .
RUN curl -fsSL https://example.com/data.tar.gz | tar -xz
HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1
CMD ["python", "app.py"]
""",
        """\
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN curl -fsSL https://example.com/data.tar.gz | tar -xz
HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1
CMD ["python", "app.py"]
""",
    ),
    Case(
        "arg-base",
        """\
ARG BASE=node:20
FROM ${BASE}
CMD ["node", "server.js"]
""",
        """\
ARG BASE=node:20-slim
FROM ${BASE}
CMD ["node", "server.js"]
""",
    ),
    Case(
        "arg-shared",
        """\
ARG BASE=node:20
FROM ${BASE}
LABEL base=${BASE}
CMD ["node", "server.js"]
""",
        None,
        reason="not safe: the build argument BASE names the",
    ),
    Case(
        "arg-version",
        """\
ARG PY=3.12
FROM python:${PY}
CMD ["python"]
""",
        """\
ARG PY=3.12
FROM python:${PY}-slim
CMD ["python"]
""",
    ),
    Case(
        "digest-platform-alias",
        """\
FROM --platform=linux/amd64 python:3.12-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS base
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*

FROM base
RUN git clone --depth 1 https://example.com/repo.git /opt/repo
CMD ["python", "/opt/repo/main.py"]
""",
        """\
FROM --platform=linux/amd64 python:3.12-slim-bookworm AS base
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 git && rm -rf /var/lib/apt/lists/*

FROM base
RUN git clone --depth 1 https://example.com/repo.git /opt/repo
CMD ["python", "/opt/repo/main.py"]
""",
        allowed=frozenset({"SL502"}),  # git clone: needed, and kept
    ),
    Case(
        "build-stage-untouched",
        """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM debian:bookworm
COPY --from=build /out/app /usr/local/bin/app
CMD ["app"]
""",
        """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM debian:bookworm-slim
COPY --from=build /out/app /usr/local/bin/app
CMD ["app"]
""",
    ),
    Case(
        "shared-base",
        """\
FROM python:3.12 AS base
FROM base AS build
RUN gcc -o /x x.c
FROM base
COPY --from=build /x /x
""",
        None,
        reason="stage build is built on the same base",
    ),
    Case(
        "alpine",
        (
            "FROM python:3.12\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends build-essential libpq-dev curl=7.88.1-10 frobnicate \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "RUN useradd --create-home app\n"
            "USER app\n"
            'CMD ["python", "app.py"]\n'
        ),
        """\
FROM python:3.12-alpine
RUN apk add --no-cache shadow
RUN apk add --no-cache build-base libpq-dev curl
RUN useradd --create-home app
USER app
CMD ["python", "app.py"]
""",
        alpine=True,
    ),
    Case(
        "already-slim",
        """\
FROM python:3.12-slim
CMD ["python"]
""",
        None,
        reason="python:3.12-slim is already the slimmest variant on its",
    ),
    Case(
        "toolchain",
        """\
FROM golang:1.22
RUN go build -o /app .
CMD ["/app"]
""",
        None,
        reason="golang:1.22 is a toolchain image: build in it",
    ),
    Case(
        "unknown",
        """\
FROM example.com/team/base:1.0
CMD ["run"]
""",
        None,
        reason="example.com/team/base:1.0 is not an image the variants data",
    ),
    Case(
        "psycopg2",
        """\
FROM python:3.12
RUN pip install --no-cache-dir psycopg2==2.9.9
CMD ["python"]
""",
        (
            "FROM python:3.12-slim\n"
            "RUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "RUN pip install --no-cache-dir psycopg2==2.9.9\n"
            'CMD ["python"]\n'
        ),
        allowed=frozenset({"SL501"}),
    ),
    Case(
        "alpine-mixed",
        """\
FROM node:20
RUN apt-get update && apt-get install -y python3 make g++ && npm ci
CMD ["node", "server.js"]
""",
        """\
FROM node:20-alpine
RUN apk add --no-cache python3 make g++ && npm ci
CMD ["node", "server.js"]
""",
        alpine=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rebase(case: Case) -> None:
    result = rebase(case.dockerfile, "Dockerfile", alpine=case.alpine)
    if case.expected is None:
        assert not result.changed and result.edits == ()
        assert result.refused is not None and result.refused.startswith(case.reason)
        return
    assert result.refused is None
    rebased = result.apply(case.dockerfile)
    assert rebased == case.expected
    assert_valid(case.dockerfile, rebased, case.allowed)


@pytest.mark.parametrize("case", [c for c in CASES if c.expected is not None], ids=lambda c: c.id)
def test_rebasing_twice_changes_nothing(case: Case) -> None:
    assert case.expected is not None
    again = rebase(case.expected, "Dockerfile", alpine=case.alpine)
    assert not again.changed


def test_notes_name_what_was_added_and_why() -> None:
    result = rebase(CASES[0].dockerfile)
    assert [str(n) for n in result.notes] == [
        "line 1: python:3.12 -> python:3.12-slim (saves ~991 MB)",
        "line 4: installs curl: `curl` at line 4 needs it",
    ]
    assert (result.old_image, result.new_image) == ("python:3.12", "python:3.12-slim")
    assert result.added_packages == ("curl",)


def test_a_dropped_digest_is_a_warning() -> None:
    case = next(c for c in CASES if c.id == "digest-platform-alias")
    warnings = [n for n in rebase(case.dockerfile).notes if n.warning]
    assert len(warnings) == 1 and "pin the new image's digest again" in warnings[0].message


def test_alpine_warns_and_lists_unmapped_packages() -> None:
    case = next(c for c in CASES if c.id == "alpine")
    result = rebase(case.dockerfile, alpine=True)
    warnings = [n.message for n in result.notes if n.warning]
    assert any("musl instead of glibc" in w for w in warnings)
    assert any("frobnicate" in w for w in warnings)
    assert any("version pins were dropped" in w for w in warnings)


def test_alpine_is_never_chosen_without_asking() -> None:
    case = next(c for c in CASES if c.id == "alpine")
    assert "alpine" not in rebase(case.dockerfile).apply(case.dockerfile)


def test_alpine_refuses_apt_steps_it_cannot_rewrite() -> None:
    text = "FROM python:3.12\nRUN apt-get update && apt-get install -y curl || true\n"
    result = rebase(text, alpine=True)
    assert result.refused is not None and "by hand" in result.refused


def test_pip_requirements_are_read_from_the_context(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\nmysqlclient==2.2.4\n", encoding="utf-8")
    text = "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n"
    result = rebase(text, context=tmp_path)
    assert result.added_packages == ("gcc", "libc6-dev", "default-libmysqlclient-dev", "pkgconf")
    assert rebase(text).added_packages == ()


def test_target_selects_the_final_stage() -> None:
    text = 'FROM node:20 AS app\nCMD ["node"]\n\nFROM debian:bookworm AS tools\n'
    result = rebase(text, target="app")
    assert result.apply(text).startswith("FROM node:20-slim AS app\n")


def test_parse_errors_are_raised() -> None:
    with pytest.raises(ParseError):
        rebase("RUN echo no FROM\n")


def test_data_tables_are_consistent() -> None:
    from slimline.dockerfile.rebase import _table

    missing = _table("slim_missing_tools")
    layers = {"curl", "scm", "full"}
    for family in missing["families"].values():
        assert set(family["layers"]) <= layers
    for program, tool in missing["programs"].items():
        assert tool["layer"] in layers, program
    runtime = _table("runtime_packages")
    assert runtime["default_release"] in runtime["releases"]
    for dev, entry in runtime["dev"].items():
        assert "-dev" in dev, dev
        if isinstance(entry, dict):
            assert set(entry) <= set(runtime["releases"]), dev
    apk = _table("apk_names")
    # Every package the rebase may add on a Debian base has an Alpine name, or is known not to.
    for tool in missing["programs"].values():
        for package in [tool["package"], *tool.get("with", [])]:
            assert package in apk["packages"] or package in apk["unmapped"]["packages"], package
