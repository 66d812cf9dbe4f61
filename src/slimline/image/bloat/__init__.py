"""In-layer bloat and risk in an image's files: one module per practice family, one class per
detector.

dive sees only the bytes that a later layer overwrites or deletes; a layer that downloads 200 MB
of package lists and keeps them is "efficient" to it. The detectors here look at what the final
image holds: package-manager caches, documentation, build tools, baked-in data, shells, setuid
files and secrets (including secrets that a later layer deleted but that still ship in a lower
one).

A detector is a subclass of :class:`Detector` with an ``id``; defining it registers it. Ids are
``SLI`` and three digits whose hundreds are the practice families of the Dockerfile rules; where
a Dockerfile rule checks the same thing from the other side, the image detector takes its number
(SLI302 finds in the image the apt lists that SL302 finds in the Dockerfile), and detectors with
no Dockerfile counterpart take numbers from 50 up in their family. The class docstring is the
documentation: first line a summary, then why, what it counts, what it leaves alone and how to
fix it.

Bytes are counted once: detectors run in `CLAIM_ORDER` and a path counted by one finding is not
counted again by a later one (documentation inside a build tool's package goes to the build-tool
finding, since removing the tool removes it). Risk findings (secrets, setuid files) count no
bytes and may name files that a size finding also counts.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from slimline.findings import Practice, RuleInfo, Severity
from slimline.image.bloat.context import BloatContext, FileIndex, IndexSpec, Measured
from slimline.image.model import ImageFinding

__all__ = [
    "CLAIM_ORDER",
    "BloatContext",
    "Detector",
    "FileIndex",
    "IndexSpec",
    "Measured",
    "amount",
    "capture_predicate",
    "count",
    "detect_all",
    "detector_infos",
    "detectors",
    "human_bytes",
    "index_spec",
    "listing",
]

MAX_PATHS = 20
MAX_NAMES = 8

# Which family counts shared bytes first: the one whose fix removes the most. Deleting a cache
# or a data directory removes everything in it; removing a build tool's package removes its
# documentation too; documentation and bytecode can be left out of any install.
CLAIM_ORDER: tuple[Practice, ...] = (
    Practice.PACKAGE_CACHE,
    Practice.DATA_STORAGE,
    Practice.LAYER_WASTE,
    Practice.BUILD_TOOLS,
    Practice.INSTALL_SCOPE,
    Practice.ATTACK_SURFACE,
    Practice.SECURITY,
)

_REGISTRY: dict[str, type[Detector]] = {}


class Detector:
    """Base of every detector; see the package docstring."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""  # kebab-case, e.g. "apt-lists"
    practice: ClassVar[Practice]
    severity: ClassVar[Severity] = Severity.WARNING
    title: ClassVar[str] = ""
    refs: ClassVar[tuple[str, ...]] = ()  # the Dockerfile rule and peer ids for the same problem
    # what the one pass over the merged tree should remember for this detector
    dir_names: ClassVar[frozenset[str]] = frozenset()
    file_names: ClassVar[frozenset[str]] = frozenset()
    file_suffixes: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.id:
            if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
                raise RuntimeError(f"duplicate detector id {cls.id}")
            _REGISTRY[cls.id] = cls

    def wants(self, path: str) -> bool:
        """Whether the bytes of the regular file at `path` are needed. Called once per regular
        file of every layer while the layers stream past: test a base name or a suffix first."""
        return False

    def detect(self, context: BloatContext) -> Iterable[ImageFinding]:
        raise NotImplementedError

    @classmethod
    def info(cls) -> RuleInfo:
        doc = inspect.cleandoc(cls.__doc__ or "")
        return RuleInfo(
            id=cls.id,
            name=cls.name,
            practice=cls.practice,
            severity=cls.severity,
            summary=doc.split("\n", 1)[0].strip(),
            doc=doc,
            refs=cls.refs,
        )

    # ---- building findings -----------------------------------------------------------------

    def sized(
        self,
        paths: Sequence[str],
        measured: Measured,
        message: str,
        *,
        severity: Severity | None = None,
    ) -> ImageFinding:
        """A finding about bytes: `paths` (taken from the context) and what removing them saves."""
        return ImageFinding(
            rule=self.id,
            practice=self.practice,
            severity=severity or self.severity,
            title=self.title,
            message=message,
            bytes=measured.bytes,
            paths=measured.largest(MAX_PATHS),
            path_count=len(paths),
            layers=measured.layers,
        )

    def risk(
        self,
        context: BloatContext,
        paths: Sequence[str],
        message: str,
        *,
        severity: Severity | None = None,
        layers: Iterable[int] | None = None,
    ) -> ImageFinding:
        """A finding about risk, not size: it counts no bytes; paths in name order."""
        ordered = sorted(set(paths))
        return ImageFinding(
            rule=self.id,
            practice=self.practice,
            severity=severity or self.severity,
            title=self.title,
            message=message,
            paths=tuple("/" + p for p in ordered[:MAX_PATHS]),
            path_count=len(ordered),
            layers=tuple(sorted(set(layers))) if layers is not None else context.layers_of(paths),
        )


