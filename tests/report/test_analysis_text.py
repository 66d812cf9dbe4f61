from __future__ import annotations

import re
from dataclasses import replace

import pytest

from slimline.image.model import ImageAnalysis
from slimline.report import RenderOptions
from slimline.report.analysis import AnalysisOptions, get_renderer
from slimline.report.analysis._shared import instruction_of, redact_build_args
from tests.report.analysis_sample import ANALYSES, SECRETS, sample_analysis

render = get_renderer("text").render
ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _text(analysis: ImageAnalysis | None = None, **options: object) -> str:
    return render(analysis or sample_analysis(), AnalysisOptions(**options))  # type: ignore[arg-type]


def test_plain_has_no_escapes_and_colour_only_decorates() -> None:
    plain = _text()
    coloured = _text(color=True)
    assert "\x1b" not in plain
    assert "\x1b[1;31merror" in coloured
    assert ESCAPE.sub("", coloured) == plain


@pytest.mark.parametrize("width", [40, 60, 80, 100, 140])
@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_fits_the_width(name: str, width: int) -> None:
    for line in _text(ANALYSES[name](), width=width).splitlines():
        assert len(line) <= width, line


def test_default_width_is_100_and_plain_options_work() -> None:
    assert render(sample_analysis(), RenderOptions()) == _text(width=100)
    assert max(len(line) for line in _text().splitlines()) == 100


def test_the_environment_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = (_text(), _text(color=True, width=80))
    for name, value in [
        ("NO_COLOR", "1"),
        ("FORCE_COLOR", "1"),
        ("COLUMNS", "33"),
        ("TERM", "dumb"),
        ("TTY_COMPATIBLE", "1"),
    ]:
        monkeypatch.setenv(name, value)
    assert (_text(), _text(color=True, width=80)) == expected


def test_summary() -> None:
    lines = _text().splitlines()
    assert lines[:4] == [
        "Image        registry.example.com/shop/web:1.4.2",
        "Platform     linux/amd64",
        "OS           Debian GNU/Linux 12 (bookworm)",
        "Image ID     3f1c2b7a9e0d",
    ]
    text = "\n".join(lines)
    assert "Size         204.8 MB in 6 layers" in text
    assert "Final files  184.9 MB in 9,812 files" in text
    assert "Efficiency   89.3 %  wasted 19.9 MB (15.3 % of the user layers)" in text
    assert "Reclaimable  19.8 MB" in text
    assert "Packages     16 (6 deb, 5 pypi, 3 npm, 1 gem, 1 golang)" in text
    assert "Findings     5 findings (1 error, 3 warnings, 1 info)" in text


def test_layers_name_their_dockerfile_line_and_hide_build_arguments() -> None:
    text = _text()
    assert "Dockerfile:3 RUN apt-get update && apt-g\u2026" in text  # cut to the width
    assert "Dockerfile:3 RUN apt-get update && apt-get install -y" in _text(width=140)
    wide = _text(width=140)
    assert "Dockerfile:5 RUN pip install -r requirements.txt" in wide
    assert "ADD file:4b1be1de1a1e9f03c3a8c3b5ba3e5b0ad5c1ef6a in /" in wide
    assert "(no history)" in text
    assert "PIP_INDEX_TOKEN" not in wide
    row = next(line for line in text.splitlines() if line.startswith("4 "))
    assert "-45 19.8 MB" in row


def test_narrow_layers_table_keeps_counts() -> None:
    text = _text(width=80)
    assert "1   97.2 MB   +1,204 ~13   Dockerfile:3 RUN apt-get" in text


def test_packages_name_their_installer() -> None:
    row = next(line for line in _text().splitlines() if " Flask " in line)
    assert row.split() == ["1.0", "MB", "2", "pypi", "Flask", "2.2.2", "python3-flask", "(deb)"]


