"""Finding the modules of an extension package (image sources, catalogers...): every module of
the package except private ones (`_name`) and `base`, imported in name order."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def package_modules(package_name: str) -> list[ModuleType]:
    package = importlib.import_module(package_name)
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.ispkg and not info.name.startswith("_") and info.name != "base"
    )
    return [importlib.import_module(f"{package_name}.{name}") for name in names]
