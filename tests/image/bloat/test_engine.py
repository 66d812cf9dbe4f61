"""The detectors on real images built by the engine, against what the container itself reports.

Ground truth comes from inside the running container (`find -printf` sums by inode, dpkg's own
file lists, apt's own removal plan), never from slimline's tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from slimline.buildtools import tool_kind
from slimline.image.bloat import BloatContext, capture_predicate, detect_all
from slimline.image.bloat.removal import relation_names, removal_set
from slimline.image.model import ImageFinding
from slimline.image.read import ReadImage, read_image
from slimline.image.sources import open_image
from slimline.image.waste import analyze_waste
from slimline.packages import catalogers, wanted_by
from slimline.packages.base import Package
from tests.support import engine

pytestmark = pytest.mark.engine

# Debian's toolchain, git and pip from apt with recommends and no cleanup, with the image's
# docker-clean removed first (as the recipe for BuildKit cache mounts does) so that apt keeps
# its .deb files; then a pip install that leaves its wheel cache (built from a local sdist: no
# index is needed)
TOOLS_DOCKERFILE = """\
FROM debian:bookworm
RUN rm -f /etc/apt/apt.conf.d/docker-clean \\
 && apt-get update && apt-get install -y python3-pip gcc git
RUN mkdir -p /tmp/demo-1.0 && cd /tmp/demo-1.0 \\
 && echo 'from setuptools import setup' > setup.py \\
 && echo 'setup(name="demo", version="1.0", py_modules=["demo"])' >> setup.py \\
 && head -c 300000 /dev/urandom | base64 | sed 's/^/# /' > demo.py \\
 && cd /tmp && tar czf demo-1.0.tar.gz demo-1.0 && rm -rf demo-1.0 \\
 && pip install --no-build-isolation --break-system-packages /tmp/demo-1.0.tar.gz \\
 && rm /tmp/demo-1.0.tar.gz
"""

# an armoured key, put together so that this file holds none
KEY_BEGIN = "-----BEGIN " + "OPENSSH PRIVATE KEY-----"
KEY_END = "-----END " + "OPENSSH PRIVATE KEY-----"
RISK_DOCKERFILE = f"""\
FROM debian:bookworm
RUN cp /bin/true /usr/local/bin/escalate && chmod 4755 /usr/local/bin/escalate
RUN mkdir -p /root/.ssh \\
 && printf '%s\\n' '{KEY_BEGIN}' 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ' '{KEY_END}' \\
 > /root/.ssh/id_ed25519
RUN rm /root/.ssh/id_ed25519
COPY npmrc /root/.npmrc
COPY env /srv/app/.env
COPY env.example /srv/app/.env.example
RUN mkdir -p /srv/app/logs /srv/app/data \\
 && head -c 200000 /dev/zero > /srv/app/logs/app.log \\
 && {{ printf 'SQLite format 3\\000'; head -c 8176 /dev/zero; }} > /srv/app/data/app.db \\
 && ln /srv/app/data/app.db /srv/app/data/app-link.db
"""
RISK_FILES = {
    "Dockerfile": RISK_DOCKERFILE,
    "npmrc": "//registry.npmjs.org/:_authToken=not-a-real-token-0001\n",
    "env": "DEBUG=1\nDATABASE_PASSWORD=hunter2-not-real\n",
    "env.example": "DEBUG=1\nDATABASE_PASSWORD=\n",
}

# the apparent size of the regular files below the arguments, each inode once
SUM_FILES = "find \"$@\" -type f -printf '%i %s\\n' | sort -u | awk '{s += $2} END {print s + 0}'"

# the bytes that removing some packages saves, from dpkg's lists and the real filesystem: each
# inode once, and only when every one of its links is among the packages' files
PACKAGE_BYTES = """\
import glob, os, stat, sys
listed = set()
for name in sys.argv[1:]:
    for pattern in (f"{name}.list", f"{name}:*.list"):
        for lst in glob.glob("/var/lib/dpkg/info/" + pattern):
            listed.update(line.rstrip("\\n") for line in open(lst))
