"""package-cache: package indexes, downloaded archives and build caches left in the final image.

Every detector here counts the regular files of one kind of cache: at fixed places (apt, apk,
dnf) or in directories found by name anywhere in the tree (`.cache/pip` in any home). Empty
files (apt's `lists/lock`) cost nothing and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

from slimline.findings import Practice, Severity
from slimline.image.bloat import Detector, amount
from slimline.image.bloat.context import BloatContext
from slimline.image.model import ImageFinding

MAX_DIRS_SHOWN = 3


def parent_name(path: str) -> str:
    parent = path.rpartition("/")[0]
    return parent[parent.rfind("/") + 1 :]


def outermost(directories: Iterable[str]) -> list[str]:
    """The directories that no other one of them contains, in name order."""
    kept: list[str] = []
    for directory in sorted(set(directories)):
        if not kept or not directory.startswith(kept[-1] + "/"):
            kept.append(directory)
    return kept


def shown(directories: list[str]) -> str:
    names = ", ".join("/" + d for d in directories[:MAX_DIRS_SHOWN])
    more = len(directories) - MAX_DIRS_SHOWN
    return names + (f" and {more} more" if more > 0 else "")


class CacheDetector(Detector):
    """Base of the cache detectors: a cache is a set of directories whose files can all go."""

    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    # fixed directories, root-relative
    roots: ClassVar[tuple[str, ...]] = ()
    # (parent's base name, base name) of cache directories found anywhere; "" matches any parent
    named_dirs: ClassVar[tuple[tuple[str, str], ...]] = ()
    # what it is and what to do, for the message
    what: ClassVar[str] = ""
    fix: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        if cls.named_dirs and "dir_names" not in cls.__dict__:
            cls.dir_names = frozenset(name for _, name in cls.named_dirs)
        super().__init_subclass__(**kwargs)

    def cache_dirs(self, context: BloatContext) -> list[str]:
        found = [root for root in self.roots if context.record(root) is not None]
        for parent, name in self.named_dirs:
            found.extend(
                d for d in context.index.dirs(name) if not parent or parent_name(d) == parent
            )
        return outermost(found)

    def cache_files(self, context: BloatContext, directories: list[str]) -> Iterator[str]:
        for directory in directories:
            yield from context.files_under(directory)

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        directories = self.cache_dirs(context)
        paths = context.take(self.cache_files(context, directories))
        measured = context.measure(paths)
        if not measured.bytes:
            return
        yield self.sized(
            paths,
            measured,
            f"{self.what}: {amount(measured, paths)} {self.where(directories)}; {self.fix}",
        )

    def where(self, directories: list[str]) -> str:
        return f"under {shown(directories)}" if directories else "in the image"


class ApkCache(CacheDetector):
    """apk's package index and downloaded packages are in the final image.

    Why: `apk update` (and `apk add` after it) keeps APKINDEX files, and with a configured
    cache the downloaded .apk packages, in /var/cache/apk (/etc/apk/cache links there). A
    running container never needs them.

    Counts: the regular files below /var/cache/apk and /etc/apk/cache.

    Fix: `apk add --no-cache ...` (no `apk update` needed), or `rm -rf /var/cache/apk/*` in the
    same RUN.
    """

    id = "SLI301"
    name = "apk-cache"
    title = "apk cache in the image"
    refs = ("SL301", "DL3019", "DKL-DI-0004")
    roots = ("var/cache/apk", "etc/apk/cache")
    what = "apk's package index and cache"
    fix = "use `apk add --no-cache` (or `rm -rf /var/cache/apk/*` in the same RUN)"


class AptLists(CacheDetector):
    """apt's package lists are in the final image.

    Why: the lists that `apt-get update` downloads are only needed to resolve an install
    (about 20 MB for Debian 12, more with more sources); in the image they are dead weight and
    stale by the next build. `apt-get clean` does not remove them.

    Counts: the non-empty regular files below /var/lib/apt/lists (not the empty `lock` and
    `partial/`, which apt itself keeps).

    Fix: end the RUN that runs `apt-get update` with `rm -rf /var/lib/apt/lists/*`: removing
    them in a later RUN leaves them in the earlier layer.
    """

    id = "SLI302"
    name = "apt-lists"
    title = "apt package lists in the image"
    refs = ("SL302", "DL3009", "DKL-DI-0005")
    roots = ("var/lib/apt/lists",)
    what = "apt package lists"
    fix = "end the RUN that runs `apt-get update` with `rm -rf /var/lib/apt/lists/*`"


class AptArchives(CacheDetector):
    """apt's downloaded .deb archives and binary caches are in the final image.

    Why: apt keeps every package it downloads in /var/cache/apt/archives and its parsed lists
    in /var/cache/apt/pkgcache.bin and srcpkgcache.bin (tens of MB). The official Debian and
    Ubuntu images delete them after every install (/etc/apt/apt.conf.d/docker-clean); base
    images without that configuration, or builds that remove it, keep them.

    Counts: the regular files below /var/cache/apt.

    Fix: `apt-get clean` at the end of the RUN that installs, or a cache mount on
    /var/cache/apt (`RUN --mount=type=cache,target=/var/cache/apt`).
    """

    id = "SLI303"
    name = "apt-archives"
    title = "apt archives and caches in the image"
    refs = ("SL303", "DKL-DI-0005")
    roots = ("var/cache/apt",)
    what = "apt's downloaded packages and binary caches"
    fix = (
        "run `apt-get clean` at the end of the RUN that installs, or mount /var/cache/apt as "
        "a cache"
    )


class DnfYumCache(CacheDetector):
    """dnf or yum repository metadata and packages are in the final image.

    Why: dnf, yum and microdnf download repository metadata (and with `keepcache`, packages)
    into /var/cache/dnf or /var/cache/yum: often 100 MB or more, never needed at run time.

    Counts: the regular files below /var/cache/dnf, /var/cache/yum and /var/cache/libdnf5.

    Fix: end the RUN that installs with `dnf clean all` (`yum clean all`) and
    `rm -rf /var/cache/dnf /var/cache/yum`.
    """

    id = "SLI304"
    name = "dnf-yum-cache"
    title = "dnf/yum cache in the image"
    refs = ("SL304", "DL3032", "DL3040")
    roots = ("var/cache/dnf", "var/cache/yum", "var/cache/libdnf5")
    what = "dnf/yum repository metadata and packages"
    fix = "end the RUN that installs with `dnf clean all` (or `yum clean all`)"


class ZypperCache(CacheDetector):
    """zypper's repository metadata is in the final image.

    Counts: the regular files below /var/cache/zypp.

    Fix: `zypper clean --all` at the end of the RUN that installs.
    """

    id = "SLI305"
    name = "zypper-cache"
    title = "zypper cache in the image"
    refs = ("SL305", "DL3036")
    roots = ("var/cache/zypp",)
    what = "zypper repository metadata"
    fix = "end the RUN that installs with `zypper clean --all`"


class PipCache(CacheDetector):
    """pip's download and wheel cache is in the final image.

    Why: pip keeps every wheel it downloads or builds in ~/.cache/pip, next to the installed
    packages that are all the image needs: the cache roughly doubles what `pip install` adds.

    Counts: the regular files below every `.cache/pip` directory (/root/.cache/pip,
    /home/*/.cache/pip, and any other home).

    Fix: `pip install --no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`), or a cache mount:
    `RUN --mount=type=cache,target=/root/.cache/pip pip install ...`.
    """

    id = "SLI306"
    name = "pip-cache"
    title = "pip cache in the image"
    refs = ("SL306", "DL3042")
    named_dirs = ((".cache", "pip"),)
    what = "pip's download cache"
    fix = "use `pip install --no-cache-dir` (or mount ~/.cache/pip as a cache)"


class NpmCache(CacheDetector):
    """npm's package cache is in the final image.

    Why: npm keeps a compressed copy of every package it fetches in ~/.npm/_cacache (and its
    logs in ~/.npm/_logs); node_modules is all the application uses.

    Counts: the regular files below every `.npm` directory.

    Fix: `npm cache clean --force` at the end of the RUN that installs, or a cache mount on
    ~/.npm.
    """

    id = "SLI307"
    name = "npm-cache"
    title = "npm cache in the image"
    refs = ("SL307",)
    named_dirs = (("", ".npm"),)
    what = "npm's package cache"
    fix = "end the RUN that installs with `npm cache clean --force` (or mount ~/.npm as a cache)"


class ComposerCache(CacheDetector):
    """Composer's download cache is in the final image.

    Counts: the regular files below `.composer/cache` and `.cache/composer` directories.

    Fix: `composer install --no-cache`, or `composer clear-cache` in the same RUN.
    """

    id = "SLI308"
    name = "composer-cache"
    title = "Composer cache in the image"
    refs = ("SL308",)
    named_dirs = ((".composer", "cache"), (".cache", "composer"))
    what = "Composer's download cache"
    fix = "use `composer install --no-cache` (or `composer clear-cache` in the same RUN)"


class CondaPackages(CacheDetector):
    """conda's package archives are in the final image.

    Why: conda (mamba, micromamba) keeps every downloaded package archive and its extracted
    copy in the `pkgs` directory of the installation; the environments hold what runs.

    Counts: the regular files below a `pkgs` directory that sits next to a `conda-meta`
    directory (the root of a conda installation).

    Fix: `conda clean --all --yes` at the end of the RUN that installs.
    """

    id = "SLI309"
    name = "conda-packages"
    title = "conda package cache in the image"
    refs = ("SL309",)
    dir_names = frozenset({"pkgs"})
    what = "conda's package cache"
    fix = "end the RUN that installs with `conda clean --all --yes`"

    def cache_dirs(self, context: BloatContext) -> list[str]:
        found = []
        for directory in context.index.dirs("pkgs"):
            parent = directory.rpartition("/")[0]
            if context.record(f"{parent}/conda-meta" if parent else "conda-meta") is not None:
                found.append(directory)
        return outermost(found)


class GoCache(CacheDetector):
    """Go's build cache or module cache is in the final image.

    Why: `go build` fills the build cache (~/.cache/go-build, GOCACHE) and `go mod download`
    the module cache (GOPATH/pkg/mod, /go/pkg/mod in the official images): hundreds of MB that
    only a build needs.

    Counts: the regular files below `.cache/go-build` directories and below every `pkg/mod`
    directory that holds a `cache` directory (the module cache).

    Fix: build in a separate stage and copy the binary into the final one; or mount the caches
    (`RUN --mount=type=cache,target=/root/.cache/go-build`), or `go clean -cache -modcache`.
    """

    id = "SLI310"
    name = "go-cache"
    title = "Go build or module cache in the image"
    refs = ("SL310",)
    named_dirs = ((".cache", "go-build"),)
    dir_names = frozenset({"go-build", "mod"})
    what = "Go's build and module caches"
    fix = "build in a separate stage and copy the binary (or `go clean -cache -modcache`)"

    def cache_dirs(self, context: BloatContext) -> list[str]:
        found = super().cache_dirs(context)
        for directory in context.index.dirs("mod"):
            if parent_name(directory) == "pkg" and context.record(f"{directory}/cache"):
                found.append(directory)
        return outermost(found)


class YarnCache(CacheDetector):
    """Yarn's package cache is in the final image.

    Counts: the regular files below `.cache/yarn` directories (classic Yarn, including
    /usr/local/share/.cache/yarn of the official node images) and `.yarn/berry` (the global
    folder of Yarn 2 and later). A project's own `.yarn/cache` (zero-installs) is left alone.

    Fix: `yarn cache clean` at the end of the RUN that installs, or a cache mount.
    """

    id = "SLI350"
    name = "yarn-cache"
    title = "Yarn cache in the image"
    refs = ("SL307", "DL3060")
    named_dirs = ((".cache", "yarn"), (".yarn", "berry"))
    what = "Yarn's package cache"
    fix = "end the RUN that installs with `yarn cache clean` (or mount the cache)"


class MavenRepository(CacheDetector):
    """Maven's local repository is in the final image.

    Why: ~/.m2/repository holds every dependency and plugin that a build downloaded; the
    application needs only its packaged artifact (and the dependencies packaged with it).

    Counts: the regular files below `.m2/repository` directories.

    Fix: build in a separate stage and copy the artifact; mount ~/.m2 as a cache for speed.
    """

    id = "SLI351"
    name = "maven-repository"
    title = "Maven repository in the image"
    named_dirs = ((".m2", "repository"),)
    what = "Maven's local repository"
    fix = "build in a separate stage and copy only the artifact into the final image"


class GradleCache(CacheDetector):
    """Gradle's caches and wrapper distributions are in the final image.

    Counts: the regular files below `.gradle/caches` and `.gradle/wrapper` directories.

    Fix: build in a separate stage and copy the artifact; mount ~/.gradle as a cache for speed.
    """

    id = "SLI352"
    name = "gradle-cache"
    title = "Gradle caches in the image"
    named_dirs = ((".gradle", "caches"), (".gradle", "wrapper"))
    what = "Gradle's caches and wrapper distributions"
    fix = "build in a separate stage and copy only the artifact into the final image"


class GemCache(CacheDetector):
    """RubyGems' cache of downloaded .gem archives is in the final image.

    Why: `gem install` and `bundle install` keep each downloaded .gem archive in the `cache`
    directory of the gem home (/usr/local/bundle/cache, /var/lib/gems/*/cache...) next to the
    unpacked gem that is actually loaded.

    Counts: .gem files directly in a directory named `cache`, and ~/.gem/specs.

    Fix: `rm -rf "$GEM_HOME"/cache/*.gem` (or `bundle install` then
    `rm -rf /usr/local/bundle/cache`) in the same RUN.
    """

    id = "SLI353"
    name = "gem-cache"
    title = "RubyGems cache in the image"
    named_dirs = ((".gem", "specs"),)
    file_suffixes = frozenset({".gem"})
    what = "RubyGems' cache of downloaded gems"
    fix = "delete the gem home's cache/*.gem in the RUN that installs"

    def cache_files(self, context: BloatContext, directories: list[str]) -> Iterator[str]:
        yield from super().cache_files(context, directories)
        for path in context.index.files_with_suffix(".gem"):
            if parent_name(path) == "cache":
                yield path


class PackageManagerLogs(CacheDetector):
    """Package-manager logs and database backups are in the final image.

    Why: dpkg, apt, dnf, yum and zypper log every install (/var/log/dpkg.log, /var/log/apt,
    /var/log/dnf*.log) and dpkg and debconf keep `-old` backups of their databases. In an
    image they record the build, not anything the container does.

    Counts: /var/log/apt, /var/log/dpkg.log, alternatives.log, dnf, yum, zypper and apk logs,
    /var/lib/dpkg/*-old and /var/cache/debconf/*-old. Other logs are SLI750's.

    Fix: delete them at the end of the RUN that installs
    (`rm -rf /var/log/apt /var/log/dpkg.log /var/cache/debconf/*-old ...`).
    """

    id = "SLI354"
    name = "package-manager-logs"
    title = "package-manager logs and backups in the image"
    severity = Severity.INFO
    roots = ("var/log/apt",)
    _LOGS = (
        "var/log/dpkg.log",
        "var/log/alternatives.log",
        "var/log/dnf.log",
        "var/log/dnf.librepo.log",
        "var/log/dnf.rpm.log",
        "var/log/hawkey.log",
        "var/log/yum.log",
        "var/log/zypper.log",
        "var/log/apk.log",
    )
    _BACKUP_DIRS = ("var/lib/dpkg", "var/cache/debconf")
    what = "package-manager logs and backups"
    fix = "delete them at the end of the RUN that installs"

    def where(self, directories: list[str]) -> str:
        return "in /var/log and the package databases' directories"

    def cache_files(self, context: BloatContext, directories: list[str]) -> Iterator[str]:
        yield from super().cache_files(context, directories)
        yield from (path for path in self._LOGS if context.is_regular(path))
        for directory in self._BACKUP_DIRS:
            for path in context.files.children(directory):
                if path.endswith("-old") and context.is_regular(path):
                    yield path
