"""Hand-built image analyses shared by the analysis and SBOM tests and their golden files.

Between them they cover: layers with and without history and a Dockerfile mapping, a RUN that
recorded a build argument, findings with and without bytes, packages of every ecosystem the
catalogers produce (one installed by a distribution package, one found twice), licences that are
SPDX ids, expressions, Debian short names and free text, an image without an OS, and an image
without any layer. Secrets planted in the config and the history must never reach a report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from slimline.findings import Practice, Severity
from slimline.image.model import ImageAnalysis, ImageFinding, LayerSummary, SizedPath
from slimline.image.sources.base import HistoryEntry, ImageConfig
from slimline.image.waste import InefficientPath, WasteReport
from slimline.packages.base import OSRelease, Package

# Planted in the config's environment and in a build argument of the history.
SECRETS = ("hunter2", "s3cr3t-t0ken")

_TAR = "application/vnd.oci.image.layer.v1.tar+gzip"


def _digest(seed: str) -> str:
    return "sha256:" + (seed * 64)[:64]


def _layer(index: int, created_by: str, content: int, **changes: object) -> LayerSummary:
    values: dict[str, object] = {
        "index": index,
        "digest": _digest(f"{index}a"),
        "diff_id": _digest(f"{index}d"),
        "media_type": _TAR,
        "size": content * 4 // 10,
        "content_bytes": content,
        "entry_count": 0,
        "created_by": created_by,
        "created": f"2024-05-0{index + 1}T10:00:00Z",
    }
    values.update(changes)
    return LayerSummary(**values)  # type: ignore[arg-type]


def _waste(
    layers: tuple[LayerSummary, ...],
    *,
    score: float,
    wasted: int,
    reclaimable: int,
    inefficient: tuple[InefficientPath, ...] = (),
) -> WasteReport:
    size = sum(layer.content_bytes for layer in layers)
    user = sum(layer.content_bytes for layer in layers[1:])
    return WasteReport(
        score=score,
        wasted_bytes=wasted,
        user_wasted_percent=wasted / user if user else 0.0,
        reclaimable_bytes=reclaimable,
        size_bytes=size,
        user_size_bytes=user,
        inefficient=inefficient,
    )


DEBIAN = OSRelease(
    id="debian",
    version_id="12",
    version_codename="bookworm",
    pretty_name="Debian GNU/Linux 12 (bookworm)",
)
_DEB_Q = "?arch={arch}&distro=debian-12"


def _deb(name: str, version: str, size: int, layer: int, **extra: object) -> Package:
    arch = str(extra.pop("arch", "amd64"))
    values: dict[str, object] = {
        "name": name,
        "version": version,
        "ecosystem": "deb",
        "purl": f"pkg:deb/debian/{name}@{version.replace('+', '%2B')}" + _DEB_Q.format(arch=arch),
        "location": "var/lib/dpkg/status",
        "cataloger": "dpkg",
        "arch": arch,
        "size_bytes": size,
        "layer": layer,
    }
    values.update(extra)
    return Package(**values)  # type: ignore[arg-type]


FLASK_DEB = _deb(
    "python3-flask",
    "2.2.2-3",
    1_020_000,
    1,
    arch="all",
    source_name="flask",
    licenses=("BSD-3-clause",),
    depends=("python3-werkzeug (>= 2.2)", "python3:any", "python3.11 | python3-minimal"),
    files=(
        "usr/lib/python3/dist-packages/flask/__init__.py",
        "usr/lib/python3/dist-packages/flask/app.py",
    ),
)


def sample_analysis() -> ImageAnalysis:
    """A Debian-based Python web image built from a Dockerfile, with most things to report."""
    layers = (
        _layer(
            0,
            "/bin/sh -c #(nop) ADD file:4b1be1de1a1e9f03c3a8c3b5ba3e5b0ad5c1ef6a in / ",
            74_812_345,
            entry_count=8_712,
            added_files=6_512,
            added_bytes=74_700_000,
            created="2024-04-23T00:00:00Z",
        ),
        _layer(
            1,
            "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends"
            " python3 python3-flask libssl3 gcc # buildkit",
            97_150_000,
            entry_count=1_260,
            dockerfile_line=3,
            dockerfile_instruction="RUN apt-get update && apt-get install -y --no-install-recommends \\",
            added_files=1_204,
            added_bytes=96_900_000,
            changed_files=13,
            changed_bytes=41_900,
        ),
        _layer(
            2,
            "RUN |1 PIP_INDEX_TOKEN=s3cr3t-t0ken /bin/sh -c pip install -r requirements.txt"
            " # buildkit",
            29_400_000,
            entry_count=2_318,
            dockerfile_line=5,
            dockerfile_instruction="RUN pip install -r requirements.txt",
            added_files=2_300,
            added_bytes=29_380_000,
        ),
        _layer(
            3,
            "COPY . /app # buildkit",
            3_400_512,
            entry_count=121,
            dockerfile_line=6,
            dockerfile_instruction="COPY . /app",
            added_files=120,
            added_bytes=3_400_512,
        ),
        _layer(
            4,
            "RUN /bin/sh -c rm -rf /var/lib/apt/lists/* # buildkit",
            0,
            entry_count=46,
            dockerfile_line=7,
            dockerfile_instruction="RUN rm -rf /var/lib/apt/lists/*",
            removed_files=45,
            removed_bytes=19_800_000,
        ),
        # appended by a tool that wrote no history entry
        _layer(5, "", 1_234, entry_count=2, added_files=1, added_bytes=1_234, created=""),
    )
    config = ImageConfig(
        architecture="amd64",
        os="linux",
        created="2024-05-06T10:00:00Z",
        env=(
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "DATABASE_URL=postgres://shop:hunter2@db/shop",
            "PYTHONUNBUFFERED=1",
        ),
        entrypoint=("/usr/bin/python3", "-m", "shop"),
        cmd=("--port", "8000"),
        workdir="/app",
        user="",
        exposed_ports=("8000/tcp",),
        labels={
            "org.opencontainers.image.version": "1.4.2",
            "org.opencontainers.image.source": "https://example.com/shop/web",
        },
        history=(
            HistoryEntry(created_by=layers[0].created_by, created="2024-04-23T00:00:00Z"),
            HistoryEntry(created_by='/bin/sh -c #(nop)  CMD ["bash"]', empty_layer=True),
            HistoryEntry(created_by="ENV PYTHONUNBUFFERED=1", empty_layer=True),
            HistoryEntry(created_by=layers[1].created_by),
            HistoryEntry(created_by="WORKDIR /app", empty_layer=True),
            HistoryEntry(created_by=layers[2].created_by),
            HistoryEntry(created_by=layers[3].created_by),
            HistoryEntry(created_by=layers[4].created_by),
            HistoryEntry(
                created_by='ENTRYPOINT ["/usr/bin/python3" "-m" "shop"]', empty_layer=True
            ),
        ),
        diff_ids=tuple(layer.diff_id or "" for layer in layers),
    )
    packages = (
        _deb(
            "libc6",
            "2.36-9+deb12u7",
            12_900_000,
            0,
            source_name="glibc",
            licenses=("LGPL-2.1+", "GPL-2"),
            depends=("libgcc-s1",),
            files=("usr/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libm.so.6"),
        ),
        _deb(
            "libssl3",
            "3.0.13-1~deb12u1",
            6_200_000,
            1,
            source_name="openssl",
            source_version="3.0.13-1~deb12u1",
            licenses=("Apache-2.0",),
            depends=("libc6 (>= 2.34)",),
            files=("usr/lib/x86_64-linux-gnu/libssl.so.3",),
        ),
        _deb(
            "python3.11",
            "3.11.2-6+deb12u2",
            30_100_000,
            1,
            licenses=("PSF-2.0", "GPL-2+ with OpenSSL exception"),
            depends=("libc6 (>= 2.35)", "libssl3 (>= 3.0.0)", "media-types | mime-support"),
            files=("usr/bin/python3.11", "usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"),
        ),
        FLASK_DEB,
        _deb(
            "gcc-12",
            "12.2.0-14",
            41_000_000,
            1,
            licenses=("GPL-3+",),
            depends=("libc6 (>= 2.34)", "cpp-12 (= 12.2.0-14)"),
            files=("usr/bin/x86_64-linux-gnu-gcc-12", "usr/lib/gcc/x86_64-linux-gnu/12/cc1"),
        ),
        _deb("tzdata", "2024a-0+deb12u1", 2_900_000, 0, arch="all", licenses=("public-domain",)),
        Package(
            name="Flask",
            version="2.2.2",
            ecosystem="pypi",
            purl="pkg:pypi/flask@2.2.2",
            location="usr/lib/python3/dist-packages/Flask-2.2.2.egg-info/PKG-INFO",
            cataloger="python",
            licenses=("BSD-3-Clause",),
            depends=("Werkzeug>=2.2.2", "itsdangerous>=2.0", "click>=8.0"),
            files=FLASK_DEB.files,
            size_bytes=1_010_000,
            installed_by=FLASK_DEB.purl,
            layer=1,
        ),
        Package(
            name="requests",
            version="2.31.0",
            ecosystem="pypi",
            purl="pkg:pypi/requests@2.31.0",
            location="usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
            cataloger="python",
            licenses=("Apache-2.0",),
            depends=("Charset_Normalizer<4,>=2", "urllib3<3,>=1.21.1", "certifi>=2017.4.17"),
            files=("usr/local/lib/python3.11/site-packages/requests/api.py",),
            size_bytes=410_000,
            layer=2,
        ),
        Package(
            name="charset-normalizer",
            version="3.3.2",
            ecosystem="pypi",
            purl="pkg:pypi/charset-normalizer@3.3.2",
            location=(
                "usr/local/lib/python3.11/site-packages/charset_normalizer-3.3.2.dist-info/METADATA"
            ),
            cataloger="python",
            licenses=("MIT",),
            size_bytes=250_000,
            layer=2,
        ),
        Package(
            name="urllib3",
            version="2.0.7",
            ecosystem="pypi",
            purl="pkg:pypi/urllib3@2.0.7",
            location="usr/local/lib/python3.11/site-packages/urllib3-2.0.7.dist-info/METADATA",
            cataloger="python",
            licenses=("mit",),
            size_bytes=520_000,
            layer=2,
        ),
        Package(
            name="cryptography",
            version="41.0.7",
            ecosystem="pypi",
            purl="pkg:pypi/cryptography@41.0.7",
            location=(
                "usr/local/lib/python3.11/site-packages/cryptography-41.0.7.dist-info/METADATA"
            ),
            cataloger="python",
            licenses=("Apache-2.0 OR BSD-3-Clause",),
            size_bytes=14_300_000,
            layer=2,
        ),
        Package(
            name="left-pad",
            version="1.3.0",
            ecosystem="npm",
            purl="pkg:npm/left-pad@1.3.0",
            location="app/node_modules/left-pad/package.json",
            cataloger="npm",
            licenses=("WTFPL",),
            size_bytes=9_000,
            layer=3,
        ),
        # the same package again, vendored elsewhere: one purl, two components
        Package(
            name="left-pad",
            version="1.3.0",
            ecosystem="npm",
            purl="pkg:npm/left-pad@1.3.0",
            location="app/tools/node_modules/left-pad/package.json",
            cataloger="npm",
            licenses=("WTFPL",),
            size_bytes=9_000,
            layer=3,
        ),
        Package(
            name="@types/node",
            version="20.11.5",
            ecosystem="npm",
            purl="pkg:npm/%40types/node@20.11.5",
            location="app/node_modules/@types/node/package.json",
            cataloger="npm",
            licenses=("MIT",),
            depends=("undici-types",),
            size_bytes=3_900_000,
            layer=3,
        ),
        Package(
            name="rake",
            version="13.1.0",
            ecosystem="gem",
            purl="pkg:gem/rake@13.1.0",
            location="usr/lib/ruby/gems/3.1.0/specifications/rake-13.1.0.gemspec",
            cataloger="gem",
            licenses=("Custom: see LICENSE",),
            size_bytes=180_000,
            layer=1,
        ),
        Package(
            name="github.com/spf13/cobra",
            version="v1.8.0",
            ecosystem="golang",
            purl="pkg:golang/github.com/spf13/cobra@v1.8.0",
            location="app/bin/shopctl",
            cataloger="go-binary",
            size_bytes=0,
            layer=3,
        ),
    )
    findings = (
        ImageFinding(
            rule="SLI302",
            practice=Practice.PACKAGE_CACHE,
            severity=Severity.WARNING,
            title="pip cache left in the image",
            message="pip's HTTP and wheel cache is kept in the layer that ran pip install",
            bytes=8_400_000,
            paths=("root/.cache/pip/http-v2/a/b/c/1", "root/.cache/pip/wheels/ab/cd/x.whl"),
            path_count=212,
            layers=(2,),
        ),
        ImageFinding(
            rule="SLI501",
            practice=Practice.BUILD_TOOLS,
            severity=Severity.WARNING,
            title="C compiler in the final image",
            message="gcc-12 is installed; build in an earlier stage and copy the results",
            bytes=41_000_000,
            paths=("usr/bin/x86_64-linux-gnu-gcc-12", "usr/lib/gcc/x86_64-linux-gnu/12/cc1"),
            path_count=2,
            layers=(1,),
        ),
        ImageFinding(
            rule="SLI903",
            practice=Practice.ATTACK_SURFACE,
            severity=Severity.INFO,
            title="setuid programs",
            message="5 programs run with their owner's rights",
            paths=(
                "usr/bin/passwd",
                "usr/bin/su",
                "usr/bin/chsh",
                "usr/bin/newgrp",
                "usr/bin/mount",
            ),
            path_count=5,
            layers=(0,),
        ),
        ImageFinding(
            rule="SLI010",
            practice=Practice.SECURITY,
            severity=Severity.ERROR,
            title="private key in the image",
            # text from the image: markup and escape codes must come out inert
            message="a PEM private key [bold]is[/bold] stored in the image\x1b[31m",
            paths=("app/certs/server.key",),
            path_count=1,
            layers=(3,),
        ),
        ImageFinding(
            rule="SLI601",
            practice=Practice.LAYER_WASTE,
            severity=Severity.WARNING,
            title="files deleted in a later layer",
            message="layer 4 deletes 45 files that layer 1 added; they still cost 19.8 MB",
            bytes=19_800_000,
            paths=(
                "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
            ),
            path_count=45,
            layers=(1, 4),
        ),
    )
    return ImageAnalysis(
        name="registry.example.com/shop/web:1.4.2",
        platform=config.platform,
        config=config,
        layers=layers,
        waste=_waste(
            layers,
            score=0.8934,
            wasted=19_883_800,
            reclaimable=19_841_900,
            inefficient=(
                InefficientPath("/var/lib/apt/lists", 2, 19_800_000),
                InefficientPath("/etc/ld.so.cache", 2, 83_800),
            ),
        ),
        size_bytes=sum(layer.content_bytes for layer in layers),
        final_bytes=184_921_300,
        file_count=9_812,
        os=DEBIAN,
        packages=packages,
        findings=findings,
        largest_files=(
            SizedPath("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 34_500_000, 1),
            SizedPath(
                "usr/local/lib/python3.11/site-packages/cryptography/_rust.abi3.so", 9_900_000, 2
            ),
            SizedPath("usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", 7_800_000, 1),
            SizedPath("app/static/bundle.js", 2_100_000, 3),
        ),
        largest_dirs=(
            SizedPath("usr", 150_200_000, files=7_900),
            SizedPath("usr/lib", 120_000_000, files=5_100),
            SizedPath("usr/local/lib/python3.11", 29_300_000, files=2_290),
            SizedPath("app", 3_401_746, files=121),
        ),
        image_id=_digest("3f1c2b7a9e0d"),
        repo_digests=("registry.example.com/shop/web@" + _digest("9a8b7c6d5e4f"),),
        dockerfile="Dockerfile",
    )


def alpine_analysis() -> ImageAnalysis:
    """An Alpine image for an ARM board: apk packages, no Dockerfile, one finding."""
    layers = (
        _layer(
            0,
            "/bin/sh -c #(nop) ADD file:37a76ec18f9887751cd8473744917d08b7431fc4085097bb6a09d81b41775473 in / ",
            7_380_000,
            entry_count=520,
            added_files=480,
            added_bytes=7_370_000,
        ),
        _layer(
            1,
            "/bin/bash -o pipefail -c apk add --no-cache curl",
            5_120_000,
            entry_count=64,
            added_files=40,
            added_bytes=5_100_000,
            changed_files=2,
            changed_bytes=20_000,
        ),
    )
    config = ImageConfig(
        architecture="arm64",
        os="linux",
        variant="v8",
        env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
        entrypoint=("curl",),
        user="65534",
        history=tuple(HistoryEntry(created_by=layer.created_by) for layer in layers),
        diff_ids=tuple(layer.diff_id or "" for layer in layers),
    )
    alpine = OSRelease(
        id="alpine", version_id="3.19.1", pretty_name="Alpine Linux v3.19", id_like=()
    )

    def apk(name: str, version: str, size: int, layer: int, **extra: object) -> Package:
        values: dict[str, object] = {
            "name": name,
            "version": version,
            "ecosystem": "apk",
            "purl": f"pkg:apk/alpine/{name}@{version}?arch=aarch64&distro=alpine-3.19.1",
            "location": "lib/apk/db/installed",
            "cataloger": "apk",
            "arch": "aarch64",
            "size_bytes": size,
            "layer": layer,
        }
        values.update(extra)
        return Package(**values)  # type: ignore[arg-type]

    packages = (
        apk("musl", "1.2.4_git20230717-r4", 650_000, 0, licenses=("MIT",)),
        apk(
            "busybox",
            "1.36.1-r15",
            920_000,
            0,
            licenses=("GPL-2.0-only",),
            depends=("so:libc.musl-aarch64.so.1",),
        ),
        apk(
            "ca-certificates-bundle",
            "20240226-r0",
            230_000,
            0,
            licenses=("MPL-2.0 AND MIT",),
        ),
        apk(
            "curl",
            "8.5.0-r0",
            300_000,
            1,
            licenses=("curl",),
            depends=("ca-certificates-bundle", "so:libc.musl-aarch64.so.1", "so:libcurl.so.4"),
        ),
        apk(
            "libcurl",
            "8.5.0-r0",
            800_000,
            1,
            licenses=("curl",),
            depends=("musl>=1.2", "ca-certificates-bundle"),
        ),
    )
    findings = (
        ImageFinding(
            rule="SLI910",
            practice=Practice.ATTACK_SURFACE,
            severity=Severity.INFO,
            title="shell and package manager in the final image",
            message="/bin/sh and apk let an intruder install tools",
            paths=("bin/sh", "sbin/apk"),
            path_count=2,
            layers=(0,),
        ),
    )
    return ImageAnalysis(
        name="registry.example.com/tools/curl:8.5",
        platform=config.platform,
        config=config,
        layers=layers,
        waste=_waste(layers, score=0.9981, wasted=40_000, reclaimable=20_000),
        size_bytes=sum(layer.content_bytes for layer in layers),
        final_bytes=12_460_000,
        file_count=520,
        os=alpine,
        packages=packages,
        findings=findings,
        largest_files=(SizedPath("usr/lib/libcrypto.so.3", 4_300_000, 0),),
        largest_dirs=(SizedPath("usr", 9_800_000, files=310),),
        image_id=_digest("77aa"),
        repo_digests=("registry.example.com/tools/curl@" + _digest("5c5c"),),
    )


def bare_analysis() -> ImageAnalysis:
    """A root filesystem directory: one layer without history or digest, no OS, Go modules."""
    layers = (
        LayerSummary(
            index=0,
            digest=None,
            diff_id=None,
            media_type="application/vnd.oci.image.layer.v1.tar",
            size=9_000_000,
            content_bytes=9_000_000,
            entry_count=4,
            added_files=2,
            added_bytes=9_000_000,
        ),
    )
    packages = (
        Package(
            name="stdlib",
            version="go1.21.5",
            ecosystem="golang",
            purl="pkg:golang/stdlib@go1.21.5",
            location="server",
            cataloger="go-binary",
            layer=0,
        ),
        Package(
            name="github.com/prometheus/client_golang",
            version="v1.18.0",
            ecosystem="golang",
            purl="pkg:golang/github.com/prometheus/client_golang@v1.18.0",
            location="server",
            cataloger="go-binary",
            depends=("stdlib",),
            layer=0,
        ),
    )
    return ImageAnalysis(
        name="dir:build/rootfs",
        platform="",
        config=ImageConfig(),
        layers=layers,
        waste=_waste(layers, score=1.0, wasted=0, reclaimable=0),
        size_bytes=9_000_000,
        final_bytes=9_000_000,
        file_count=2,
        packages=packages,
        largest_files=(SizedPath("server", 8_999_000, 0), SizedPath("etc/server.toml", 1_000, 0)),
        largest_dirs=(SizedPath("etc", 1_000, files=1),),
    )


def empty_analysis() -> ImageAnalysis:
    """An image without a single layer (FROM scratch and a CMD): everything is zero."""
    config = ImageConfig(
        architecture="amd64",
        os="linux",
        cmd=("/app",),
        history=(HistoryEntry(created_by='CMD ["/app"]', empty_layer=True),),
    )
    return ImageAnalysis(
        name="example/empty:latest",
        platform=config.platform,
        config=config,
        layers=(),
        waste=_waste((), score=1.0, wasted=0, reclaimable=0),
        size_bytes=0,
        final_bytes=0,
        file_count=0,
        image_id=_digest("e3b0"),
    )


ANALYSES: dict[str, Callable[[], ImageAnalysis]] = {
    "sample": sample_analysis,
    "alpine": alpine_analysis,
    "bare": bare_analysis,
    "empty": empty_analysis,
}


GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SLIMLINE_UPDATE_GOLDEN") == "1"


def check_golden(relative: str, actual: str) -> None:
    """Compare with tests/report/golden/RELATIVE; SLIMLINE_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / relative
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"missing golden file {relative}; run with SLIMLINE_UPDATE_GOLDEN=1"
    with path.open(encoding="utf-8", newline="") as handle:
        expected = handle.read()
    assert actual == expected, f"{relative} differs; run with SLIMLINE_UPDATE_GOLDEN=1 and review"
