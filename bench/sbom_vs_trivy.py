"""Wall time, peak memory and package counts of `slimline sbom` and `trivy` on the same image.

Both read the same `docker save` archive and write CycloneDX JSON, one fresh process per run; the
best of N runs is kept. trivy runs offline with no vulnerability database (`--format cyclonedx`
turns vulnerability scanning off; `--skip-db-update --offline-scan`), with an in-memory cache so
that no run reuses an earlier one's layer analysis. Packages are counted by purl type; the dpkg
counts are also checked against `dpkg-query` run in a container of the image (no network). The
last line is the ratio: trivy's time over slimline's (above 1: slimline is faster).
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

import _images as im

MEMORY_TARGET = 300 * 1000 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", "3")),
        help="runs of each command; the best wall time is kept (default 3, or $BENCH_REPEAT)",
    )
    parser.add_argument("--image", default="big", choices=sorted(im.DOCKERFILES))
    args = parser.parse_args()

    image = im.bench_image(args.image)
    archive = im.ensure_archive(image)
    stats = im.image_stats(archive)
    trivy, slimline = im.tool("trivy"), im.tool("slimline")
    out = im.RESULTS
    trivy_json, slim_json = out / "sbom.trivy.cdx.json", out / "sbom.slimline.cdx.json"
    cache = out / "trivy-cache"

    print(f"machine: {im.machine()}; best of {args.repeat} runs each")
    print(
        f"image: {image.tag}: {stats.layers} layers, {im.mb(stats.content_bytes)} of files "
        f"({im.mb(stats.layer_bytes)} of layer tars), {stats.entries:,} layer entries"
    )
    print(f"archive: {archive.relative_to(im.ROOT)} ({im.mb(stats.archive_bytes)})")
    im.warm(archive)

    im.progress("trivy image --input --format cyclonedx (offline, no database)")
    t = im.measure(
        "trivy",
        [
            trivy,
            "image",
            "--input",
            str(archive),
            "--format",
            "cyclonedx",
            "--skip-db-update",
            "--offline-scan",
            "--skip-version-check",
            "--disable-telemetry",
            "--cache-backend",
            "memory",
            "--cache-dir",
            str(cache),
            "--quiet",
            "--output",
            str(trivy_json),
        ],
        args.repeat,
    )
    im.progress("slimline sbom docker-archive: --format cyclonedx")
    s = im.measure(
        "slimline",
        [
            slimline,
            "sbom",
            f"docker-archive:{archive}",
            "--format",
            "cyclonedx",
            "--no-progress",
            "-o",
            str(slim_json),
        ],
        args.repeat,
    )
    for name, run in (("trivy", t), ("slimline", s)):
        if run.returncode != 0:
            print(
                f"{name} failed (exit {run.returncode}): {run.stderr.decode(errors='replace')[-2000:]}"
            )

    print()
    trivy_version = _version(trivy)
    print(f"trivy {trivy_version}: {t.seconds:.2f} s, peak RSS {im.mb(t.max_rss)}")
    print(f"slimline sbom: {s.seconds:.2f} s, peak RSS {im.mb(s.max_rss)}{im.tree_note(s)}")
    theirs, packages = _purls(trivy_json), _packages(slim_json)
    ours = [purl for purl, _ in packages]
    unowned = [purl for purl, owned in packages if not owned]
    truth = _dpkg_query(image.tag)
    by_type_t = Counter(_type(p) for p in theirs)
    by_type_s = Counter(_type(p) for p in ours)
    by_type_u = Counter(_type(p) for p in unowned)
    kinds = ["deb", "pypi", "npm"]
    kinds += sorted((by_type_t | by_type_s).keys() - set(kinds))
    for kind in kinds:
        extra = f", dpkg-query {len(truth)}" if kind == "deb" and truth is not None else ""
        if kind != "deb" and by_type_s[kind] != by_type_u[kind]:
            extra += (
                f" ({by_type_s[kind] - by_type_u[kind]} of slimline's are files of Debian "
                f"packages, which trivy leaves out; {by_type_u[kind]} are not)"
            )
        print(f"{kind} packages: trivy {by_type_t[kind]}, slimline {by_type_s[kind]}{extra}")
    same = by_type_t["deb"] == by_type_s["deb"]
    print(f"dpkg package counts identical: {'yes' if same else 'NO'}")
    _differences("deb", theirs, ours)
    if truth is not None:
        ours_deb = {_name_version(p) for p in ours if _type(p) == "deb"}
        missing, extra_deb = truth - ours_deb, ours_deb - truth
        print(
            f"  deb, slimline vs dpkg-query: {len(truth & ours_deb)} match, "
            f"{len(missing)} missing, {len(extra_deb)} extra"
            + (f"; missing e.g. {sorted(missing)[:3]}" if missing else "")
            + (f"; extra e.g. {sorted(extra_deb)[:3]}" if extra_deb else "")
        )
    for kind in kinds[1:]:
        _differences(kind, theirs, unowned, " (slimline's not owned by a Debian package)")
    peak = max(s.max_rss, s.tree_peak)
    print(
        f"targets: no slower than trivy: {'yes' if s.seconds <= t.seconds else 'no'}; "
        f"under 300 MB: {'yes' if peak < MEMORY_TARGET else 'no'} ({im.mb(peak)}); "
        f"same dpkg count: {'yes' if same else 'no'}"
    )
    print(f"ratio (trivy s / slimline s, >1: slimline is faster): {t.seconds / s.seconds:.2f}x")


def _version(trivy: str) -> str:
    run = im.run_once([trivy, "--version"])
    first = run.stdout.decode(errors="replace").splitlines()[:1]
    return first[0].replace("Version: ", "") if first else "?"


def _components(items: list[dict]) -> list[dict]:
    out: list[dict] = []
    for c in items:
        out.append(c)
        out.extend(_components(c.get("components") or []))
    return out


def _purls(path: Path) -> list[str]:
    """Every component's purl, nested components included (a component without one is skipped)."""
    return [purl for purl, _ in _packages(path)]


