"""Every slim report format against golden files, for a verified and a failed result.

Regenerate after an intended change with ``SLIMLINE_UPDATE_GOLDEN=1 pytest tests/report`` and
review the diff of tests/report/golden/slim/.
"""

from __future__ import annotations

import json

import pytest

from slimline.report.slim import RenderOptions, available_formats, get_renderer
from slimline.slim.plan import Mode
from slimline.slim.result import (
    Footprint,
    PackageRef,
    SlimResult,
    Verification,
    VerificationFailure,
)
from tests.report.analysis_sample import check_golden

OPTIONS = RenderOptions(tool_version="0.0.0-test")

VERIFIED = SlimResult(
    image="docker:example/python-http",
    mode=Mode.FILES,
    original=Footprint(992_100_000, 30549, 449),
    slim=Footprint(23_700_000, 390, 3),
    verification=Verification(5, 5, notes=("GET /time: output varies between runs",)),
    tag="example/python-http:slim",
    output=None,
    image_id="sha256:" + "ab" * 32,
    traced_files=224,
    traced_bytes=22_400_000,
    removed_files=30159,
    removed_bytes=968_400_000,
    removed_packages=(
        PackageRef("apt", "2.6.1", "deb"),
        PackageRef("bash", "5.2.15-2+b7", "deb"),
        PackageRef("pip", "23.0.1", "pypi"),
    ),
    removed_shells=("/usr/bin/bash", "/usr/bin/dash", "/usr/bin/sh"),
    removed_package_managers=("/usr/bin/apt", "/usr/bin/dpkg", "/usr/bin/pip"),
    remaining_packages=(
        PackageRef("libc6", "2.36-9+deb12u14", "deb"),
        PackageRef("libpython3.11-stdlib", "3.11.2-6+deb12u9", "deb"),
        PackageRef("zlib1g", "1:1.2.13.dfsg-1", "deb"),
    ),
    seconds=21.04,
)

FAILED = SlimResult(
    image="docker:example/flask",
    mode=Mode.PACKAGES,
    original=Footprint(400_000_000, 20000, 200),
    slim=Footprint(60_000_000, 5000, 40),
    verification=Verification(
        5,
        0,
        (
            VerificationFailure(
                "GET http://127.0.0.1:8102/health",
                1,
                "status 200 expected, got 500",
                ("/usr/lib/python3/dist-packages/jinja2/filters.py",),
            ),
        ),
        repaired=("usr/share/zoneinfo/Europe/Paris",),
    ),
    closure_packages=40,
    closure_bytes=59_000_000,
    remaining_shells=("/usr/bin/sh",),
    remaining_package_managers=("/usr/bin/dpkg",),
)

RESULTS = {"verified": VERIFIED, "failed": FAILED}


def test_there_are_text_and_json_formats() -> None:
    assert available_formats() == ["json", "text"]


@pytest.mark.parametrize("name", sorted(RESULTS))
@pytest.mark.parametrize("format_name", ["json", "text"])
def test_golden(format_name: str, name: str) -> None:
    output = get_renderer(format_name).render(RESULTS[name], OPTIONS)
    check_golden(f"slim/{name}.{format_name}", output)


def test_json_says_whether_anything_was_written() -> None:
    document = json.loads(get_renderer("json").render(FAILED, OPTIONS))
    assert document["written"] is False and document["image_id"] is None
    assert document["verification"]["ok"] is False
    assert document["verification"]["failures"][0]["missing"] == [
        "/usr/lib/python3/dist-packages/jinja2/filters.py"
    ]
    assert document["verification"]["repaired"] == ["/usr/share/zoneinfo/Europe/Paris"]
