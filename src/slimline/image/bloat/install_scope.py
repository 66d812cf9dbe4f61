"""install-scope: files installed with the packages that a container never reads: documentation,
translations, and Python bytecode that Python can regenerate."""

from __future__ import annotations

from collections.abc import Iterator

from slimline.findings import Practice, Severity
from slimline.image.bloat import Detector, amount, human_bytes
from slimline.image.bloat.context import BloatContext
from slimline.image.model import ImageFinding

# licence texts stay: distributing the software means distributing them
_LICENCE_PREFIXES = ("copyright", "license", "licence", "copying")


def _is_licence(path: str) -> bool:
    return path[path.rfind("/") + 1 :].lower().startswith(_LICENCE_PREFIXES)


class Documentation(Detector):
    """Documentation, man pages and info pages are in the final image.

    Why: nobody reads /usr/share/doc or runs `man` inside a container; on a Debian image they
    are typically 10 to 50 MB, more with every package installed.

    Counts: the regular files below /usr/share/doc, /usr/share/man, /usr/share/info and the
    same directories under /usr/local, except licence files (`copyright`, `LICENSE*`,
    `COPYING*`), which distributing the software requires. Files of build-tool packages are
    counted by SLI501 instead.

    Fix: on Debian and Ubuntu, before installing, add a dpkg configuration that leaves them out
    (`/etc/dpkg/dpkg.cfg.d/excludes` with `path-exclude=/usr/share/doc/*`,
    `path-include=/usr/share/doc/*/copyright`, `path-exclude=/usr/share/man/*`,
    `path-exclude=/usr/share/info/*`); with dnf, `--setopt=tsflags=nodocs`; on Alpine, do not
    install `*-doc` packages. Deleting them in the same RUN works too.
    """

    id = "SLI450"
    name = "documentation"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.INFO
    title = "documentation in the image"
    refs = ("SL403", "SL406")
    _KINDS = (
        ("docs", ("usr/share/doc", "usr/local/share/doc")),
        ("man pages", ("usr/share/man", "usr/local/share/man", "usr/local/man")),
        ("info pages", ("usr/share/info", "usr/local/share/info")),
    )

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        every: list[str] = []
        parts = []
        for label, roots in self._KINDS:
            paths = [
                path
                for root in roots
                for path in context.files_under(root)
                if not _is_licence(path)
            ]
            paths = context.take(paths)
            if paths:
                parts.append(f"{label} {human_bytes(context.measure(paths).bytes)}")
                every.extend(paths)
        measured = context.measure(every)
        if not measured.bytes:
            return
        yield self.sized(
            every,
            measured,
            f"documentation: {amount(measured, every)} "
            f"({', '.join(parts)}); "
            "leave it out when installing (dpkg `path-exclude=/usr/share/doc/*` with "
            "`path-include=/usr/share/doc/*/copyright`, and the same for /usr/share/man and "
            "/usr/share/info; dnf `--setopt=tsflags=nodocs`; no `*-doc` packages on Alpine)",
        )


class Translations(Detector):
    """Message translations and locale sources are in the final image.

    Why: /usr/share/locale holds every package's translated messages in every language, and
    /usr/share/i18n the sources that `locale-gen` compiles locales from. A service logs in one
    language and needs no locale compiler.

    Counts: the regular files below /usr/share/locale (except `locale.alias`, which the C
    library reads), /usr/local/share/locale, /usr/share/i18n/locales and
    /usr/share/i18n/charmaps. Compiled locales (/usr/lib/locale) are left alone: they may be in
    use.

    Fix: keep the languages you need only: dpkg `path-exclude=/usr/share/locale/*` with
    `path-include=/usr/share/locale/locale.alias` (and `path-include` for your languages)
    before installing, or delete them in the same RUN; generate the one locale you need in a
    build stage.
    """

    id = "SLI451"
    name = "translations"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.INFO
    title = "translations in the image"
    _ROOTS = (
        "usr/share/locale",
        "usr/local/share/locale",
        "usr/share/i18n/locales",
        "usr/share/i18n/charmaps",
    )
    _KEEP = frozenset({"usr/share/locale/locale.alias"})

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        paths = [
            path
            for root in self._ROOTS
            for path in context.files_under(root)
            if path not in self._KEEP
        ]
        paths = context.take(paths)
        measured = context.measure(paths)
        if not measured.bytes:
            return
        yield self.sized(
            paths,
            measured,
            f"translations and locale sources: {human_bytes(measured.bytes)} in {len(paths)} "
            "files; keep "
            "only the languages you need (dpkg `path-exclude=/usr/share/locale/*` with "
            "`path-include=/usr/share/locale/locale.alias`, or delete them in the installing RUN)",
        )


def _source_of(path: str) -> str:
    """The .py file that a .pyc file was compiled from, by CPython's naming rules."""
    directory, _, name = path.rpartition("/")
    stem = name.partition(".")[0]
    if directory.endswith("__pycache__"):
        directory = directory[: -len("__pycache__")].rstrip("/")
    return f"{directory}/{stem}.py" if directory else f"{stem}.py"


class PythonBytecode(Detector):
    """Python bytecode that Python can regenerate from the sources next to it is in the image.

    Why: a trade-off, hence info: .pyc files (in `__pycache__`) make imports fast, and pip and
    Debian's python3 packages compile them at install time. Without them Python compiles each
    module again at every start of a container whose files it cannot write (a read-only root
    filesystem, a non-root user), and writes them into the container layer otherwise. Remove
    them when image size matters more than start-up time.

    Counts: .pyc and .pyo files whose source .py file is in the image. Sourceless bytecode
    (an application shipped as .pyc only) is the program itself and is left alone.

    Fix, if size wins: `pip install --no-compile` and `ENV PYTHONDONTWRITEBYTECODE=1` during
    the build, or `find / -name __pycache__ -prune -exec rm -rf {} +` in the same RUN.
    """

    id = "SLI452"
    name = "python-bytecode"
    practice = Practice.INSTALL_SCOPE
    severity = Severity.INFO
    title = "regenerable Python bytecode in the image"
    file_suffixes = frozenset({".pyc", ".pyo"})

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        files = context.files.files
        candidates = [
            path
            for suffix in (".pyc", ".pyo")
            for path in context.index.files_with_suffix(suffix)
            if _source_of(path) in files
        ]
        paths = context.take(candidates)
        measured = context.measure(paths)
        if not measured.bytes:
            return
        yield self.sized(
            paths,
            measured,
            f"Python bytecode: {amount(measured, paths, '.pyc file')} that "
            "Python can "
            "regenerate from the sources beside them; keep them for fast starts, or leave them "
            "out with `pip install --no-compile` and `PYTHONDONTWRITEBYTECODE=1` during the build",
        )
