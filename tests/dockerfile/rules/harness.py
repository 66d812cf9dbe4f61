"""Run one rule on a Dockerfile text: the table-driven rule tests use this."""

from __future__ import annotations

from slimline.api import check_text
from slimline.config import Config
from slimline.findings import Finding


def run_rule(rule_id: str, text: str, **options: object) -> list[Finding]:
    """Findings of ``rule_id`` only (the rule is selected even if it is opt-in)."""
    config = Config(select=(rule_id,), options={k.replace("_", "-"): v for k, v in options.items()})
    result = check_text(text, "Dockerfile", config)
    if result.error is not None:
        raise AssertionError(f"test input does not parse: {result.error}")
    return [f for f in result.findings if f.rule == rule_id]


def lines_of(rule_id: str, text: str, **options: object) -> list[int]:
    return [f.line for f in run_rule(rule_id, text, **options)]
