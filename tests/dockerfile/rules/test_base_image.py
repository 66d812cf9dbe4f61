import pytest

from tests.dockerfile.rules.harness import run_rule


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('FROM python:3.12\nCMD ["python"]\n', 1, "python:3.12-slim"),
        ("FROM node:20-bookworm\n", 1, "node:20-bookworm-slim"),
        ("FROM debian:bookworm\n", 1, "debian:bookworm-slim"),
        ("ARG V=3.12\nFROM python:${V}\n", 2, "python:3.12-slim"),
        ("FROM python:3.12 AS base\nRUN echo\nFROM base\nCMD x\n", 1, "python:3.12-slim"),
        # A .NET app that needs no shell can move to chiseled.
        (
            'FROM mcr.microsoft.com/dotnet/aspnet:8.0\nCOPY out /app\nENTRYPOINT ["dotnet", "/app/a.dll"]\n',
            1,
            "8.0-noble-chiseled",
        ),
    ],
)
def test_sl101_catches(text: str, line: int, needle: str) -> None:
    [finding] = run_rule("SL101", text)
    assert finding.line == line and needle in finding.message
    assert finding.estimated_bytes and finding.estimated_bytes > 10_000_000
    assert finding.column == text.splitlines()[line - 1].index(" ") + 2


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12-slim\n",
        "FROM python:3.12-alpine\n",
        "FROM ubuntu:24.04\n",
        "FROM python:3.12 AS build\nRUN pip wheel .\nFROM python:3.12-slim\nCOPY --from=build /w /w\n",
        "FROM scratch\nCOPY app /\n",
        "FROM $UNKNOWN\n",
        "FROM registry.example.com/team/python:3.12\n",
        "FROM golang:1.22\n",
        # Chiseled has no shell: not for images whose own steps need one...
        "FROM mcr.microsoft.com/dotnet/aspnet:9.0\nRUN useradd -m app\nUSER app\n"
        'ENTRYPOINT ["dotnet", "App.dll"]\n',
        "FROM mcr.microsoft.com/dotnet/aspnet:8.0\nCOPY out /app\nCMD dotnet /app/a.dll\n",
        "FROM mcr.microsoft.com/dotnet/aspnet:8.0\nCOPY out /app\n"
        "HEALTHCHECK CMD curl -f http://localhost/ || exit 1\n",
        # ...nor for releases it was never published for.
        'FROM mcr.microsoft.com/dotnet/aspnet:6.0\nCOPY out /app\nENTRYPOINT ["dotnet", "a.dll"]\n',
        'FROM mcr.microsoft.com/dotnet/core/aspnet:3.1\nCOPY out /app\nENTRYPOINT ["dotnet", "a.dll"]\n',
    ],
)
def test_sl101_leaves_alone(text: str) -> None:
    assert run_rule("SL101", text) == []


def test_sl102_single_stage_go_build() -> None:
    text = 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'
    [finding] = run_rule("SL102", text)
    assert finding.line == 1 and "distroless" in finding.message and "go build" in finding.message


@pytest.mark.parametrize(
    "text",
    [
        "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /app /app\n",
        "FROM golang:1.22\nRUN go vet ./...\n",
        "FROM maven:3-eclipse-temurin-21 AS b\nRUN mvn package\nFROM eclipse-temurin:21-jre\n",
    ],
)
def test_sl102_leaves_alone(text: str) -> None:
    assert run_rule("SL102", text) == []


def test_sl102_maven() -> None:
    [finding] = run_rule("SL102", "FROM maven:3-eclipse-temurin-21\nRUN mvn -B package\n")
    assert "jre" in finding.message


def test_sl103_unknown_publisher() -> None:
    [finding] = run_rule("SL103", "FROM someuser/python-tools:1.0\n")
    assert "someuser" in finding.message
    assert run_rule("SL103", "FROM bitnami/redis:7.2\n") == []
    assert run_rule("SL103", "FROM python:3.12\n") == []
    assert run_rule("SL103", "FROM ghcr.io/org/img:1\n") == []
    assert run_rule("SL103", "FROM myorg/base:1\n", trusted_registries=["myorg/"]) == []
    # Docker's cross-compilation helper and the Elixir project's builder images.
    assert run_rule("SL103", "FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.6.1 AS xx\n") == []
    assert run_rule("SL103", "FROM hexpm/elixir:1.17.3-erlang-27.2-alpine-3.20.3\n") == []
    assert run_rule("SL103", "FROM microsoft/dotnet:2.0-runtime\n") == []


def test_sl104_deprecated() -> None:
    [finding] = run_rule("SL104", "FROM openjdk:17\n")
    assert "eclipse-temurin" in finding.message
    assert run_rule("SL104", "FROM eclipse-temurin:21\n") == []


def test_sl101_quiet_on_onbuild_builder_images() -> None:
    assert (
        run_rule("SL101", "FROM ruby:3.3\nONBUILD COPY . /app\nONBUILD RUN bundle install\n") == []
    )
