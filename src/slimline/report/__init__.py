"""Output formats of ``slimline check``: a registry of one module per format.

A format module defines ``NAME: str`` and ``render(report, options) -> str``; the returned
text is a complete document ending with a newline (or empty), ready to be written as is.
Adding a format means adding a module here: nothing else changes. The formats of
``slimline analyze`` and ``slimline sbom`` live in the subpackages ``analysis`` and ``sbom``,
registries of the same kind built with ``FormatRegistry``.

Discovery is static so that start-up stays cheap: the package's modules are listed with
pkgutil and each one's source is scanned for a top-level ``NAME = "..."`` assignment; only the
module of the format actually asked for is imported. Subpackages, modules whose name starts
with an underscore, the ``options`` module and modules without a literal ``NAME`` are not
formats.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from slimline.report.options import RenderOptions

if TYPE_CHECKING:
    from slimline.results import CheckReport

__all__ = [
    "FormatRegistry",
    "RenderOptions",
    "Renderer",
    "UnknownFormatError",
    "available_formats",
    "get_renderer",
    "scan_formats",
]

_NOT_FORMATS = frozenset({"options"})

ReportT = TypeVar("ReportT")


@dataclass(frozen=True)
class Renderer(Generic[ReportT]):
    """One output format: ``renderer.render(report, options)`` or ``renderer(report)``."""

    name: str
    render: Callable[[ReportT, RenderOptions], str]

    def __call__(self, report: ReportT, options: RenderOptions | None = None) -> str:
        return self.render(report, options if options is not None else RenderOptions())


class UnknownFormatError(KeyError):
    """Raised by get_renderer for a name no format module declares."""

    def __str__(self) -> str:
        # KeyError would show the message quoted like a dictionary key.
        return str(self.args[0]) if self.args else ""


class FormatRegistry(Generic[ReportT]):
    """The format modules of one package, found by scanning their source, imported on demand.

    ``FormatRegistry(__name__, __path__)`` in a package's ``__init__`` is all a new family of
    formats needs; ``ReportT`` is the type its ``render`` functions take.
    """

    def __init__(self, package: str, paths: Iterable[str]) -> None:
        self.package = package
        self._paths = list(paths)
        self._found: dict[str, str] | None = None

    def formats(self) -> dict[str, str]:
        """Format names to module names; scanned once, imports nothing."""
        if self._found is None:
            self._found = scan_formats(self._paths, self.package)
        return self._found

    def available(self) -> list[str]:
        return sorted(self.formats())

    def get(self, name: str) -> Renderer[ReportT]:
        formats = self.formats()
        key = name if name in formats else name.strip().lower()
        module_name = formats.get(key)
        if module_name is None:
            known = ", ".join(sorted(formats)) or "none"
            raise UnknownFormatError(f"unknown output format {name!r} (available: {known})")
        module = importlib.import_module(f"{self.package}.{module_name}")
        render = getattr(module, "render", None)
        if getattr(module, "NAME", None) != key or not callable(render):
            raise UnknownFormatError(
                f"output format module {module.__name__} does not define NAME = {key!r}"
                " and render()"
            )
        return Renderer(name=key, render=render)


_REGISTRY: FormatRegistry[CheckReport] = FormatRegistry(__name__, __path__)


def available_formats() -> list[str]:
    """The names of all output formats, sorted; imports no format module."""
    return _REGISTRY.available()


def get_renderer(name: str) -> Renderer[CheckReport]:
    """The renderer of the format ``name``; imports only that format's module."""
    return _REGISTRY.get(name)


def scan_formats(paths: Iterable[str], package: str) -> dict[str, str]:
    """Map format names to module names for the modules found in ``paths``."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(list(paths)):
        if info.ispkg or info.name.startswith("_") or info.name in _NOT_FORMATS:
            continue
        fullname = f"{package}.{info.name}"
        name = _declared_name(info.module_finder, fullname)
        if name is not None:
            found.setdefault(name, info.name)
    return found


def _declared_name(finder: object, fullname: str) -> str | None:
    find_spec = getattr(finder, "find_spec", None)
    spec = find_spec(fullname) if callable(find_spec) else None
    loader = getattr(spec, "loader", None) if spec is not None else None
    get_data = getattr(loader, "get_data", None)
    origin = getattr(spec, "origin", None)
    if callable(get_data) and isinstance(origin, str) and origin.endswith(".py"):
        try:
            data = get_data(origin)
        except OSError:
            return None
        if isinstance(data, bytes):
            return _name_in_source(data.decode("utf-8", "replace"))
    # Sourceless installs (bytecode only) cannot be scanned: import to ask the module itself.
    try:
        module = importlib.import_module(fullname)
    except ImportError:
        return None
    value = getattr(module, "NAME", None)
    return value if isinstance(value, str) else None


def _name_in_source(source: str) -> str | None:
    """The string assigned to a top-level ``NAME`` (``NAME = "x"`` or ``NAME: str = "x"``)."""
    for line in source.splitlines():
        if not line.startswith("NAME"):
            continue
        rest = line[4:].lstrip()
        if rest.startswith(":"):
            annotation, sep, rest = rest[1:].partition("=")
            if not sep or annotation.strip() not in ("str", "Final", "Final[str]"):
                continue
        elif rest.startswith("="):
            rest = rest[1:]
        else:
            continue
        value = rest.split("#", 1)[0].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            inner = value[1:-1]
            if inner and inner[0] not in "\"'" and "\\" not in inner:
                return inner
    return None
