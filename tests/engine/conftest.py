"""Engine tests: a connected client and the stand-in base images, shared by the session.

Example sizes measured by test_examples.py are appended to a JSON file and printed at the end of
the run, so every run leaves a record of original against fixed sizes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from tests.support import engine as test_engine
from tests.support.base_images import ensure_base_images

ROOT = Path(__file__).resolve().parents[2]
SIZES = Path(os.environ.get("SLIMLINE_SIZES_FILE", ROOT / "build" / "test-results" / "sizes.json"))
_STARTED = time.time()


@pytest.fixture(scope="session")
def engine() -> Any:
    return test_engine.client()


@pytest.fixture(scope="session")
def stand_ins(engine: Any) -> list[str]:
    """Every stand-in image, built once per machine (scripts/test builds them up front)."""
    return ensure_base_images(client=engine)


def record_sizes(name: str, entry: dict[str, Any]) -> None:
    SIZES.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(SIZES) + ".lock"):
        table = json.loads(SIZES.read_text()) if SIZES.exists() else {}
        table[name] = {**entry, "recorded": time.time()}
        SIZES.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SIZES.exists():
        return
    try:
        table = json.loads(SIZES.read_text())
    except ValueError:
        return
    fresh = {k: v for k, v in table.items() if v.get("recorded", 0) >= _STARTED}
    if not fresh:
        return
    terminalreporter.section("example image sizes (original -> fixed)")
    for name, entry in sorted(fresh.items()):
        terminalreporter.write_line(
            f"{name:12} {entry['original_bytes'] / 1e6:7.0f} MB, {entry['original_layers']:2} layers"
            f" -> {entry['fixed_bytes'] / 1e6:6.0f} MB, {entry['fixed_layers']:2} layers"
            f"  ({entry['saving_ratio']:.0%} smaller)"
        )
