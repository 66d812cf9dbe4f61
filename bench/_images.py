"""What the image benchmarks share: the ~1 GB test image, its `docker save` archive, and how one
run of a tool is measured.

The image is built locally from `debian:bookworm` (no registry is contacted: packages come from
Debian's archive over the host network) and cached by a tag derived from the Dockerfile's text, so
changing the Dockerfile builds a new image. Its archive is written once to bench/results/.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BASE = "debian:bookworm"

# About 1 GB uncompressed in nine layers: toolchains, Node.js, headers and Python packages from
# Debian; a virtualenv and a node_modules that no Debian package owns (pip and setuptools, 14 npm
# packages copied from Debian's); and what makes dive's waste non-zero: a file rewritten in a later
# layer, a file and the apt lists deleted in a later one, the lists downloaded again, dpkg's and
# debconf's databases rewritten by every install. The apt lists are left behind on purpose.
_COMMON = """\
FROM debian:bookworm
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends \\
      build-essential python3-dev python3-pip python3-venv git cmake pkg-config \\
 && apt-get clean
RUN apt-get install -y --no-install-recommends nodejs npm && apt-get clean
RUN apt-get install -y --no-install-recommends libssl-dev libffi-dev zlib1g-dev libsqlite3-dev \\
 && apt-get clean
RUN apt-get install -y --no-install-recommends python3-numpy python3-yaml python3-requests \\
 && apt-get clean
RUN python3 -m venv /opt/venv && mkdir -p /app/node_modules && cd /usr/share/nodejs \\
 && cp -rL balanced-match brace-expansion commander debug glob inherits lru-cache minimatch \\
      minimist ms once semver wrappy yallist /app/node_modules/
RUN head -c 40000000 /dev/urandom > /opt/artifact.bin \\
 && head -c 20000000 /dev/urandom > /opt/scratch.bin
RUN head -c 30000000 /dev/urandom > /opt/artifact.bin
"""

# name -> Dockerfile. "big" is the benchmark's image. "big-deletions" differs only in its last
# layer, which also deletes /usr/share/doc/* and /usr/share/man/* (about a thousand directory
# whiteouts): a stress case for whiteout handling, where dive 0.13 takes minutes instead of seconds.
DOCKERFILES = {
    "big": _COMMON
    + """\
