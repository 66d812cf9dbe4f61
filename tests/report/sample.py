"""Hand-built reports shared by the report tests and their golden files."""

from __future__ import annotations

from slimline.findings import Finding, InputError, Practice, RuleInfo, Severity
from slimline.results import CheckReport, FileResult

APP_SOURCE = """\
FROM python:latest
RUN apt-get update && \\
    apt-get install -y build-essential curl && \\
    pip install -r requirements.txt && \\
    echo done
USER root
"""

WORKER_SOURCE = """\
FROM alpine:3.20
RUN apk add curl
"""

BROKEN_SOURCE = """\
FROM alpine:3.20
RUN <<EOF
\techo unterminated
"""

RULES = {
    info.id: info
    for info in (
        RuleInfo(
            id="SL001",
            name="no-latest-tag",
            practice=Practice.PINNING,
            severity=Severity.WARNING,
            summary="Base image uses the latest tag.",
            doc="Pin the base image to a specific version so that builds are repeatable.",
            refs=("DL3007",),
            fixable=True,
        ),
        RuleInfo(
            id="SL020",
            name="pin-digest",
            practice=Practice.PINNING,
            severity=Severity.STYLE,
            summary="Base image is not pinned by digest.",
            doc="A digest names exactly one image; a tag can move.",
            default_enabled=False,
        ),
        RuleInfo(
            id="SL102",
            name="apt-lists-left",
            practice=Practice.PACKAGE_CACHE,
            severity=Severity.WARNING,
            summary="apt lists are left in the layer.",
            doc="Remove /var/lib/apt/lists/* in the same RUN as apt-get update.",
            refs=("DL3009",),
            fixable=True,
        ),
        RuleInfo(
            id="SL103",
            name="apk-no-cache",
            practice=Practice.PACKAGE_CACHE,
            severity=Severity.INFO,
            summary="apk add without --no-cache.",
            doc="Use apk add --no-cache so that the index is not stored in the layer.",
            refs=("DL3019",),
            fixable=True,
        ),
        RuleInfo(
            id="SL210",
            name="root-user",
            practice=Practice.SECURITY,
            severity=Severity.ERROR,
            summary="The final stage runs as root.",
            doc="Add a USER instruction with an unprivileged user to the final stage.",
            refs=("DL3002",),
        ),
        RuleInfo(
            id="SL999",
            name="unused-rule",
            practice=Practice.ATTACK_SURFACE,
            severity=Severity.WARNING,
            summary="A rule without findings in this report.",
            doc="Not listed in SARIF output, which describes only the rules that fired.",
        ),
    )
}


def sample_report() -> CheckReport:
    """Two Dockerfiles with findings of every severity and one file that failed to parse."""
    app = FileResult(
        path="app/Dockerfile",
        source=APP_SOURCE,
        findings=[
            # Deliberately out of order: renderers sort by position.
            Finding(
                rule="SL210",
                practice=Practice.SECURITY,
                severity=Severity.ERROR,
                message="the final stage runs as root",
                file="app/Dockerfile",
                line=6,
                column=1,
                end_line=6,
                end_column=10,
                refs=("DL3002",),
            ),
            Finding(
                rule="SL001",
                practice=Practice.PINNING,
                severity=Severity.WARNING,
                message="base image python:latest uses the latest tag",
                file="app/Dockerfile",
                line=1,
                column=6,
                end_line=1,
                end_column=19,
                fixable=True,
                refs=("DL3007",),
            ),
            Finding(
                rule="SL102",
                practice=Practice.PACKAGE_CACHE,
                severity=Severity.WARNING,
                message="apt lists from apt-get update are left in the layer",
                file="app/Dockerfile",
                line=2,
                column=5,
                end_line=5,
                end_column=14,
                fixable=True,
                estimated_bytes=45_200_000,
                refs=("DL3009",),
            ),
        ],
    )
    worker = FileResult(
        path="worker/Dockerfile",
        source=WORKER_SOURCE,
        findings=[
            Finding(
                rule="SL103",
                practice=Practice.PACKAGE_CACHE,
                severity=Severity.INFO,
                message="apk add without --no-cache keeps the package index in the layer",
                file="worker/Dockerfile",
                line=2,
                column=5,
                fixable=True,
                refs=("DL3019",),
            ),
            Finding(
                rule="SL020",
                practice=Practice.PINNING,
                severity=Severity.STYLE,
                message="alpine:3.20 is not pinned by digest",
                file="worker/Dockerfile",
                line=1,
                column=6,
                end_line=1,
                end_column=17,
            ),
        ],
    )
    broken = FileResult(
        path="broken/Dockerfile",
        source=BROKEN_SOURCE,
        error=InputError(
            file="broken/Dockerfile",
            message="unterminated heredoc: no line reads EOF",
            line=2,
            column=5,
        ),
    )
    return CheckReport(files=[app, worker, broken], rules=dict(RULES))


def empty_report() -> CheckReport:
    return CheckReport(files=[], rules=dict(RULES))


def clean_report() -> CheckReport:
    """One file with nothing to report."""
    return CheckReport(
        files=[FileResult(path="Dockerfile", source="FROM scratch\n")], rules=dict(RULES)
    )
