"""`slimline rules`: list the Dockerfile rules."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from slimline.cli._common import EXIT_OK, fail

ORDER = 60


def add_parser(commands: Any) -> None:
    rules = commands.add_parser(
        "rules", help="list the Dockerfile rules", description="List the Dockerfile rules."
    )
    rules.add_argument("--practice", help="only rules of this practice")
    rules.add_argument("-f", "--format", choices=["text", "json"], default="text")
    rules.set_defaults(handler=_rules)


def _rules(args: argparse.Namespace) -> int:
    import json

    from slimline import api

    infos = [
        i
        for i in api.rules().values()
        if args.practice is None or i.practice.value == args.practice
    ]
    if args.practice is not None and not infos:
        fail(f"no rules for practice {args.practice!r}")
    if args.format == "json":
        data = [
            {
                "id": i.id,
                "name": i.name,
                "practice": i.practice.value,
                "severity": i.severity.value,
                "summary": i.summary,
                "refs": list(i.refs),
                "fixable": i.fixable,
                "default_enabled": i.default_enabled,
            }
            for i in infos
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return EXIT_OK
    width = max((len(i.name) for i in infos), default=10)
    for i in infos:
        opt_in = "" if i.default_enabled else " (opt-in)"
        refs = f" [{', '.join(i.refs)}]" if i.refs else ""
        sys.stdout.write(
            f"{i.id}  {i.name:<{width}}  {i.practice.value:<15} {i.severity.value:<8} {i.summary}{opt_in}{refs}\n"
        )
    return EXIT_OK
