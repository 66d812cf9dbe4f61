"""Local stand-ins for the official images the examples and their fixes build on.

Docker Hub is out of reach, so `python:3.12`, `node:20`, `golang:latest` and the slim and
distroless variants a fix moves to are built here from the local `debian:bookworm` and
`debian:bookworm-slim` (see scripts/lib/engine.sh) with Debian's packages, and tagged with the
official names. Each stand-in is a directory under `base_images/` whose Dockerfile starts with
`# stand-in for: TAG, TAG...` and says how it differs from the official image; files several
stand-ins copy live in `base_images/_common/` (the build context is `base_images/`).

An image is rebuilt only when its recipe changes: the recipe hash covers the stand-in's files,
its tags and its parents' recipes (or, for a parent that is not a stand-in, its image id), and is
stored as a label. A file lock per stand-in lets parallel test workers share one build.

    python -m tests.support.base_images [TAG-OR-NAME ...]   # build what is missing (default: all)
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from slimline.dockerfile.base_images import latest_known_tag

RECIPES = Path(__file__).resolve().parent / "base_images"
COMMON = RECIPES / "_common"
LABEL = "org.slimline.stand-in.recipe"
LOCKS = Path(tempfile.gettempdir()) / "slimline-test-images"

_TAGS_LINE = re.compile(r"^#\s*stand-in for:\s*(?P<tags>.+)$", re.MULTILINE)
_FROM = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)", re.MULTILINE | re.IGNORECASE)
# `{latest:golang}` in a tag: the concrete tag the variants data suggests for `golang:latest`,
# so the stand-in answers to whatever a pinning fix writes.
_LATEST = re.compile(r"\{latest:(?P<family>[a-z0-9._/-]+)\}")


@dataclass(frozen=True)
class StandIn:
    name: str  # the directory under base_images/
    tags: tuple[str, ...]
    parents: tuple[str, ...]  # images named by FROM, stage names excluded
    directory: Path

    @property
    def tag(self) -> str:
        return self.tags[0]


def _expand(tag: str) -> str:
    def concrete(match: re.Match[str]) -> str:
        found = latest_known_tag(match.group("family"))
        if found is None:
            raise ValueError(f"no latest tag known for {match.group('family')}")
        return found

    return _LATEST.sub(concrete, tag)


def _load(directory: Path) -> StandIn:
    text = (directory / "Dockerfile").read_text(encoding="utf-8")
    header = _TAGS_LINE.search(text)
    if header is None:
        raise ValueError(f"{directory.name}/Dockerfile has no '# stand-in for:' line")
    spelled = (_normalise(_expand(t.strip())) for t in header.group("tags").split(","))
    tags = tuple(dict.fromkeys(t for t in spelled if t != ":latest"))
    stages: set[str] = set()
    parents: list[str] = []
    for line in text.splitlines():
        match = _FROM.match(line.strip())
        if match is None:
            continue
        image = match.group("image")
        words = line.split()
        if len(words) >= 4 and words[-2].lower() == "as":
            stages.add(words[-1].lower())
        if image.lower() not in stages and image != "scratch" and image not in parents:
            parents.append(image)
    return StandIn(directory.name, tags, tuple(parents), directory)


@functools.cache
def stand_ins() -> dict[str, StandIn]:
    """Every stand-in by directory name."""
    found = [
        _load(d) for d in sorted(RECIPES.iterdir()) if (d / "Dockerfile").is_file() and d != COMMON
    ]
    return {s.name: s for s in found}


@functools.cache
def by_tag() -> dict[str, StandIn]:
    table: dict[str, StandIn] = {}
    for stand_in in stand_ins().values():
        for tag in stand_in.tags:
            if tag in table:
                raise ValueError(f"{tag} is claimed by {table[tag].name} and {stand_in.name}")
            table[tag] = stand_in
    return table


def _normalise(reference: str) -> str:
    return reference if ":" in reference.rsplit("/", 1)[-1] else f"{reference}:latest"


def _parents(stand_in: StandIn) -> list[StandIn]:
    """The stand-ins this one builds on."""
    tags = by_tag()
    return [tags[_normalise(p)] for p in stand_in.parents if _normalise(p) in tags]


def resolve(names: Iterable[str]) -> list[StandIn]:
    """The stand-ins for tags or directory names, with the stand-ins they build on, parents
    first. Names that no stand-in provides (`debian:bookworm`, `scratch`) are skipped."""
    tags = by_tag()
    ordered: list[StandIn] = []

    def visit(stand_in: StandIn) -> None:
        if stand_in in ordered:
            return
        for parent in _parents(stand_in):
            visit(parent)
        ordered.append(stand_in)

    for name in names:
        found = stand_ins().get(name) or tags.get(_normalise(name))
        if found is not None:
            visit(found)
    return ordered


def _image_id(client: Any, reference: str) -> str | None:
    import docker.errors

    try:
        return str(client.images.get(reference).id)
    except docker.errors.ImageNotFound:
        return None


def recipe_hash(stand_in: StandIn, client: Any) -> str:
    digest = hashlib.sha256()
    files = [*stand_in.directory.rglob("*"), *COMMON.rglob("*")]
    for path in sorted(p for p in files if p.is_file()):
        digest.update(path.relative_to(RECIPES).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update(",".join(stand_in.tags).encode() + b"\0")
    tags = by_tag()
    for parent in stand_in.parents:
        provider = tags.get(_normalise(parent))
        # A parent built here counts by its recipe; any other parent by the image it is now.
        ancestry = recipe_hash(provider, client) if provider else _image_id(client, parent)
        digest.update(f"{parent}={ancestry}\0".encode())
    return digest.hexdigest()[:16]


def _up_to_date(client: Any, stand_in: StandIn, recipe: str) -> bool:
    import docker.errors

    ids: set[str] = set()
    for tag in stand_in.tags:
        try:
            image = client.images.get(tag)
        except docker.errors.ImageNotFound:
            return False
        if (image.labels or {}).get(LABEL) != recipe:
            return False
        ids.add(image.id)
    return len(ids) == 1


def _build(client: Any, stand_in: StandIn, recipe: str, *, cache: bool = True) -> None:
    import docker.errors

    try:
        image, _ = client.images.build(
            nocache=not cache,
            path=str(RECIPES),
            dockerfile=f"{stand_in.name}/Dockerfile",
            tag=stand_in.tag,
            network_mode="host",
            rm=True,
            forcerm=True,
            pull=False,
            labels={LABEL: recipe},
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(part.get("stream", part.get("error", ""))) for part in exc.build_log)
        tail = "\n".join(log.strip().splitlines()[-20:])
        raise RuntimeError(f"building stand-in {stand_in.tag} failed: {exc.msg}\n{tail}") from exc
    for other in stand_in.tags[1:]:
        repository, _, tag = other.rpartition(":")
        image.tag(repository, tag)


Report = Callable[[StandIn, float | None], None]
# Two builds at a time: apt and dpkg leave a core idle much of the time, and independent
# chains (the slim images, distroless) then overlap with the long buildpack-deps chain.
DEFAULT_JOBS = 2


def _depth(stand_in: StandIn) -> int:
    return 1 + max((_depth(p) for p in _parents(stand_in)), default=0)


def _ensure_one(client: Any, stand_in: StandIn, report: Report | None, rebuild: bool) -> None:
    with FileLock(str(LOCKS / f"stand-in-{stand_in.name}.lock")):
        recipe = recipe_hash(stand_in, client)
        if not rebuild and _up_to_date(client, stand_in, recipe):
            if report:
                report(stand_in, None)
            return
        started = time.monotonic()
        _build(client, stand_in, recipe, cache=not rebuild)
        if report:
            report(stand_in, time.monotonic() - started)


def ensure_base_images(
    names: Iterable[str] | None = None,
    *,
    client: Any = None,
    report: Report | None = None,
    jobs: int = DEFAULT_JOBS,
    rebuild: bool = False,
) -> list[str]:
    """Build the stand-ins behind `names` (tags or directory names; all when None) that are
    missing or out of date, `jobs` at a time, and return their tags. `report(stand_in,
    seconds)` is called for each, with None when the image was already up to date.
    `rebuild` builds every one again without the layer cache (to measure build times)."""
    if client is None:
        from tests.support.engine import client as test_client

        client = test_client()
    chosen = resolve(stand_ins() if names is None else names)
    LOCKS.mkdir(parents=True, exist_ok=True)
    # Shallow first: every parent is submitted before its children, so a worker waiting for a
    # parent always waits for one that is running or done, and independent chains interleave.
    ordered = sorted(chosen, key=_depth)
    done: dict[str, Future[None]] = {}

    def task(stand_in: StandIn) -> None:
        for parent in _parents(stand_in):
            if parent.name in done:
                done[parent.name].result()
        _ensure_one(client, stand_in, report, rebuild)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for stand_in in ordered:
            done[stand_in.name] = pool.submit(task, stand_in)
        for future in done.values():
            future.result()
    return [tag for s in chosen for tag in s.tags]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="tags or stand-in names (default: all)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="builds at a time")
    parser.add_argument(
        "--rebuild", action="store_true", help="build again without the layer cache (timing)"
    )
    args = parser.parse_args(argv)
    import docker

    client = docker.from_env(timeout=1800)

    def report(stand_in: StandIn, seconds: float | None) -> None:
        size = client.images.get(stand_in.tag).attrs["Size"] / 1e6
        when = "up to date" if seconds is None else f"built in {seconds:.0f} s"
        print(f"{', '.join(stand_in.tags)}: {size:.0f} MB, {when}", flush=True)

    try:
        ensure_base_images(
            args.names or None, client=client, report=report, jobs=args.jobs, rebuild=args.rebuild
        )
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