RUN rm -rf /opt/scratch.bin /var/lib/apt/lists/* && apt-get update && rm -f /var/cache/apt/*.bin
CMD ["bash"]
""",
    "big-deletions": _COMMON
    + """\
RUN rm -rf /opt/scratch.bin /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \\
 && apt-get update && rm -f /var/cache/apt/*.bin
CMD ["bash"]
""",
}


@dataclass(frozen=True)
class BenchImage:
    name: str
    dockerfile: str

    @functools.cached_property
    def hash(self) -> str:
        """Of the Dockerfile and the id of the local base image: a new base builds a new image."""
        return hashlib.sha256(f"{self.dockerfile}\n{_base_id()}".encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"slimline-bench/{self.name}:{self.hash}"

    @property
    def archive(self) -> Path:
        return RESULTS / f"{self.name}-{self.hash}.tar"


@functools.cache
def _base_id() -> str:
    import docker.errors

    try:
        return str(docker_client().images.get(BASE).id)
    except docker.errors.ImageNotFound:
        sys.exit(f"no {BASE} image in the engine (scripts/lib/engine.sh ensure_engine makes it)")


def bench_image(name: str = "big") -> BenchImage:
    if name not in DOCKERFILES:
        sys.exit(f"unknown image {name!r}: one of {', '.join(DOCKERFILES)}")
    return BenchImage(name, DOCKERFILES[name])


def progress(message: str) -> None:
    print(f"-- {message}", flush=True)


def docker_client():  # type: ignore[no-untyped-def]
    import docker

    return docker.from_env(timeout=600)


def ensure_image(image: BenchImage) -> str:
    """Build the image unless the engine already has its tag; return the tag."""
    import docker.errors

    client = docker_client()
    try:
        client.images.get(image.tag)
        progress(f"image {image.tag} is already built")
        return image.tag
    except docker.errors.ImageNotFound:
        pass
    progress(
        f"building {image.tag} from debian:bookworm with packages from Debian's archive "
        "(host network; several minutes the first time)"
    )
    start = time.perf_counter()
    tail: list[str] = []
    for chunk in client.api.build(
        fileobj=io.BytesIO(image.dockerfile.encode()),
        tag=image.tag,
        network_mode="host",
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        labels={"org.slimline.bench": image.hash},
    ):
        if "error" in chunk:
            sys.stderr.write("".join(tail[-30:]))
            sys.exit(f"image build failed: {chunk['error'].strip()}")
        text = chunk.get("stream", "")
        if text:
            tail.append(text)
            if text.startswith("Step "):
                print(f"   {text.strip()[:110]}", flush=True)
    progress(f"built {image.tag} in {time.perf_counter() - start:.0f} s")
    return image.tag


def ensure_archive(image: BenchImage) -> Path:
    """`docker save` the image into bench/results/ once; return the archive's path."""
    archive = image.archive
    if archive.exists():
        progress(f"archive {archive.relative_to(ROOT)} exists")
        return archive
    ensure_image(image)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stale = re.compile(rf"{re.escape(image.name)}-[0-9a-f]{{12}}\.(tar|tar\.part|stats\.json)")
    for old in RESULTS.iterdir():
        # an earlier build of this image (another Dockerfile or base): about 1 GB each
        if stale.fullmatch(old.name):
            old.unlink()
    part = archive.with_suffix(".tar.part")
    progress(f"saving {image.tag} to {archive.relative_to(ROOT)}")
    client = docker_client()
    with part.open("wb") as out:
        for chunk in client.api.get_image(image.tag, chunk_size=1 << 20):
            out.write(chunk)
    part.rename(archive)
    return archive


def warm(path: Path) -> None:
    """Read a file once so that every timed run finds it in the page cache, the first one too."""
    with path.open("rb") as f:
        while f.read(1 << 23):
            pass


@dataclass(frozen=True)
class ImageStats:
    archive_bytes: int
    layers: int
    layer_bytes: int  # uncompressed layer tars, added up
    content_bytes: int  # regular files' sizes, added up over every layer
    entries: int  # tar members over every layer (files, directories, links, whiteouts)


def image_stats(archive: Path) -> ImageStats:
    """Size, layers and entries of a `docker save` archive (cached beside it)."""
    cache = archive.with_suffix(".stats.json")
    if cache.exists() and cache.stat().st_mtime >= archive.stat().st_mtime:
        return ImageStats(**json.loads(cache.read_text()))
    layer_bytes = content = entries = 0
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        layers = manifest[0]["Layers"]
        for name in layers:
            member = outer.getmember(name)
            layer_bytes += member.size
            with tarfile.open(fileobj=outer.extractfile(member), mode="r|*") as inner:
                for item in inner:
                    entries += 1
                    if item.isfile():
                        content += item.size
    stats = ImageStats(archive.stat().st_size, len(layers), layer_bytes, content, entries)
    cache.write_text(json.dumps(stats.__dict__))
    return stats


def tool(name: str) -> str:
    """A peer's executable from the benchmark's environment (or PATH)."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install the bench extra (pip install -e '.[bench]')")
    return found


@dataclass
class Run:
    seconds: float  # best wall time
    max_rss: int  # bytes: the largest resident set of any one process of the run (kernel's figure)
    tree_peak: int  # bytes: the largest sampled sum of proportional set sizes of the process tree
    returncode: int
    stdout: bytes
    stderr: bytes


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _sample_tree(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(0.05):
        total, todo = 0, [pid]
        while todo:
            p = todo.pop()
            total += _pss(p)
            todo.extend(_children(p))
        peak[0] = max(peak[0], total)


def run_once(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """One run in a fresh process: wall time, the kernel's max RSS for that child (os.wait4), and
    the sampled peak memory of the whole process tree (for tools that fork workers)."""
    with (
        open(os.devnull, "rb") as stdin,
        _spool() as out,
        _spool() as err,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=err, env=env, cwd=cwd)
        stop, peak = threading.Event(), [0]
        sampler = threading.Thread(target=_sample_tree, args=(proc.pid, stop, peak), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            usage.ru_maxrss * 1024,
            max(peak[0], 0),
            proc.returncode,
            out.read(),
            err.read(),
        )


def _spool():  # type: ignore[no-untyped-def]
    import tempfile

    return tempfile.TemporaryFile(dir=RESULTS if RESULTS.exists() else None)


def measure(
    label: str,
    cmd: list[str],
    repeat: int,
    env: dict[str, str] | None = None,
    before: object = None,
) -> Run:
    """Best wall time of `repeat` runs; memory is the largest seen over the runs. `before`, if
    callable, runs before each run (outside the timing), e.g. to clear a cache."""
    best: Run | None = None
    max_rss = tree = 0
    for i in range(repeat):
        if callable(before):
            before()
        run = run_once(cmd, env)
        print(
            f"   {label} run {i + 1}/{repeat}: {run.seconds:.2f} s, max RSS {mb(run.max_rss)}"
            f"{'' if run.returncode == 0 else f', exit {run.returncode}'}",
            flush=True,
        )
        max_rss, tree = max(max_rss, run.max_rss), max(tree, run.tree_peak)
        if best is None or run.seconds < best.seconds:
            best = run
    assert best is not None
    best.max_rss, best.tree_peak = max_rss, tree
    return best


def tree_note(run: Run) -> str:
    """The process tree's sampled peak when it says more than the largest process's RSS
    (slimline may fork workers)."""
    if run.tree_peak > run.max_rss * 1.1:
        return f" (process tree, sampled PSS: {mb(run.tree_peak)})"
    return ""


def mb(n: int) -> str:
    """Decimal megabytes, as the targets are stated."""
    return f"{n / 1e6:,.1f} MB"


def machine() -> str:
    return f"{os.cpu_count()} cores, python {sys.version.split()[0]}"
