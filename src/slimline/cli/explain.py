"""`slimline explain`: print a rule's documentation."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from slimline.cli._common import EXIT_OK, fail

ORDER = 70


def add_parser(commands: Any) -> None:
    explain = commands.add_parser(
        "explain",
        help="print a rule's documentation",
        description="Print the documentation of rules (SL ids, hadolint DL ids, or the SLI ids"
        " of analyze's image findings).",
    )
    explain.add_argument("rule_ids", nargs="+", metavar="RULE")
    explain.set_defaults(handler=_explain)


def _explain(args: argparse.Namespace) -> int:
    from slimline import api

    infos = api.rules()
    out: list[str] = []
    for raw in args.rule_ids:
        rid = raw.strip().upper()
        if rid.startswith("SLI"):
            # image findings of `analyze`: documented by their detector classes
            from slimline.image.bloat import detector_infos

            infos = {**infos, **detector_infos()}
        matches = (
            [infos[rid]]
            if rid in infos
            else [i for i in infos.values() if rid in (r.upper() for r in i.refs)]
        )
        if not matches:
            fail(f"unknown rule {raw!r} (see 'slimline rules')")
        for info in matches:
            enabled = "enabled by default" if info.default_enabled else "opt-in"
            block = [
                f"{info.id} {info.name}",
                f"practice: {info.practice.value}   severity: {info.severity.value}   "
                f"fixable: {'yes' if info.fixable else 'no'}   {enabled}",
            ]
            if info.refs:
                block.append(f"equivalents: {', '.join(info.refs)}")
            block += ["", info.doc]
            out.append("\n".join(block))
    sys.stdout.write("\n\n".join(out) + "\n")
    return EXIT_OK