def test_installer_outside_the_image_shows_its_purl() -> None:
    analysis = sample_analysis()
    packages = tuple(
        replace(p, installed_by="pkg:deb/debian/gone@1") if p.name == "Flask" else p
        for p in analysis.packages
    )
    text = _text(replace(analysis, packages=packages), width=140)
    assert "pkg:deb/debian/gone@1" in text


def test_findings_most_severe_first_with_paths_and_layers() -> None:
    text = _text()
    findings = text[text.index("\nFindings\n") :]
    rules = re.findall(r"^(SLI\d+)", findings, re.MULTILINE)
    assert rules == ["SLI010", "SLI501", "SLI601", "SLI302", "SLI903"]
    assert "paths: /usr/bin/passwd, /usr/bin/su, /usr/bin/chsh (+2 more)" in findings
    assert "layers: 1, 4" in findings
    assert "8.4 MB" in findings


def test_text_from_the_image_is_inert() -> None:
    coloured = _text(color=True)
    assert "[bold]is[/bold]" in coloured  # markup shown, not applied
    assert "\x1b[31m" not in coloured
    assert "\ufffd[31m" in coloured


def test_no_secret_reaches_the_output() -> None:
    for name, make in ANALYSES.items():
        for options in ({}, {"color": True}, {"width": 60}):
            text = _text(make(), **options)
            for secret in SECRETS:
                assert secret not in text, name


def test_empty_image() -> None:
    text = _text(ANALYSES["empty"]())
    assert "Size         0 B in 0 layers" in text
    assert "No layers: the image has no filesystem." in text
    assert text.endswith("No findings.\n")
    assert "OS           unknown" in text


def test_top_limits_the_tables() -> None:
    text = _text(top=2)
    assert "Biggest packages (2 of 16)" in text
    largest = text[text.index("Largest files") :].splitlines()[3:6]
    assert [line.split()[-1] for line in largest[:2]] == [
        "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
        "/usr/local/lib/python3.11/site-packages/cryptography/_rust.abi3.so",
    ]
    assert largest[2] == ""


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        ("/bin/sh -c #(nop) ADD file:abc in / ", "ADD file:abc in /"),
        ('/bin/sh -c #(nop)  CMD ["bash"]', 'CMD ["bash"]'),
        (
            "/bin/sh -c apt-get update &&     apt-get install -y curl",
            "RUN apt-get update && apt-get install -y curl",
        ),
        ("|2 A=1 B=2 /bin/sh -c make", "RUN make"),
        ("RUN /bin/sh -c make install # buildkit", "RUN make install"),
        ("RUN |1 TOKEN=x /bin/sh -c make # buildkit", "RUN make"),
        ("/bin/bash -o pipefail -c apk add curl", "RUN apk add curl"),
        ("RUN /bin/bash -euxo pipefail -c make # buildkit", "RUN make"),
        ("COPY . /app # buildkit", "COPY . /app"),
        ("WORKDIR /app", "WORKDIR /app"),
        ('RUN ["/app/setup", "--all"] # buildkit', 'RUN ["/app/setup", "--all"]'),
        ("", ""),
    ],
)
def test_instruction_of(created_by: str, expected: str) -> None:
    assert instruction_of(created_by) == expected


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        ("|2 A=1 TOKEN=s3cr3t /bin/sh -c make", "|2 A=*** TOKEN=*** /bin/sh -c make"),
        (
            "RUN |1 TOKEN=s /bin/sh -c make # buildkit",
            "RUN |1 TOKEN=*** /bin/sh -c make # buildkit",
        ),
        ("|1 EMPTY= /bin/sh -c make", "|1 EMPTY=*** /bin/sh -c make"),
        ("/bin/sh -c echo |2 a=b", "/bin/sh -c echo |2 a=b"),
        ("|3 A=1 B=2", "|3 A=*** B=***"),
    ],
)
def test_redact_build_args(created_by: str, expected: str) -> None:
    assert redact_build_args(created_by) == expected
