"""In-layer bloat and risk detectors, on hand-made layers: what each catches, what it leaves alone,
and the exact bytes (hard links once, each byte in one finding)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from slimline.buildtools import tool_kind
from slimline.findings import Practice, Severity
from slimline.image.bloat import (
    CLAIM_ORDER,
    BloatContext,
    capture_predicate,
    detect_all,
    detector_infos,
    detectors,
    load_detectors,
)
from slimline.image.bloat.removal import removal_set
from slimline.image.bloat.security import is_candidate
from slimline.image.layers import LayerEntry, read_layer
from slimline.image.model import ImageFinding
from slimline.image.read import read_image
from slimline.packages.base import Package

from ..builders import Op, layer_tar

# a private key's armour, put together so that this file holds none
KEY_BEGIN = "-----BEGIN " + "{}PRIVATE KEY-----"
KEY_END = "-----END " + "{}PRIVATE KEY-----"


def pem(kind: str = "", body: str = "MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA") -> bytes:
    prefix = f"{kind} " if kind else ""
    return f"{KEY_BEGIN.format(prefix)}\n{body}\n{KEY_END.format(prefix)}\n".encode()


CERTIFICATE = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@dataclass
class _Layer:
    """What read_image needs of a layer reference: its index and its entries."""

    index: int
    tar: bytes

    def entries(self, capture: Callable[[str], bool] | None = None) -> Iterator[LayerEntry]:
        return read_layer(io.BytesIO(self.tar), capture=capture)


@dataclass
class _Image:
    layers: list[_Layer]


def context(*layers: Sequence[Op], packages: Sequence[Package] = ()) -> BloatContext:
    """The image made of `layers`, read as `analyze` reads one: one pass, bytes captured."""
    image = _Image([_Layer(i, layer_tar(ops)) for i, ops in enumerate(layers)])
    read = read_image(image, capture_predicate())  # type: ignore[arg-type]
    return BloatContext(read.files, read.layers, list(packages))


def findings(*layers: Sequence[Op], packages: Sequence[Package] = ()) -> dict[str, ImageFinding]:
    found = detect_all(context(*layers, packages=packages))
    by_rule = {f.rule: f for f in found}
    assert len(by_rule) == len(found), "one finding per detector"
    return by_rule


def deb(name: str, files: Sequence[str] = (), depends: Sequence[str] = ()) -> Package:
    return Package(
        name=name,
        version="1",
        ecosystem="deb",
        purl=f"pkg:deb/debian/{name}@1",
        location="var/lib/dpkg/status",
        cataloger="dpkg",
        depends=tuple(depends),
        files=tuple(files),
    )


# ---- the registry --------------------------------------------------------------------------

FAMILY = {
    0: Practice.SECURITY,
    3: Practice.PACKAGE_CACHE,
    4: Practice.INSTALL_SCOPE,
    5: Practice.BUILD_TOOLS,
    6: Practice.LAYER_WASTE,
    7: Practice.DATA_STORAGE,
    9: Practice.ATTACK_SURFACE,
}


def test_every_detector_is_registered_with_an_id_of_its_family_and_documented() -> None:
    classes = load_detectors()
    assert len(classes) >= 30
    for rule_id, cls in classes.items():
        assert re.fullmatch(r"SLI\d{3}", rule_id)
        assert FAMILY[int(rule_id[3])] is cls.practice, rule_id
        assert cls.practice in CLAIM_ORDER
        assert cls.title and cls.name, rule_id
        info = detector_infos()[rule_id]
        assert info.summary.endswith("."), rule_id
        assert "Fix" in info.doc or "fix" in info.doc, rule_id
    assert len({cls.name for cls in classes.values()}) == len(classes)


def test_detectors_run_in_claim_order() -> None:
    order = [CLAIM_ORDER.index(d.practice) for d in detectors()]
    assert order == sorted(order)


def test_capture_predicate_asks_for_candidates_only() -> None:
    wants = capture_predicate()
    for path in (
        "root/.ssh/id_rsa",
        "etc/ssl/private/ssl-cert-snakeoil.key",
        "srv/app/certs/server.pem",
        "srv/app/.env",
        "srv/app/.env.production",
        "root/.npmrc",
        "home/u/.aws/credentials",
        "root/.docker/config.json",
        "srv/app/data/app.db",
    ):
        assert wants(path), path
    for path in (
        "usr/bin/env",
        "srv/app/.env.example",
        "srv/app/config.json",
        "usr/lib/python3/dist-packages/x/credentials",
        "usr/share/doc/x/copyright",
        "var/lib/misc/x.db",
        "usr/lib/x.db",
    ):
        assert not wants(path), path


def test_an_empty_image_has_no_findings() -> None:
    assert findings([("file", "etc/hostname", b"box\n")]) == {}


# ---- package caches ------------------------------------------------------------------------

CACHES: list[tuple[str, list[Op], int]] = [
    (
        "SLI302",
        [
            ("file", "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", 1000),
            ("file", "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_Packages", 9000),
            ("file", "var/lib/apt/lists/lock", 0),
            ("dir", "var/lib/apt/lists/partial", None),
        ],
        10_000,
    ),
    (
        "SLI303",
        [
            ("file", "var/cache/apt/archives/gcc_12_amd64.deb", 5000),
            ("file", "var/cache/apt/archives/lock", 0),
            ("file", "var/cache/apt/pkgcache.bin", 700),
            ("file", "var/cache/apt/srcpkgcache.bin", 300),
        ],
        6000,
    ),
    ("SLI301", [("file", "var/cache/apk/APKINDEX.abc.tar.gz", 1234)], 1234),
    (
        "SLI304",
        [("file", "var/cache/dnf/fedora.solv", 400), ("file", "var/cache/yum/x/primary.xml", 50)],
        450,
    ),
    ("SLI305", [("file", "var/cache/zypp/raw/repo/repomd.xml", 77)], 77),
    (
        "SLI306",
        [
            ("file", "root/.cache/pip/http-v2/a/b/c", 300),
            ("file", "home/app/.cache/pip/wheels/x/demo-1.0-py3-none-any.whl", 200),
        ],
        500,
    ),
    ("SLI307", [("file", "root/.npm/_cacache/content-v2/sha512/ab/cd", 900)], 900),
    ("SLI308", [("file", "root/.composer/cache/files/a/b.zip", 90)], 90),
    (
        "SLI309",
        [
            ("file", "opt/conda/pkgs/numpy-1.26.tar.bz2", 6000),
            ("file", "opt/conda/conda-meta/history", 10),
        ],
        6000,
    ),
    (
        "SLI310",
        [
            ("file", "root/.cache/go-build/ab/abcd-d", 800),
            ("file", "go/pkg/mod/cache/download/x/@v/v1.zip", 100),
            ("file", "go/pkg/mod/github.com/x/y@v1/y.go", 50),
        ],
        950,
    ),
    ("SLI350", [("file", "usr/local/share/.cache/yarn/v6/npm-x/package.json", 33)], 33),
    ("SLI351", [("file", "root/.m2/repository/org/x/x-1.jar", 4444)], 4444),
    ("SLI352", [("file", "home/u/.gradle/caches/modules-2/x.jar", 555)], 555),
    ("SLI353", [("file", "usr/local/bundle/cache/rake-13.0.gem", 66)], 66),
    (
        "SLI354",
        [
            ("file", "var/log/apt/history.log", 10),
            ("file", "var/log/dpkg.log", 20),
            ("file", "var/lib/dpkg/status-old", 30),
            ("file", "var/lib/dpkg/status", 40),
        ],
        60,
    ),
]


@pytest.mark.parametrize(("rule", "ops", "expected"), CACHES, ids=[c[0] for c in CACHES])
def test_package_caches_are_counted_to_the_byte(rule: str, ops: list[Op], expected: int) -> None:
    found = findings(ops)
    assert found[rule].bytes == expected
    assert found[rule].practice is Practice.PACKAGE_CACHE
    assert found[rule].layers == (0,)
    counted = [op for op in ops if op[0] == "file" and op[2]]
    kept = {"opt/conda/conda-meta/history", "var/lib/dpkg/status"}
    assert found[rule].path_count == len([op for op in counted if op[1] not in kept])


def test_apt_lists_lock_and_partial_alone_are_no_finding() -> None:
    assert "SLI302" not in findings(
        [("file", "var/lib/apt/lists/lock", 0), ("dir", "var/lib/apt/lists/partial", None)]
    )


def test_apt_lists_message_says_what_to_do_and_paths_come_largest_first() -> None:
    found = findings(
        [
            ("file", "var/lib/apt/lists/small", 10),
            ("file", "var/lib/apt/lists/big", 9000),
        ],
        [("file", "srv/app", 5)],
    )["SLI302"]
    assert found.paths == ("/var/lib/apt/lists/big", "/var/lib/apt/lists/small")
    assert "rm -rf /var/lib/apt/lists/*" in found.message
    assert found.severity is Severity.WARNING


def test_pip_itself_is_not_a_pip_cache() -> None:
    found = findings([("file", "usr/lib/python3/dist-packages/pip/__init__.py", 100)])
    assert "SLI306" not in found


def test_a_projects_own_yarn_cache_and_a_conda_less_pkgs_dir_are_left_alone() -> None:
    found = findings(
        [("file", "app/.yarn/cache/x.zip", 10), ("file", "srv/pkgs/readme", 10)],
    )
    assert "SLI350" not in found and "SLI309" not in found


def test_a_cache_removed_in_a_later_layer_is_layer_waste_not_a_cache() -> None:
    found = findings(
        [("file", "var/lib/apt/lists/big", 9000)],
        [("whiteout", "var/lib/apt/lists/big", None)],
    )
    assert "SLI302" not in found
    assert found["SLI602"].bytes == 9000
    assert found["SLI602"].paths == ("/var/lib/apt/lists/big",)


# ---- hard links and overlapping findings ---------------------------------------------------


def test_hard_links_are_counted_once() -> None:
    found = findings(
        [
            ("file", "root/.cache/pip/a", 1000),
            ("hardlink", "root/.cache/pip/b", "root/.cache/pip/a"),
            ("file", "root/.cache/pip/c", 10),
        ]
    )["SLI306"]
    assert found.bytes == 1010
    assert found.path_count == 3


def test_a_hard_link_kept_outside_the_finding_saves_nothing() -> None:
    # deleting the cache keeps the bytes alive through /srv/keep
    found = findings(
        [
            ("file", "root/.cache/pip/a", 1000),
            ("file", "root/.cache/pip/c", 10),
            ("hardlink", "srv/keep", "root/.cache/pip/a"),
        ]
    )["SLI306"]
    assert found.bytes == 10


def test_bytes_are_counted_by_one_finding_only() -> None:
    gcc_files = ["usr/bin/gcc-12", "usr/share/doc/gcc-12/changelog.gz"]
    found = findings(
        [
            ("file", "usr/bin/gcc-12", 5000),
            ("file", "usr/share/doc/gcc-12/changelog.gz", 300),
            ("file", "usr/share/doc/bash/changelog.gz", 70),
        ],
        packages=[deb("gcc-12", gcc_files), deb("bash", ["usr/share/doc/bash/changelog.gz"])],
    )
    # removing gcc removes its documentation: SLI501 counts it, SLI450 the rest
    assert found["SLI501"].bytes == 5300
    assert found["SLI450"].bytes == 70
    assert found["SLI450"].paths == ("/usr/share/doc/bash/changelog.gz",)


def test_findings_are_sorted_by_bytes_then_id() -> None:
    found = detect_all(
        context(
            [
                ("file", "var/lib/apt/lists/x", 100),
                ("file", "var/cache/apt/pkgcache.bin", 100),
                ("file", "root/.cache/pip/x", 5000),
            ]
        )
    )
    assert [(f.rule, f.bytes) for f in found] == [
        ("SLI306", 5000),
        ("SLI302", 100),
        ("SLI303", 100),
    ]


# ---- install scope -------------------------------------------------------------------------


def test_documentation_keeps_licences_and_sums_docs_man_and_info() -> None:
    found = findings(
        [
            ("file", "usr/share/doc/curl/copyright", 5000),
            ("file", "usr/share/doc/curl/changelog.Debian.gz", 100),
            ("file", "usr/share/doc/x/LICENSE.txt", 5000),
            ("file", "usr/share/man/man1/curl.1.gz", 20),
            ("file", "usr/share/info/dir", 3),
            ("file", "usr/local/share/man/man1/tool.1", 4),
        ]
    )["SLI450"]
    assert found.bytes == 127
    assert found.path_count == 4
    assert "docs 100 B, man pages 24 B, info pages 3 B" in found.message
    assert found.severity is Severity.INFO


def test_translations_keep_locale_alias() -> None:
    found = findings(
        [
            ("file", "usr/share/locale/locale.alias", 3000),
            ("file", "usr/share/locale/de/LC_MESSAGES/curl.mo", 40),
            ("file", "usr/share/i18n/locales/de_DE", 7),
        ]
    )["SLI451"]
    assert found.bytes == 47


def test_locale_alias_alone_is_no_finding() -> None:
    assert "SLI451" not in findings([("file", "usr/share/locale/locale.alias", 3000)])


def test_bytecode_with_its_source_is_counted_and_sourceless_bytecode_is_the_program() -> None:
    found = findings(
        [
            ("file", "usr/lib/python3/dist-packages/six.py", 10),
            ("file", "usr/lib/python3/dist-packages/__pycache__/six.cpython-311.pyc", 700),
            ("file", "opt/app/main.cpython-311.pyc", 500),
            ("file", "opt/app/__pycache__/other.cpython-311.pyc", 300),
            ("file", "opt/legacy/mod.py", 1),
            ("file", "opt/legacy/mod.pyc", 20),
        ]
    )["SLI452"]
    assert found.bytes == 720
    assert found.path_count == 2


# ---- build tools ---------------------------------------------------------------------------


def test_build_tools_without_package_metadata_are_found_at_known_places() -> None:
    found = findings(
        [
            ("file", "usr/bin/x86_64-linux-gnu-gcc-12", 1000),
            ("symlink", "usr/bin/gcc", "gcc-12"),
            ("symlink", "usr/bin/gcc-12", "x86_64-linux-gnu-gcc-12"),
            ("file", "usr/bin/make", 200),
            ("file", "usr/lib/gcc/x86_64-linux-gnu/12/cc1", 30000),
            ("file", "usr/local/go/bin/go", 9000),
            ("file", "usr/bin/git", 3000),
            ("file", "usr/lib/git-core/git-remote-http", 500),
            ("file", "usr/bin/gcc-config-notes.txt", 5),
            ("file", "usr/bin/python3", 7),
        ]
    )
    tools = found["SLI501"]
    assert tools.bytes == 40200
    assert re.search(r"Go, gcc, make outside any package", tools.message), tools.message
    assert found["SLI502"].bytes == 3500
    assert "git" in found["SLI502"].message


def test_build_tools_with_packages_remove_what_only_they_need() -> None:
    packages = [
        deb("gcc-12", ["usr/bin/gcc-12"], ["cpp-12", "libisl23", "libc6"]),
        deb("cpp-12", ["usr/lib/gcc/x86_64-linux-gnu/12/cc1"], ["libisl23", "libc6"]),
        deb("libisl23", ["usr/lib/x86_64-linux-gnu/libisl.so.23"], ["libc6"]),
        deb("libc6", ["usr/lib/x86_64-linux-gnu/libc.so.6"]),
        deb("libc6-dev", ["usr/include/stdio.h", "usr/lib/x86_64-linux-gnu/libc.a"], ["libc6"]),
        deb("curl", ["usr/bin/curl"], ["libc6"]),
    ]
    found = findings(
        [
            ("file", "usr/bin/gcc-12", 1000),
            ("file", "usr/lib/gcc/x86_64-linux-gnu/12/cc1", 20000),
            ("file", "usr/lib/x86_64-linux-gnu/libisl.so.23", 3000),
            ("file", "usr/lib/x86_64-linux-gnu/libc.so.6", 2000),
            ("file", "usr/include/stdio.h", 40),
            ("file", "usr/lib/x86_64-linux-gnu/libc.a", 5000),
            ("file", "usr/include/unowned.h", 6),
            ("file", "usr/local/lib/libfoo.a", 7),
            ("file", "usr/bin/curl", 100),
        ],
        packages=packages,
    )
    tools = found["SLI501"]
    # gcc-12, cpp-12, libc6-dev and libisl23 (needed by them only); not libc6 (curl needs it)
    assert tools.bytes == 1000 + 20000 + 3000 + 40 + 5000
    assert "packages cpp-12, gcc-12, libc6-dev:" in tools.message
    # what the tool packages did not bring is still reported on its own
    assert found["SLI550"].bytes == 6
    assert found["SLI551"].bytes == 7


def test_removal_keeps_a_tool_that_a_runtime_package_depends_on() -> None:
    packages = {
        p.name: p
        for p in [
            deb("npm", depends=["node-gyp", "nodejs"]),
            deb("node-gyp", depends=["make", "nodejs"]),
            deb("make"),
            deb("nodejs"),
            deb("gcc-12", depends=["libisl23"]),
            deb("libisl23"),
        ]
    }
    assert removal_set({"node-gyp", "make", "gcc-12"}, packages) == {"gcc-12", "libisl23"}


def test_removal_follows_virtual_packages_and_spares_protected_ones() -> None:
    gawk = Package(
        name="gawk",
        version="1",
        ecosystem="deb",
        purl="",
        location="",
        cataloger="dpkg",
        metadata={"provides": "awk"},
    )
    base = Package(
        name="base-files",
        version="1",
        ecosystem="deb",
        purl="",
        location="",
        cataloger="dpkg",
        metadata={"essential": "yes"},
    )
    packages = {
        "autoconf": deb("autoconf", depends=["awk", "base-files"]),
        "gawk": gawk,
        "base-files": base,
    }
    assert removal_set({"autoconf"}, packages) == {"autoconf", "gawk"}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("gcc-12", "toolchain"),
        ("g++", "toolchain"),
        ("build-essential", "toolchain"),
        ("libc6-dev", "headers"),
        ("python3.11-dev", "headers"),
        ("git", "vcs"),
        ("gcc-12-base", None),
        ("libgcc-s1", None),
        ("udev", None),
        ("python3-pip", None),
    ],
)
def test_tool_kind(name: str, kind: str | None) -> None:
    assert tool_kind(name) == kind


# ---- attack surface ------------------------------------------------------------------------


def test_shells_are_reported_once_through_the_usr_merge_link() -> None:
    found = findings(
        [
            ("symlink", "bin", "usr/bin"),
            ("file", "usr/bin/dash", 120),
            ("symlink", "usr/bin/sh", "dash"),
            ("file", "usr/bin/bash", 1200),
        ]
    )["SLI905"]
    assert found.bytes == 1320
    assert "/usr/bin/bash, /usr/bin/dash, /usr/bin/sh" in found.message
    assert "distroless" in found.message
    assert found.severity is Severity.INFO


def test_shell_bytes_come_from_its_package_when_known() -> None:
    found = findings(
        [("file", "usr/bin/bash", 1200), ("file", "etc/skel/.bashrc", 30)],
        packages=[deb("bash", ["usr/bin/bash", "etc/skel/.bashrc"])],
    )["SLI905"]
    assert found.bytes == 1230
    assert "(packages bash)" in found.message


def test_package_managers() -> None:
    found = findings(
        [
            ("file", "usr/bin/apt-get", 100),
            ("file", "usr/local/lib/python3.12/site-packages/pip/__init__.py", 50),
            ("symlink", "usr/local/bin/pip", "pip3"),
            ("file", "usr/local/bin/pip3", 5),
        ]
    )["SLI950"]
    assert found.bytes == 155
    assert "/usr/bin/apt-get, /usr/local/bin/pip, /usr/local/bin/pip3" in found.message


def test_no_shell_no_finding() -> None:
    assert "SLI905" not in findings([("file", "app/server", 1000)])


def test_setuid_and_setgid_files_are_listed() -> None:
    image = context(
        [
            ("file", "usr/bin/passwd", 100),
            ("file", "usr/bin/chage", 100),
            ("file", "usr/bin/plain", 100),
        ]
    )
    # the builders write mode 0644: set the bits on the records as a layer would carry them
    files = image.files.tree.files
    files["usr/bin/passwd"] = files["usr/bin/passwd"]._replace(mode=0o4755)
    files["usr/bin/chage"] = files["usr/bin/chage"]._replace(mode=0o2755)
    found = {f.rule: f for f in detect_all(image)}["SLI907"]
    assert found.paths == ("/usr/bin/chage", "/usr/bin/passwd")
    assert "/usr/bin/chage (setgid), /usr/bin/passwd (setuid)" in found.message
    assert found.bytes == 0 and found.severity is Severity.INFO


def test_a_setuid_file_no_package_owns_is_a_warning() -> None:
    image = context(
        [("file", "usr/bin/passwd", 100), ("file", "usr/local/bin/escalate", 100)],
        packages=[deb("passwd", ["usr/bin/passwd"])],
    )
    files = image.files.tree.files
    for path in ("usr/bin/passwd", "usr/local/bin/escalate"):
        files[path] = files[path]._replace(mode=0o4755)
    found = {f.rule: f for f in detect_all(image)}["SLI907"]
    assert found.severity is Severity.WARNING
    assert "not from any package: /usr/local/bin/escalate" in found.message


# ---- secrets -------------------------------------------------------------------------------


def test_private_keys_are_found_by_content() -> None:
    found = findings(
        [
            ("file", "root/.ssh/id_ed25519", pem("OPENSSH")),
            ("file", "root/.ssh/id_ed25519.pub", b"ssh-ed25519 AAAAC3Nza root@box\n"),
            ("file", "etc/ssl/private/ssl-cert-snakeoil.key", pem()),
            ("file", "srv/tls/bundle.pem", CERTIFICATE + pem("RSA")),
            ("file", "srv/tls/chain.pem", CERTIFICATE),
            ("file", "srv/tls/public.pem", b"-----BEGIN PUBLIC KEY-----\nMIIB\n"),
        ]
    )
    key = found["SLI050"]
    assert key.severity is Severity.ERROR and key.practice is Practice.SECURITY
    assert key.paths == (
        "/etc/ssl/private/ssl-cert-snakeoil.key",
        "/root/.ssh/id_ed25519",
        "/srv/tls/bundle.pem",
    )
    assert "OpenSSH private key" in key.message and "RSA private key" in key.message
    assert "MIIB" not in key.message
    assert key.bytes == 0
    assert "SLI051" not in found and "SLI052" not in found


def test_published_test_keys_and_packaged_keys_are_not_secrets() -> None:
    found = findings(
        [
            ("file", "usr/lib/python3.11/test/keycert.pem", pem()),
            ("file", "app/node_modules/x/test/fixtures/agent.key", pem("RSA")),
            ("file", "usr/share/x/demo.key", pem()),
        ],
        packages=[deb("x", ["usr/share/x/demo.key"])],
    )
    assert "SLI050" not in found


def test_a_key_deleted_in_a_later_layer_is_still_in_the_image() -> None:
    found = findings(
        [("file", "root/.ssh/id_rsa", pem("RSA"))],
        [("file", "srv/app", 1)],
        [("whiteout", "root/.ssh/id_rsa", None)],
    )
    hidden = found["SLI052"]
    assert hidden.severity is Severity.ERROR
    assert hidden.paths == ("/root/.ssh/id_rsa",)
    assert hidden.layers == (0,)
    assert "layer 0" in hidden.message and "does not remove it" in hidden.message
    assert "SLI050" not in found


def test_a_key_overwritten_by_a_placeholder_is_still_in_the_image() -> None:
    found = findings(
        [("file", "srv/tls/server.key", pem())],
        [("file", "srv/tls/server.key", b"placeholder\n")],
    )
    assert found["SLI052"].paths == ("/srv/tls/server.key",)


def test_a_key_still_in_the_final_image_is_reported_once() -> None:
    found = findings(
        [("file", "srv/tls/server.key", pem())],
        [("file", "srv/tls/server.key", pem("EC"))],
    )
    assert found["SLI050"].paths == ("/srv/tls/server.key",)
    assert found["SLI050"].layers == (1,)
    assert "SLI052" not in found


CREDENTIALS: list[tuple[str, bytes, str | None]] = [
    ("root/.npmrc", b"//registry.npmjs.org/:_authToken=abc123secret\n", "npm token"),
    ("root/.npmrc", b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", None),
    ("root/.npmrc", b"registry=https://registry.example.org/\n", None),
    ("root/.pypirc", b"[pypi]\nusername = __token__\npassword = pypi-secret\n", "PyPI password"),
    ("root/.netrc", b"machine example.org login me password s3cret\n", "netrc password"),
    ("root/.git-credentials", b"https://me:s3cret@github.com\n", "git credentials"),
    ("root/.docker/config.json", b'{"auths": {"r.io": {"auth": "bWU6czNjcmV0"}}}', "registry"),
    ("root/.docker/config.json", b'{"credsStore": "desktop"}', None),
    ("root/.aws/credentials", b"[default]\naws_secret_access_key = abcDEF\n", "AWS credentials"),
    ("srv/app/.env", b"DEBUG=1\nDB_PASSWORD='hunter2'\n", "secrets in .env"),
    ("srv/app/.env", b"DEBUG=1\nDB_PASSWORD=\nAPI_TOKEN=${TOKEN}\n", None),
    ("srv/app/.env.production", b"export STRIPE_SECRET=sk_test_x\n", "secrets in .env"),
    ("srv/app/.env.example", b"DB_PASSWORD=hunter2\n", None),
    ("srv/app/.env", b"AWS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n", "AWS access key"),
]


@pytest.mark.parametrize(("path", "content", "kind"), CREDENTIALS)
def test_credentials(path: str, content: bytes, kind: str | None) -> None:
    found = findings([("file", path, content)]).get("SLI051")
    if kind is None:
        assert found is None
        return
    assert found is not None
    assert found.paths == ("/" + path,)
    assert kind in found.message
    # the secret itself is never printed
    for secret in (b"abc123secret", b"pypi-secret", b"s3cret", b"abcDEF", b"hunter2", b"AKIA"):
        if secret in content:
            assert secret.decode() not in found.message


def test_a_credential_file_removed_later_is_reported_with_its_layer() -> None:
    found = findings(
        [("file", "root/.npmrc", b"//r/:_authToken=abc123secret\n")],
        [("whiteout", "root/.npmrc", None)],
    )
    assert found["SLI052"].paths == ("/root/.npmrc",)
    assert "npm token, layer 0" in found["SLI052"].message


def test_candidate_names_are_cheap_to_reject() -> None:
    assert not is_candidate("usr/lib/x86_64-linux-gnu/libc.so.6")
    assert is_candidate(".ssh/authorized_keys")


# ---- data storage --------------------------------------------------------------------------

SQLITE = b"SQLite format 3\x00" + bytes(100)


def test_database_files_by_name_or_sqlite_header() -> None:
    found = findings(
        [
            ("file", "srv/app/data/app.db", SQLITE),
            ("file", "srv/app/data/notes.db", b"not sqlite at all"),
            ("file", "srv/app/cache.sqlite3", 300),
            ("file", "usr/lib/python3/dist-packages/x/test.sqlite", 50),
            ("file", "var/lib/rpm/rpmdb.sqlite", 5000),
        ]
    )["SLI704"]
    assert found.bytes == len(SQLITE) + 300
    assert found.path_count == 2


def test_database_server_data_directories() -> None:
    found = findings(
        [
            ("file", "var/lib/postgresql/15/main/base/1/1259", 8192),
            ("file", "var/lib/postgresql/15/main/PG_VERSION", 3),
            ("file", "srv/redis/dump.rdb", 100),
        ]
    )["SLI703"]
    assert found.bytes == 8295
    assert found.severity is Severity.WARNING


def test_logs_need_to_reach_the_threshold_and_package_manager_logs_are_not_counted_twice() -> None:
    small = findings([("file", "var/log/app.log", 100)])
    assert "SLI750" not in small
    found = findings(
        [
            ("file", "var/log/nginx/access.log", 20_000),
            ("file", "srv/app/logs/debug.log", 5000),
            ("file", "usr/share/doc/x/sample.log", 5000),
            ("file", "var/log/dpkg.log", 9000),
        ]
    )
    assert found["SLI750"].bytes == 25_000
    assert found["SLI354"].bytes == 9000


def test_uploads() -> None:
    found = findings(
        [
            ("file", "var/www/html/wp-content/uploads/2024/cat.jpg", 700),
            ("dir", "media", None),
            ("file", "usr/share/icons/media/x.png", 5),
        ]
    )["SLI702"]
    assert found.bytes == 700


# ---- layer waste ---------------------------------------------------------------------------


def test_shadowed_copies_match_the_reclaimable_bytes() -> None:
    image = context(
        [("file", "srv/big.tar", 10_000), ("file", "etc/conf", 100), ("file", "tmp/x", 7)],
        [("whiteout", "srv/big.tar", None), ("file", "etc/conf", 120)],
    )
    found = {f.rule: f for f in detect_all(image)}["SLI602"]
    assert found.bytes == image.files.tree.reclaimable_bytes == 10_100
    assert found.paths == ("/srv/big.tar", "/etc/conf")
    assert found.layers == (0,)
    assert "deleted (1) or overwrote (1)" in found.message


def test_a_deleted_copy_still_reached_through_a_hard_link_is_not_waste() -> None:
    found = findings(
        [("file", "srv/a", 10_000), ("hardlink", "srv/b", "srv/a"), ("file", "srv/c", 5)],
        [("whiteout", "srv/a", None), ("whiteout", "srv/c", None)],
    )
    assert found["SLI602"].bytes == 5


def test_vcs_metadata() -> None:
    found = findings(
        [("file", "app/.git/objects/pack/p.pack", 9000), ("file", "app/.git/HEAD", 20)]
    )["SLI650"]
    assert found.bytes == 9020
    assert ".dockerignore" in found.message
