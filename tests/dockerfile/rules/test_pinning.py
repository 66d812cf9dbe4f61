import pytest

from tests.dockerfile.rules.harness import lines_of, run_rule


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("FROM python\n", [1]),
        ("FROM docker.io/library/python AS b\nFROM b\n", [1]),
        ("FROM alpine:3.20\nCOPY --from=nginx /etc/nginx /etc/nginx\n", [2]),
        ("ARG BASE=ubuntu\nFROM $BASE\n", [2]),
    ],
)
def test_sl201_catches(text: str, lines: list[int]) -> None:
    assert lines_of("SL201", text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12\n",
        "FROM python@sha256:" + "a" * 64 + "\n",
        "FROM scratch\n",
        "FROM python:3.12 AS build\nFROM build\nCOPY --from=build /a /a\nCOPY --from=0 /a /b\n",
        "FROM ${BASE}\n",
        "ARG TAG\nFROM python:$TAG\n",
    ],
)
def test_sl201_leaves_alone(text: str) -> None:
    assert run_rule("SL201", text) == []


def test_sl202_latest() -> None:
    [finding] = run_rule("SL202", "FROM python:latest\n")
    assert finding.column == 6 and "pin a version such as python:" in finding.message
    assert run_rule("SL202", "FROM python:latest@sha256:" + "b" * 64 + "\n") == []
    assert lines_of(
        "SL202", "FROM alpine:3.20\nCOPY --from=busybox:latest /bin/busybox /bin/\n"
    ) == [2]


def test_sl203_is_opt_in() -> None:
    text = "FROM python:3.12\n"
    from slimline.api import check_text

    assert all(f.rule != "SL203" for f in check_text(text).findings)
    assert lines_of("SL203", text) == [1]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("FROM debian:12\nRUN apt-get install -y curl git=1:2.39.2-1.1\n", 1),
        ("FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.0-r0 jq\n", 1),
        ("FROM python:3.12\nRUN pip install flask==3.0.3 requests\n", 1),
        ("FROM python:3.12\nRUN pip install -r requirements.txt\n", 0),
        ("FROM node:20\nRUN npm install\nRUN npm install -g typescript@5.4.5\n", 0),
        ("FROM node:20\nRUN npm install -g typescript\n", 1),
        ("FROM ruby:3.3\nRUN gem install bundler -v 2.5.0\n", 0),
        ("FROM python:3.12\nRUN pip install ./dist/app.whl $EXTRA\n", 0),
    ],
)
def test_sl204_packages(text: str, count: int) -> None:
    assert len(run_rule("SL204", text)) == count
