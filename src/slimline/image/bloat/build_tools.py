"""build-tools: compilers, build systems, version control, headers and static libraries in the
final image: what a build needs and a running service does not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from slimline.buildtools import tool_kind
from slimline.findings import Practice, Severity
from slimline.image.bloat import Detector, amount, human_bytes, listing
from slimline.image.bloat.context import BloatContext
from slimline.image.bloat.removal import removal_set
from slimline.image.model import ImageFinding

_BIN_DIRS = ("usr/bin", "usr/local/bin", "bin", "usr/sbin", "usr/local/sbin", "sbin")


class ToolDetector(Detector):
    """Base of the build-tool detectors: distribution packages of some kinds, plus known
    places for tools installed without a package manager (or in images without package
    metadata)."""

    practice = Practice.BUILD_TOOLS
    severity = Severity.WARNING
    kinds: ClassVar[frozenset[str]] = frozenset()  # removal.tool_kind values
    # (glob pattern, tool name) of directories that belong to a tool
    tool_dirs: ClassVar[tuple[tuple[str, str], ...]] = ()
    # program names in bin directories: a named group `tool` is the tool's name
    binaries: ClassVar[re.Pattern[str] | None] = None
    what: ClassVar[str] = ""
    fix: ClassVar[str] = ""

    def _packages(self, context: BloatContext) -> tuple[list[str], list[str]]:
        """The tool packages (by name) and the files that removing them removes."""
        available = context.packages_by_name
        roots = {name for name in available if tool_kind(name) in self.kinds}
        if not roots:
            return [], []
        removed = removal_set(roots, available)
        paths = [
            path for name in sorted(removed) for path in context.package_files(available[name])
        ]
        # the biggest first: the message can name only a few
        named = sorted(roots & removed, key=lambda name: (-available[name].size_bytes, name))
        return named, paths

    def _unpackaged(self, context: BloatContext) -> tuple[list[str], list[str]]:
        """Tools found at known places that no package owns."""
        owned = context.owned
        tools: set[str] = set()
        paths: list[str] = []
        for pattern, tool in self.tool_dirs:
            for directory in context.glob(pattern):
                found = [p for p in context.files_under(directory) if p not in owned]
                if found:
                    tools.add(tool)
                    paths.extend(found)
        if self.binaries is not None:
            for directory in _BIN_DIRS:
                for path in context.files.children(directory):
                    match = self.binaries.fullmatch(path[path.rfind("/") + 1 :])
                    if match and path not in owned and context.is_regular(path):
                        tools.add(match.group("tool"))
                        paths.append(path)
        return sorted(tools), paths

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        packages, packaged = self._packages(context)
        tools, unpackaged = self._unpackaged(context)
        paths = context.take([*packaged, *unpackaged])
        measured = context.measure(paths)
        if not measured.bytes:
            return
        found = []
        if packages:
            found.append(f"packages {listing(packages)}")
        if tools:
            found.append(f"{listing(tools)} outside any package")
        yield self.sized(
            paths,
            measured,
            f"{self.what}: {'; '.join(found)}: {human_bytes(measured.bytes)} in {len(paths)} "
            f"files (with what only they need); {self.fix}",
        )


_TOOLCHAIN_BINARIES = re.compile(
    r"(?:[a-z0-9_]+-(?:linux|pc|alpine)-[a-z0-9_-]*?-)?"
    r"(?P<tool>gcc|g\+\+|c\+\+|cpp|gfortran|clang|clang\+\+|lld|ld|ld\.bfd|ld\.gold|as|"
    r"make|cmake|ninja|meson|autoconf|automake|libtool|pkg-config|rustc|cargo|go|javac|"
    r"bison|flex|swig|nasm|yasm)(?:-\d+(?:\.\d+)*)?"
)


class BuildToolchain(ToolDetector):
    """Compilers, build systems or development packages are in the final image.

    Why: gcc and g++ with their libraries, make, cmake, autotools, language toolchains (Go,
    Rust, a JDK) and `-dev` packages are needed to build, not to run: hundreds of MB, and a
    compiler in a compromised container lets an attacker build whatever they like.

    Counts: with package metadata, the distribution packages that are compilers, build
    systems, toolchains or development files (gcc-12, cpp-12, g++-12, make, libc6-dev,
    build-essential, any `*-dev`), plus the packages that only they keep installed (what
    `apt-get purge ... && apt-get autoremove` would remove: binutils, libisl23...), their
    files counted once. A tool package that a runtime package depends on stays. Without
    metadata, and for tools installed outside the package manager: compilers and build tools
    in the bin directories, and toolchain directories (/usr/lib/gcc, /usr/local/go,
    /usr/local/cargo, /usr/local/rustup, /usr/lib/llvm-*, /usr/share/cmake-*, JDK jmods).

    Fix: build in a separate stage and copy only the results into the final image
    (multi-stage build); or install the build dependencies, build, and purge them with
    `apt-get purge --auto-remove` (`apk del`) in one RUN.
    """

    id = "SLI501"
    name = "build-toolchain"
    title = "build tools in the image"
    refs = ("SL501",)
    kinds = frozenset({"toolchain", "headers"})
    tool_dirs = (
        ("usr/lib/gcc", "gcc"),
        ("usr/libexec/gcc", "gcc"),
        ("usr/local/lib/gcc", "gcc"),
        ("usr/local/libexec/gcc", "gcc"),
        ("usr/lib/llvm-*", "LLVM"),
        ("usr/local/go", "Go"),
        ("usr/lib/go-*", "Go"),
        ("usr/local/cargo", "Rust"),
        ("usr/local/rustup", "Rust"),
        ("root/.cargo", "Rust"),
        ("root/.rustup", "Rust"),
        ("usr/share/cmake-*", "cmake"),
        ("usr/share/autoconf", "autoconf"),
        ("usr/share/automake-*", "automake"),
        ("usr/lib/jvm/*/jmods", "JDK"),
    )
    binaries = _TOOLCHAIN_BINARIES
    what = "build tools"
    fix = "build in a separate stage and copy only the results into the final image"


class VersionControl(ToolDetector):
    """A version-control client (git, subversion, mercurial...) is in the final image.

    Why: git and what it pulls in (perl, curl libraries) add tens of MB that only fetching
    sources needs, and a VCS client is a handy download tool for an attacker.

    Counts: the VCS packages (git, git-lfs, subversion, mercurial, bzr, cvs, fossil) and what
    only they keep installed; without package metadata, the programs in the bin directories
    and /usr/lib/git-core, /usr/libexec/git-core, /usr/share/git-core.

    Fix: fetch sources in a build stage (or with `ADD <git url>`) and copy what you need.
    """

    id = "SLI502"
    name = "version-control"
    title = "version control in the image"
    refs = ("SL502",)
    kinds = frozenset({"vcs"})
    tool_dirs = (
        ("usr/lib/git-core", "git"),
        ("usr/libexec/git-core", "git"),
        ("usr/local/libexec/git-core", "git"),
        ("usr/share/git-core", "git"),
    )
    binaries = re.compile(r"(?P<tool>git|git-lfs|svn|hg|bzr|brz|cvs|fossil)")
    what = "version control"
    fix = "fetch sources in a build stage and copy only what the application needs"


class Headers(Detector):
    """C and C++ headers are in the final image.

    Why: headers are read by compilers only. They arrive with `-dev` packages or with a
    source build's `make install` into /usr/local.

    Counts: the regular files below /usr/include and /usr/local/include that no earlier
    finding counted (the headers of `-dev` packages go to SLI501).

    Fix: build in a separate stage; or delete /usr/local/include at the end of the RUN that
    builds and installs.
    """

    id = "SLI550"
    name = "headers"
    practice = Practice.BUILD_TOOLS
    severity = Severity.INFO
    title = "C headers in the image"
    _ROOTS = ("usr/include", "usr/local/include")

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        paths = context.take(path for root in self._ROOTS for path in context.files_under(root))
        measured = context.measure(paths)
        if not measured.bytes:
            return
        yield self.sized(
            paths,
            measured,
            f"C/C++ headers: {amount(measured, paths)}; only compilers "
            "read them: build in a separate stage, or delete them in the RUN that installs them",
        )


class StaticLibraries(Detector):
    """Static libraries (.a) are in the final image.

    Why: a static library is copied into programs when they are linked; a running program
    never opens one. Language runtimes built from source often leave large ones behind
    (libpython3.X.a is tens of MB).

    Counts: every regular `*.a` file that no earlier finding counted (the static libraries of
    `-dev` packages go to SLI501).

    Fix: build in a separate stage; configure with `--disable-static`, or delete them in the
    RUN that builds.
    """

    id = "SLI551"
    name = "static-libraries"
    practice = Practice.BUILD_TOOLS
    severity = Severity.INFO
    title = "static libraries in the image"
    file_suffixes = frozenset({".a"})

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        paths = context.take(context.index.files_with_suffix(".a"))
        measured = context.measure(paths)
        if not measured.bytes:
            return
        yield self.sized(
            paths,
            measured,
            f"static libraries: {amount(measured, paths, '.a file')}; only "
            "the linker reads them: build in a separate stage, or delete them in the RUN that "
            "builds",
        )