inodes = {}
for path in listed:
    real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    try:
        st = os.lstat(real)
    except OSError:
        continue
    if stat.S_ISREG(st.st_mode):
        inodes.setdefault((st.st_dev, st.st_ino), [st.st_size, st.st_nlink, set()])[2].add(real)
print(sum(size for size, links, seen in inodes.values() if len(seen) == links))
"""


@dataclass
class Built:
    tag: str
    read: ReadImage
    packages: list[Package]

    def findings(self, *, with_packages: bool = True) -> dict[str, ImageFinding]:
        chosen = self.packages if with_packages else []
        context = BloatContext(self.read.files, self.read.layers, chosen)
        return {f.rule: f for f in detect_all(context)}

    def run(self, script: str, *args: str) -> str:
        return engine.run(self.tag, ["sh", "-c", script, "sh", *args]).strip()

    def file_sum(self, *directories: str) -> int:
        return int(self.run(SUM_FILES, *directories))


def build(name: str, files: Mapping[str, str]) -> Built:
    tag = engine.build(name, files)
    readers = [capture_predicate(), *(c.wants for c in catalogers())]
    with open_image(f"docker-archive:{engine.save(tag)}") as image:
        read = read_image(image, wanted_by(readers))
    packages = [p for c in catalogers() for p in c.catalog(read.files)]
    return Built(tag, read, packages)


@pytest.fixture(scope="module")
def tools() -> Built:
    return build("bloat-tools", {"Dockerfile": TOOLS_DOCKERFILE})


@pytest.fixture(scope="module")
def risk() -> Built:
    return build("bloat-risk", RISK_FILES)


def tree_sum(built: Built, directory: str) -> int:
    """The same sum from slimline's merged tree (no hard links in these directories)."""
    return sum(
        record.size for path, record in built.read.files.walk(directory) if record.kind == "file"
    )


@pytest.mark.parametrize(
    ("rule", "directory"),
    [
        ("SLI302", "var/lib/apt/lists"),
        ("SLI303", "var/cache/apt"),
        ("SLI306", "root/.cache/pip"),
    ],
)
def test_cache_bytes_equal_the_containers(tools: Built, rule: str, directory: str) -> None:
    found = tools.findings()[rule]
    assert found.bytes > 0
    assert found.bytes == tools.file_sum("/" + directory) == tree_sum(tools, directory)
    assert found.layers == ((2,) if rule == "SLI306" else (1,))


def test_documentation_bytes_equal_the_containers(tools: Built) -> None:
    # without package metadata no build-tool finding claims the tools' documentation first
    found = tools.findings(with_packages=False)["SLI450"]
    expected = int(
        tools.run(
            "find /usr/share/doc /usr/share/man /usr/share/info -type f"
            " ! -iname 'copyright*' ! -iname 'licen[cs]e*' ! -iname 'copying*'"
            " -printf '%i %s\\n' | sort -u | awk '{s += $2} END {print s + 0}'"
        )
    )
    assert found.bytes == expected


def test_build_tools_bytes_equal_what_dpkg_lists_for_the_removed_packages(tools: Built) -> None:
    found = tools.findings()["SLI501"]
    debs = {p.name: p for p in tools.packages if p.ecosystem == "deb"}
    roots = {name for name in debs if tool_kind(name) in ("toolchain", "headers")}
    removed = removal_set(roots, debs)
    assert {"gcc-12", "cpp-12", "g++-12", "libc6-dev", "make", "binutils"} <= removed
    assert "libc6" not in removed and "python3.11" not in removed
    assert "packages gcc-12, g++-12, cpp-12," in found.message
    in_container = engine.run(tools.tag, ["python3", "-c", PACKAGE_BYTES, *sorted(removed)])
    assert found.bytes == int(in_container)


