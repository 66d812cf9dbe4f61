"""The slim result as a stable JSON document (schema_version 1): keys in a fixed order, lists
sorted, ASCII only. docs/slim-json.md describes the fields."""

from __future__ import annotations

import json
from typing import Any

from slimline.report.options import RenderOptions
from slimline.slim.result import Footprint, SlimResult

NAME = "json"
SCHEMA_VERSION = 1


def render(result: SlimResult, options: RenderOptions) -> str:
    return json.dumps(to_document(result, options), indent=2, ensure_ascii=True) + "\n"


def _footprint(footprint: Footprint) -> dict[str, int]:
    return {
        "size_bytes": footprint.size_bytes,
        "files": footprint.files,
        "packages": footprint.packages,
    }


def to_document(result: SlimResult, options: RenderOptions) -> dict[str, Any]:
    verification = result.verification
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "slimline", "version": options.tool_version},
        "image": result.image,
        "mode": result.mode.value,
        "written": result.written,
        "tag": result.tag,
        "output": result.output,
        "image_id": result.image_id,
        "original": _footprint(result.original),
        "slim": _footprint(result.slim),
        "saving_ratio": round(result.saving_ratio, 4),
        "traced": {"files": result.traced_files, "size_bytes": result.traced_bytes},
        "closure": {"packages": result.closure_packages, "size_bytes": result.closure_bytes},
        "removed": {
            "files": result.removed_files,
            "size_bytes": result.removed_bytes,
            "packages": [
                {"name": p.name, "version": p.version, "ecosystem": p.ecosystem}
                for p in result.removed_packages
            ],
            "shells": list(result.removed_shells),
            "package_managers": list(result.removed_package_managers),
        },
        "remaining": {
            "packages": [
                {"name": p.name, "version": p.version, "ecosystem": p.ecosystem}
                for p in result.remaining_packages
            ],
            "shells": list(result.remaining_shells),
            "package_managers": list(result.remaining_package_managers),
        },
        "verification": {
            "runs": verification.runs,
            "passed": verification.passed,
            "ok": verification.ok,
            "failures": [
                {
                    "probe": f.probe,
                    "run": f.run,
                    "difference": f.difference,
                    "missing": ["/" + m.lstrip("/") for m in f.missing],
                }
                for f in verification.failures
            ],
            "notes": list(verification.notes),
            "repaired": ["/" + p for p in verification.repaired],
        },
        "seconds": round(result.seconds, 1),
    }