def listing(items: Sequence[str], limit: int = MAX_NAMES) -> str:
    """ "a, b, c and 4 more"."""
    shown = ", ".join(items[:limit])
    more = len(items) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def count(n: int, singular: str, plural: str | None = None) -> str:
    """ "1 file", "2 files"."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def amount(measured: Measured, paths: Sequence[str], noun: str = "file") -> str:
    """ "12.3 MB in 45 files"."""
    return f"{human_bytes(measured.bytes)} in {count(len(paths), noun)}"


def human_bytes(n: int) -> str:
    """Decimal SI units (1 MB = 1,000,000 bytes), as the reports and ``docker images`` use."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if round(value, 1) < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def load_detectors() -> dict[str, type[Detector]]:
    """Import every module of this package (each registers its detectors); return them by id."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(_REGISTRY.items()))


def detectors() -> list[Detector]:
    """One instance of every detector, in the order they claim bytes (`CLAIM_ORDER`, then id)."""
    classes = load_detectors().values()
    ordered = sorted(classes, key=lambda cls: (CLAIM_ORDER.index(cls.practice), cls.id))
    return [cls() for cls in ordered]


def detector_infos() -> dict[str, RuleInfo]:
    return {rid: cls.info() for rid, cls in load_detectors().items()}


def index_spec(chosen: Sequence[Detector] | None = None) -> IndexSpec:
    """What the pass over the merged tree must remember for `chosen` (default: all detectors)."""
    chosen = detectors() if chosen is None else chosen
    return IndexSpec(
        dir_names=frozenset().union(*(d.dir_names for d in chosen)),
        file_names=frozenset().union(*(d.file_names for d in chosen)),
        file_suffixes=frozenset().union(*(d.file_suffixes for d in chosen)),
    )


def capture_predicate(chosen: Sequence[Detector] | None = None) -> Callable[[str], bool]:
    """The files whose bytes the detectors read: pass it to `read_image` (with the catalogers'
    predicates through `slimline.packages.wanted_by`)."""
    chosen = detectors() if chosen is None else chosen
    tests = tuple(d.wants for d in chosen if type(d).wants is not Detector.wants)

    def wants(path: str) -> bool:
        # a plain loop: this runs for every file of every layer, and any() over a generator
        # costs twice as much
        for test in tests:  # noqa: SIM110
            if test(path):
                return True
        return False

    return wants


def detect_all(
    context: BloatContext, chosen: Sequence[Detector] | None = None
) -> list[ImageFinding]:
    """Every finding of `chosen` (default: all detectors), largest first, then by rule id."""
    chosen = detectors() if chosen is None else chosen
    context.claimed.clear()
    found: list[ImageFinding] = []
    for detector in chosen:
        found.extend(detector.detect(context))
    found.sort(key=lambda f: (-f.bytes, f.rule, f.message))
    return found
