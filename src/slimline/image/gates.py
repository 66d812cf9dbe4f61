"""CI gates for `analyze --fail-on`: conditions on the analysis that make the exit code 1.

A condition is `METRIC OP VALUE`, e.g. `efficiency<0.95`, `wasted>20MB`, `reclaimable>=1MiB`,
`size>1GB`, `user-wasted>10%`, `packages>400`, or a severity (`warning`: any finding at or above
it; also `findings>=error`). dive's CI rules map to `efficiency<`, `wasted>` and `user-wasted>`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slimline.findings import Severity
from slimline.image.model import ImageAnalysis

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
}
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
    "=": operator.eq,
    "==": operator.eq,
}
_CONDITION = re.compile(r"^\s*([a-z-]+)\s*(<=|>=|==|<|>|=)\s*(\S+?)\s*$", re.IGNORECASE)


def _bytes(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value.strip().lower())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"not a size: {value!r} (for example 20MB, 1.5GiB, 300000)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _ratio(value: str) -> float:
    text = value.strip()
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise ValueError(f"not a ratio: {value!r} (for example 0.95 or 95%)") from None
    return number / 100 if text.endswith("%") or number > 1 else number


def _count(value: str) -> float:
    try:
        return float(int(value))
    except ValueError:
        raise ValueError(f"not a count: {value!r}") from None


@dataclass(frozen=True, slots=True)
class _Metric:
    parse: Callable[[str], float]
    measure: Callable[[ImageAnalysis], float]
    show: Callable[[float], str]


def _size_text(value: float) -> str:
    return f"{value / 1e6:.1f} MB" if value >= 1e5 else f"{int(value)} B"


METRICS: dict[str, _Metric] = {
    "efficiency": _Metric(_ratio, lambda a: a.waste.score, lambda v: f"{v:.2%}"),
    "wasted": _Metric(_bytes, lambda a: a.waste.wasted_bytes, _size_text),
    "user-wasted": _Metric(_ratio, lambda a: a.waste.user_wasted_percent, lambda v: f"{v:.2%}"),
    "reclaimable": _Metric(_bytes, lambda a: a.waste.reclaimable_bytes, _size_text),
    "size": _Metric(_bytes, lambda a: a.size_bytes, _size_text),
    "final-size": _Metric(_bytes, lambda a: a.final_bytes, _size_text),
    "bloat": _Metric(_bytes, lambda a: sum(f.bytes for f in a.findings), _size_text),
    "packages": _Metric(_count, lambda a: len(a.packages), lambda v: str(int(v))),
    "layers": _Metric(_count, lambda a: len(a.layers), lambda v: str(int(v))),
}


@dataclass(frozen=True, slots=True)
class Gate:
    text: str
    check: Callable[[ImageAnalysis], str | None]


def parse_gate(text: str) -> Gate:
    """A condition as the user wrote it; ValueError with a readable message when malformed."""
    raw = text.strip()
    severity_text = raw.lower()
    if severity_text.startswith("findings"):
        severity_text = re.sub(r"^findings\s*>=\s*", "", severity_text)
    try:
        threshold = Severity.parse(severity_text)
    except ValueError:
        pass
    else:
        return Gate(raw, lambda analysis: _severity_gate(analysis, threshold))
    match = _CONDITION.match(raw)
    if not match:
        raise ValueError(
            f"cannot read --fail-on {text!r}: expected METRIC<VALUE or METRIC>VALUE"
            f" (metrics: {', '.join(METRICS)}) or a severity"
        )
    name, symbol, value = match.group(1).lower(), match.group(2), match.group(3)
    metric = METRICS.get(name)
    if metric is None:
        raise ValueError(f"unknown metric {name!r} in --fail-on (known: {', '.join(METRICS)})")
    limit = metric.parse(value)
    compare = _OPERATORS[symbol]

    def check(analysis: ImageAnalysis) -> str | None:
        actual = metric.measure(analysis)
        if compare(actual, limit):
            return f"{name} is {metric.show(actual)} ({raw})"
        return None

    return Gate(raw, check)


def _severity_gate(analysis: ImageAnalysis, threshold: Severity) -> str | None:
    hits = [f for f in analysis.findings if f.severity.at_least(threshold)]
    if not hits:
        return None
    return f"{len(hits)} finding(s) at or above {threshold.value}"


def parse_gates(texts: Iterable[str]) -> list[Gate]:
    return [parse_gate(part) for text in texts for part in text.split(",") if part.strip()]


def failed_gates(analysis: ImageAnalysis, gates: Iterable[Gate]) -> list[str]:
    """Why the analysis fails each gate it fails, in the order given."""
    return [reason for gate in gates if (reason := gate.check(analysis)) is not None]
