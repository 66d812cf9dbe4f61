"""Configuration: ``[tool.slimline]`` in pyproject.toml or a ``.slimline.toml``, found from the
current directory upwards; command-line flags override it.

Keys: ``select``, ``ignore`` (lists of rule ids, practices or id prefixes), ``severity``
(the lowest severity reported), ``fail-on`` (the lowest severity that fails), ``exclude``
(gitignore-style patterns for discovery), ``target`` (the build stage treated as final), and
``options`` (rule options: ``pin-digests``, ``pin-packages``, ``trusted-registries``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from slimline.findings import Practice, Severity


class ConfigError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Severity = Severity.STYLE
    fail_on: Severity = Severity.WARNING
    exclude: tuple[str, ...] = ()
    target: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the file the configuration came from

    def with_overrides(self, **changes: Any) -> Config:
        clean = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **clean)

    def enabled(self, rule_id: str, practice: Practice, default_enabled: bool) -> bool:
        """Whether a rule runs: ``ignore`` wins, then ``select``, then the rule's default."""

        def matches(selector: str) -> bool:
            s = selector.strip()
            return bool(s) and (
                rule_id == s.upper()
                or practice.value == s.lower()
                or (s.upper().startswith("SL") and rule_id.startswith(s.upper()))
            )

        if any(matches(s) for s in self.ignore):
            return False
        if self.select:
            return any(matches(s) for s in self.select)
        return default_enabled


_KEYS = {"select", "ignore", "severity", "fail-on", "exclude", "target", "options"}


def _from_table(table: dict[str, Any], source: str) -> Config:
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) in slimline config: {', '.join(sorted(unknown))}"
        )

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{source}: '{key}' must be a list of strings")
        return tuple(value)

    try:
        severity = Severity.parse(table.get("severity", "style"))
        fail_on = Severity.parse(table.get("fail-on", "warning"))
    except (ValueError, AttributeError) as exc:
        raise ConfigError(f"{source}: {exc}") from None
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{source}: 'options' must be a table")
    target = table.get("target")
    if target is not None and not isinstance(target, str):
        raise ConfigError(f"{source}: 'target' must be a string")
    return Config(
        select=strings("select"),
        ignore=strings("ignore"),
        severity=severity,
        fail_on=fail_on,
        exclude=strings("exclude"),
        target=target,
        options={k.replace("_", "-"): v for k, v in options.items()},
        source=source,
    )


def load_file(path: Path) -> Config:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    table = data.get("tool", {}).get("slimline", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.slimline] must be a table")
    return _from_table(table, str(path))


def discover(start: Path | None = None) -> Config:
    """The nearest ``.slimline.toml``, or pyproject.toml with a [tool.slimline] table."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        dotfile = directory / ".slimline.toml"
        if dotfile.is_file():
            return load_file(dotfile)
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            import tomllib

            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if "slimline" in data.get("tool", {}):
                return load_file(pyproject)
        if (directory / ".git").exists():
            break
    return Config()