def _packages(path: Path) -> list[tuple[str, bool]]:
    """(purl, owned by a Debian package) of every component that has a purl. Ownership comes from
    slimline's `slimline:installed-by` property; trivy leaves such packages out altogether."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    out = []
    for c in _components(doc.get("components") or []):
        if not c.get("purl"):
            continue
        owned = any(
            p.get("name") == "slimline:installed-by"
            and str(p.get("value", "")).startswith("pkg:deb/")
            for p in c.get("properties") or []
        )
        out.append((c["purl"], owned))
    return out


def _type(purl: str) -> str:
    return purl.split(":", 1)[1].split("/", 1)[0] if ":" in purl else ""


def _name_version(purl: str) -> tuple[str, str]:
    """(name, version) of a purl, qualifiers dropped; namespace kept for npm scopes; a Debian
    epoch given as the `epoch` qualifier (trivy's way) put back in front of the version."""
    from packageurl import PackageURL

    p = PackageURL.from_string(purl)
    name = f"{p.namespace}/{p.name}" if p.namespace and p.type == "npm" else p.name
    version = p.version or ""
    qualifiers = p.qualifiers if isinstance(p.qualifiers, dict) else {}
    if p.type == "deb" and qualifiers.get("epoch") and ":" not in version:
        version = f"{qualifiers['epoch']}:{version}"
    return name, version


def _differences(kind: str, theirs: list[str], ours: list[str], label: str = "") -> None:
    a = {_name_version(p) for p in theirs if _type(p) == kind}
    b = {_name_version(p) for p in ours if _type(p) == kind}
    only_t, only_s = sorted(a - b), sorted(b - a)
    head = f"  {kind}{label}:"
    if not only_t and not only_s:
        print(f"{head} the same {len(a)} (name, version) pairs")
        return
    print(
        f"{head} {len(a & b)} (name, version) pairs in both; only trivy {len(only_t)}"
        + (f" (e.g. {', '.join(f'{n} {v}' for n, v in only_t[:4])})" if only_t else "")
        + f"; only slimline {len(only_s)}"
        + (f" (e.g. {', '.join(f'{n} {v}' for n, v in only_s[:4])})" if only_s else "")
    )


def _dpkg_query(tag: str) -> set[tuple[str, str]] | None:
    """Installed packages as dpkg itself lists them, from a throwaway container with no network."""
    try:
        client = im.docker_client()
        output = client.containers.run(
            tag,
            ["dpkg-query", "-W", "-f", "${db:Status-Status} ${binary:Package} ${Version}\\n"],
            network_mode="none",
            remove=True,
            entrypoint=[],
        )
    except Exception as e:  # no engine, image gone: the comparison is optional
        print(f"(dpkg-query in a container failed: {e})")
        return None
    out: set[tuple[str, str]] = set()
    for line in output.decode().splitlines():
        status, name, version = line.split(" ", 2)
        if status == "installed":
            out.add((name.split(":", 1)[0], version))
    return out


if __name__ == "__main__":
    main()
