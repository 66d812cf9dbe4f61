"""Files a slim image keeps although no traced run touched them: what the C library, the
resolver and TLS reach for only in situations the probes may not have produced (a user lookup, a
DNS name, a certificate check, a time zone, a character-set conversion).

Each entry is small; together they are the difference between an image that passed the probes
and one that keeps working when production asks something the probes did not.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Collection, Iterable

from slimline.image.files import ImageFiles
from slimline.image.sources.base import ImageConfig

# The identity and name-service files that glibc and musl read on demand.
ETC_FILES = (
    "etc/passwd",
    "etc/group",
    "etc/nsswitch.conf",
    "etc/hosts",
    "etc/host.conf",
    "etc/resolv.conf",
    "etc/gai.conf",
    "etc/services",
    "etc/protocols",
    "etc/localtime",
    "etc/timezone",
    # scanners identify the distribution from these; they cost a few hundred bytes
    "etc/os-release",
    "usr/lib/os-release",
    "etc/debian_version",
    "etc/alpine-release",
)
# Kept when something kept can speak TLS (see `speaks_tls`): a program that cannot load a TLS
# library has no use for them.
CA_BUNDLES = (
    "etc/ssl/certs/ca-certificates.crt",
    "etc/ssl/cert.pem",
    "etc/pki/tls/certs/ca-bundle.crt",
    "etc/ssl/openssl.cnf",
)
# What TLS code carries: OpenSSL's OPENSSLDIR (/usr/lib/ssl on Debian, /etc/ssl elsewhere), Go's
# and GnuTLS's certificate paths, NSS's and Node's bundled OpenSSL environment variable.
TLS_MARKERS = (
    b"/usr/lib/ssl",
    b"/etc/ssl",
    b"/etc/pki/tls",
    b"ca-certificates.crt",
    b"SSL_CERT_FILE",
)
TLS_PATHS = ("etc/ssl/", "usr/lib/ssl/", "etc/pki/", "usr/share/ca-certificates/")
DIRECTORIES = ("tmp", "var/tmp", "run")
ZONEINFO = "usr/share/zoneinfo"
LIBRARY_DIRS = ("lib", "lib64", "usr/lib", "usr/lib64")
# The loader, the unwinder that pthread_cancel and C++ exceptions load on demand, the
# resolver, and the NSS modules for the "files" and "dns" sources.
# Versioned names only: the bare `libresolv.so` is a development link (libc6-dev).
LIBRARY_PATTERNS = (
    "ld-linux*.so.*",
    "ld-musl-*.so.*",
    "libgcc_s.so.*",
    "libresolv.so.*",
    "libnss_files.so.*",
    "libnss_dns.so.*",
)
GCONV_CONFIG = ("gconv-modules", "gconv-modules.cache")


def speaks_tls(touched: Iterable[str], code: Iterable[bytes]) -> bool:
    """Whether the kept programs can make TLS connections: the runs touched TLS configuration,
    or a kept executable or library (`code`, their bytes) holds a TLS library's paths."""
    if any(f"{path}/".startswith(TLS_PATHS) or path.startswith(TLS_PATHS) for path in touched):
        return True
    return any(marker in data for data in code for marker in TLS_MARKERS)


def safety_set(
    files: ImageFiles, config: ImageConfig, touched: Collection[str], *, tls: bool = True
) -> set[str]:
    """Paths (links not followed; the caller keeps their link chains) to keep in any traced
    mode. `touched` is what the runs touched, resolved: gconv is kept only when it was used,
    and the CA bundles only with `tls`."""
    keep: set[str] = set()
    for path in (*ETC_FILES, *(CA_BUNDLES if tls else ()), *DIRECTORIES):
        if path in files:
            keep.add(path)
    keep.update(_zone_files(files, config))
    library_dirs = _library_dirs(files)
    for directory in library_dirs:
        for child in files.children(directory):
            name = child.rpartition("/")[2]
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in LIBRARY_PATTERNS):
                keep.add(child)
    keep.update(_nss_modules(files, library_dirs))
    keep.update(_gconv(files, touched))
    if config.workdir:
        workdir = posixpath.normpath(config.workdir).strip("/")
        if workdir and workdir in files:
            keep.add(workdir)
    return keep


def _library_dirs(files: ImageFiles) -> list[str]:
    """The library directories and their multiarch subdirectories, each real place once."""
    found: list[str] = []
    seen: set[str] = set()
    for base in LIBRARY_DIRS:
        candidates = [base, *(c for c in files.children(base) if "-linux-" in c)]
        for candidate in candidates:
            real = files.resolve(candidate)
            if real is None or real in seen:
                continue
            seen.add(real)
            found.append(real)
    return found


def _zone_files(files: ImageFiles, config: ImageConfig) -> set[str]:
    """UTC, the zone /etc/localtime names, and the zone of a TZ variable."""
    zones = {"UTC", "Etc/UTC"}
    for variable in config.env:
        name, _, value = variable.partition("=")
        if name == "TZ" and value:
            zones.add(value.lstrip(":"))
    keep: set[str] = set()
    for zone in zones:
        clean = posixpath.normpath(zone).strip("/")
        if clean.startswith(".."):
            continue
        path = clean if clean.startswith(ZONEINFO) else f"{ZONEINFO}/{clean}"
        if path in files:
            keep.add(path)
    return keep


def _nss_modules(files: ImageFiles, library_dirs: Iterable[str]) -> set[str]:
    """The libnss_<source> libraries for every source nsswitch.conf names."""
    text = files.read_text("etc/nsswitch.conf") or ""
    sources: set[str] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        if ":" not in line:
            continue
        for word in line.split(":", 1)[1].split():
            if not word.startswith("["):
                sources.add(word)
    keep: set[str] = set()
    for directory in library_dirs:
        for child in files.children(directory):
            name = child.rpartition("/")[2]
            if any(name.startswith(f"libnss_{source}.so.") for source in sources):
                keep.add(child)
    return keep


def _gconv(files: ImageFiles, touched: Collection[str]) -> set[str]:
    used = {path.rpartition("/")[0] for path in touched if "/gconv/" in f"/{path}"}
    keep: set[str] = set()
    for directory in used:
        if not directory.endswith("gconv"):
            continue
        for name in GCONV_CONFIG:
            if f"{directory}/{name}" in files:
                keep.add(f"{directory}/{name}")
        conf_dir = f"{directory}/gconv-modules.d"
        if conf_dir in files:
            keep.add(conf_dir)
            keep.update(files.children(conf_dir))
    return keep