def test_removed_packages_agree_with_apts_own_plan(tools: Built) -> None:
    """apt-get's simulated `purge --auto-remove` of the tool packages removes the same packages,
    except where Recommends and Suggests decide (which dpkg records but the cataloger does not
    pass on): apt keeps a package that a kept package recommends or suggests, and removes what
    only removed packages recommend or suggest, with its dependencies."""
    debs = {p.name: p for p in tools.packages if p.ecosystem == "deb"}
    roots = sorted(name for name in debs if tool_kind(name) in ("toolchain", "headers"))
    mine = removal_set(roots, debs)
    plan = engine.run(tools.tag, ["apt-get", "-s", "purge", "--auto-remove", *roots])
    apt = {line.split()[1] for line in plan.splitlines() if line.startswith("Purg ")}
    fields = "${Package}\\t${Pre-Depends}, ${Depends}\\t${Recommends}, ${Suggests}\\n"
    strong: dict[str, set[str]] = {}
    weak: dict[str, set[str]] = {}
    for line in tools.run(f"dpkg-query -W -f '{fields}'").splitlines():
        name, hard, soft = line.split("\t")
        strong[name] = relation_names([hard])
        weak[name] = relation_names([soft])
    weakly_kept = {n for name in debs.keys() - apt for n in weak.get(name, ())}
    assert mine - apt <= weakly_kept
    # what apt removes beyond slimline's closure is reached through a weak relation
    reached = set(mine)
    frontier = list(mine)
    while frontier:
        name = frontier.pop()
        for other in strong.get(name, set()) | weak.get(name, set()):
            if other in apt and other not in reached:
                reached.add(other)
                frontier.append(other)
    assert apt - mine <= reached


def test_version_control_and_shells(tools: Built) -> None:
    found = tools.findings()
    assert "packages git" in found["SLI502"].message
    assert found["SLI502"].bytes > 1_000_000
    assert "/usr/bin/bash, /usr/bin/dash, /usr/bin/sh" in found["SLI905"].message
    assert "/usr/bin/apt-get" in found["SLI950"].message and "pip" in found["SLI950"].message


def test_every_byte_is_counted_once(tools: Built) -> None:
    found = tools.findings()
    sized = [f for f in found.values() if f.rule != "SLI602"]
    final = sum(r.size for r in tools.read.files.files.values() if r.kind == "file")
    assert sum(f.bytes for f in sized) <= final


@pytest.mark.parametrize("image", ["tools", "risk"])
def test_layer_waste_equals_the_reclaimable_bytes(
    request: pytest.FixtureRequest, image: str
) -> None:
    built: Built = request.getfixturevalue(image)
    found = built.findings()["SLI602"]
    waste = analyze_waste(built.read.layers, built.read.files.tree)
    assert found.bytes == waste.reclaimable_bytes > 0


def test_setuid_files_are_the_ones_find_sees(risk: Built) -> None:
    found = risk.findings()["SLI907"]
    listed = risk.run("find / -xdev -perm /6000 -type f | sort").splitlines()
    assert found.paths == tuple(listed)
    assert found.path_count == len(listed)
    # /usr/local/bin/escalate comes from the build, not from a package
    assert found.severity == "warning"
    assert "not from any package: /usr/local/bin/escalate" in found.message


def test_a_key_deleted_by_a_later_run_is_still_found(risk: Built) -> None:
    assert risk.run("test -e /root/.ssh/id_ed25519 && echo present || echo gone") == "gone"
    found = risk.findings()
    hidden = found["SLI052"]
    assert hidden.paths == ("/root/.ssh/id_ed25519",)
    assert "OpenSSH private key" in hidden.message
    assert "SLI050" not in found
    # the layer of the RUN that wrote it: base, chmod, then this one
    assert hidden.layers == (2,)


def test_credentials_in_the_final_image(risk: Built) -> None:
    found = risk.findings()["SLI051"]
    assert found.paths == ("/root/.npmrc", "/srv/app/.env")
    assert "not-a-real-token" not in found.message and "hunter2" not in found.message


def test_baked_in_data_equals_the_containers(risk: Built) -> None:
    found = risk.findings()
    assert found["SLI704"].bytes == risk.file_sum("/srv/app/data") == 8192
    assert found["SLI704"].path_count == 2
    logs = risk.run(
        "find /var/log /srv/app/logs -type f ! -path '/var/log/apt/*' ! -name dpkg.log"
        " ! -name alternatives.log -printf '%i %s\\n' | sort -u | awk '{s += $2} END {print s}'"
    )
    assert found["SLI750"].bytes == int(logs)
