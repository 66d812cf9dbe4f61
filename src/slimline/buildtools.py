"""Which distribution packages are build tools: compilers, build systems, language toolchains,
development headers and version control, under their Debian/Ubuntu, Alpine, Fedora/RHEL and
SUSE names. The Dockerfile rules (SL5xx) and the image detectors (SLI5xx) share this list.

Kept free of imports beyond `re`: `slimline check` loads it on every run.
"""

from __future__ import annotations

import re

# Versioned names (gcc-12, clang-15, openjdk-17-jdk...) are matched by TOOLCHAIN_RE.
TOOLCHAIN = frozenset({
    "gcc", "g++", "cpp", "c++", "gcc-c++", "gcc-gfortran", "gfortran", "clang", "clang++",
    "llvm", "lld", "build-essential", "build-base", "alpine-sdk", "binutils", "make",
    "cmake", "cmake3", "ninja", "ninja-build", "samurai", "meson", "scons", "bazel",
    "autoconf", "automake", "libtool", "libtool-bin", "pkg-config", "pkgconf", "pkgconfig",
    "bison", "flex", "m4", "swig", "nasm", "yasm", "gperf", "ccache", "dpkg-dev",
    "golang", "golang-go", "golang-bin", "go", "rust", "rustc", "cargo", "rustup",
    "default-jdk", "default-jdk-headless", "maven", "gradle", "ant", "node-gyp",
    "kernel-headers", "musl-dev", "fortify-headers", "devel_basis",
})  # fmt: skip
TOOLCHAIN_RE = re.compile(
    r"(?:gcc|g\+\+|cpp|gfortran|clang|clang\+\+|llvm|lld)-\d+(?:\.\d+)*"
    r"|gcc\d+(?:-c\+\+)?"
    r"|golang-\d+(?:\.\d+)*(?:-go|-src)?"
    r"|openjdk-?\d+(?:-jdk(?:-headless)?)?"
    r"|temurin-\d+-jdk|dotnet-sdk-[\d.]+|linux-headers(?:-.+)?|linux-libc-dev"
    r"|java-[\d.]+-openjdk-devel|java-[\d.]+-openjdk-jmods"
)
# Development files (headers, static libraries, pkg-config files): libpq-dev, python3-devel,
# postgresql-server-dev-15...
HEADERS_RE = re.compile(r".+-(?:dev|devel)(?:-\d+(?:\.\d+)*)?")
VCS = frozenset({
    "git", "git-core", "git-all", "git-lfs", "subversion", "mercurial", "bzr", "brz",
    "breezy", "cvs", "fossil",
})  # fmt: skip


def tool_kind(name: str) -> str | None:
    """`toolchain`, `headers` or `vcs` for a build-tool package name, else None."""
    if name in TOOLCHAIN or TOOLCHAIN_RE.fullmatch(name):
        return "toolchain"
    if name in VCS:
        return "vcs"
    if HEADERS_RE.fullmatch(name):
        return "headers"
    return None
