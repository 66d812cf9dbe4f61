"""Official base images: which family and variant a FROM line names, and what is smaller.

The facts (tag shapes, sizes, C library, toolchains, official and trusted names) live in
``slimline/data/base_images.toml``, read once on first use. Everything here is a pure function
of an image reference: no network, no engine.

Tags may hold build arguments (``python:${PYTHON_VERSION}-slim``). A variable standing where the
version goes still lets the variant be known; a variable anywhere else makes it unknowable and
:func:`classify` returns ``None``. Suggested tags keep the variable text as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "Classification",
    "ImageRef",
    "SlimmerOption",
    "Variant",
    "classify",
    "families",
    "is_official",
    "is_trusted_publisher",
    "latest_known_tag",
    "official_names",
    "parse_image_ref",
    "toolchain_runtime",
    "variants",
]

# Host names that all mean Docker Hub; references to it are normalised to registry None.
_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
_LIBCS = frozenset({"glibc", "musl"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MACRO = re.compile(r"\{\{([A-Z_]+)\}\}")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Stand-ins for build-argument references while matching; digits, because variables almost
# always stand for versions and version expressions accept digits.
_SENTINEL_BASE = 9_000_001


@dataclass(frozen=True)
class ImageRef:
    """An image reference split the way the engine splits it.

    ``registry`` is ``None`` for Docker Hub, however it was written (``docker.io/``,
    ``index.docker.io/`` or nothing); Docker Hub official images lose their ``library/``
    prefix, so ``docker.io/library/python`` and ``python`` compare equal.
    """

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Registry and repository, without tag or digest."""
        return self.repository if self.registry is None else f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


@dataclass(frozen=True)
class Variant:
    """One variant of a family (python ``slim``, eclipse-temurin ``jre``) and its size."""

    family: str
    name: str
    uncompressed_bytes: int | None
    compressed_bytes: int | None
    libc: str | None
    source: str
    date: str
    approximate: bool
    note: str = ""
    example: str = ""
    shell: bool = True  # False for shell-less variants (Ubuntu chiseled): RUN cannot work there


@dataclass(frozen=True)
class SlimmerOption:
    """A smaller variant of the same family, spelled for the reference it replaces.

    ``image`` is the full reference to write (it differs from the original repository only where
    the family keeps variants in separate repositories, like Red Hat UBI). A digest pinned on the
    original belongs to the original image and must not be carried over.
    """

    tag: str
    image: str
    variant: Variant
    saving_bytes: int | None
    changes_libc: bool


@dataclass(frozen=True)
class Classification:
    """What a reference names: family, variant, version and the smaller options."""

    family: str
    variant: Variant
    version: str | None
    slimmer: tuple[SlimmerOption, ...]
    codename: str | None = None
    toolchain: bool = False
    runtime: str | None = None
    deprecated: bool = False
    replaced_by: str | None = None
    note: str = ""


@dataclass(frozen=True)
class _VariantSpec:
    variant: Variant
    pattern: _LazyPattern
    tag: tuple[str, ...]
    slimmer: tuple[str, ...]
    toolchain: bool
    runtime: tuple[str, ...]
    repositories: tuple[str, ...] | None
    since: tuple[int, ...] | None = None  # the first release published in this variant


@dataclass(frozen=True, eq=False)
class _Family:
    name: str
    kind: str
    latest: str | None
    defaults: Mapping[str, str]
    deprecated: bool
    replaced_by: str | None
    note: str
    variants: tuple[_VariantSpec, ...]

    def variant(self, name: str) -> _VariantSpec:
        for spec in self.variants:
            if spec.variant.name == name:
                return spec
        raise KeyError(name)


@dataclass(frozen=True, eq=False)
class _Catalog:
    families: Mapping[str, _Family]
    by_repository: Mapping[str, _Family]
    official: frozenset[str]
    mirrors: tuple[str, ...]
    trusted: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Parsing references
# --------------------------------------------------------------------------------------------


def _variable_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``$NAME`` and ``${...}`` (nested braces allowed) in ``text``."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            i += 1
            continue
        if text.startswith("${", i):
            depth, j = 0, i + 1
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            end = min(j + 1, len(text))
        else:
            end = i + 1
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            if end == i + 1:
                i += 1
                continue
        spans.append((i, end))
        i = end
    return spans


def _mask_variables(text: str) -> str:
    """``text`` with variable bodies blanked, so ``${A:-b}`` hides its ``:`` from splitting."""
    chars = list(text)
    for start, end in _variable_spans(text):
        for k in range(start + 1, end):
            chars[k] = "_"
    return "".join(chars)


@lru_cache(maxsize=1024)
def parse_image_ref(text: str) -> ImageRef:
    """Split ``[registry/]repository[:tag][@digest]`` as the engine does.

    The first path component is a registry when it contains ``.`` or ``:``, is ``localhost``,
    has upper-case letters, or is a build-argument reference. Raises ``ValueError`` for an
    empty reference.
    """
    whole = text.strip()
    masked = _mask_variables(whole)
    digest: str | None = None
    at = masked.find("@")
    if at >= 0:
        digest = whole[at + 1 :] or None
        whole, masked = whole[:at], masked[:at]
    tag: str | None = None
    colon = masked.rfind(":")
    if colon > masked.rfind("/"):
        tag = whole[colon + 1 :] or None
        whole, masked = whole[:colon], masked[:colon]
    registry: str | None = None
    repository = whole
    slash = masked.find("/")
    if slash >= 0:
        first = whole[:slash]
        if (
            "." in first
            or ":" in first
            or first == "localhost"
            or first != first.lower()
            or "$" in first
        ):
            registry, repository = first, whole[slash + 1 :]
    if registry is not None and "$" not in registry:
        registry = registry.lower()
        if registry in _DOCKER_HUB_HOSTS:
            registry = None
    if registry is None and repository.startswith("library/") and repository.count("/") == 1:
        repository = repository.removeprefix("library/")
    if not repository:
        raise ValueError(f"not an image reference: {text!r}")
    return ImageRef(registry=registry, repository=repository, tag=tag, digest=digest)


# --------------------------------------------------------------------------------------------
# Loading the data file
# --------------------------------------------------------------------------------------------


class _LazyPattern:
    """A tag pattern compiled on first use: start-up would otherwise compile all of them,
    while one check needs the patterns of a family or two."""

    __slots__ = ("_compiled", "source", "where")

    def __init__(self, source: str, where: str) -> None:
        self.source = source
        self.where = where
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            try:
                self._compiled = re.compile(self.source)
            except re.error as exc:
                raise ValueError(f"{self.where}: bad pattern: {exc}") from exc
        return self._compiled

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.compiled().fullmatch(text)


def _expand(pattern: str, macros: Mapping[str, str], where: str) -> _LazyPattern:
    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in macros:
            raise ValueError(f"{where}: unknown macro {{{{{key}}}}}")
        return macros[key]

    return _LazyPattern(_MACRO.sub(sub, pattern), where)


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: expected a list of strings")
    return tuple(value)


def _optional_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{where}: expected a positive number of bytes")
    return value


def _load_variant(
    family: str,
    raw: Mapping[str, Any],
    macros: Mapping[str, str],
    toolchain: bool,
    runtime: tuple[str, ...],
) -> _VariantSpec:
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{family}: a variant has no name")
    where = f"{family}/{name}"
    for key in ("pattern", "source", "date", "libc", "example"):
        if not isinstance(raw.get(key), str):
            raise ValueError(f"{where}: missing {key}")
    if not _DATE.fullmatch(raw["date"]):
        raise ValueError(f"{where}: date must be YYYY-MM-DD")
    if raw["libc"] not in _LIBCS:
        raise ValueError(f"{where}: libc must be one of {sorted(_LIBCS)}")
    repositories = raw.get("repositories")
    shell = raw.get("shell", True)
    if not isinstance(shell, bool):
        raise ValueError(f"{where}.shell: expected true or false")
    since = raw.get("since")
    if since is not None and (not isinstance(since, str) or not _release(since)):
        raise ValueError(f'{where}.since: expected a release such as "8.0"')
    variant = Variant(
        family=family,
        name=name,
        uncompressed_bytes=_optional_int(raw.get("uncompressed"), f"{where}.uncompressed"),
        compressed_bytes=_optional_int(raw.get("compressed"), f"{where}.compressed"),
        libc=raw["libc"],
        source=raw["source"],
        date=raw["date"],
        approximate=bool(raw.get("approximate", False)),
        note=str(raw.get("note", "")),
        example=raw["example"],
        shell=shell,
    )
    return _VariantSpec(
        variant=variant,
        pattern=_expand(raw["pattern"], macros, where),
        tag=_str_tuple(raw.get("tag"), f"{where}.tag"),
        slimmer=_str_tuple(raw.get("slimmer", []), f"{where}.slimmer"),
        toolchain=bool(raw.get("toolchain", toolchain)),
        runtime=_str_tuple(raw.get("runtime", list(runtime)), f"{where}.runtime"),
        repositories=(
            None if repositories is None else _str_tuple(repositories, f"{where}.repositories")
        ),
        since=_release(since) if isinstance(since, str) else None,
    )


def _before(release: tuple[int, ...], since: tuple[int, ...]) -> bool:
    """Whether ``release`` comes before ``since``; "8" and "8.0" name the same release."""
    width = max(len(release), len(since))
    return release + (0,) * (width - len(release)) < since + (0,) * (width - len(since))


def _release(version: str) -> tuple[int, ...]:
    """The numeric release of a version: "8.0" -> (8, 0), "10.0-preview.1" -> (10, 0)."""
    head = version.split("-", 1)[0]
    parts = head.split(".")
    if not all(p.isdigit() for p in parts):
        return ()
    return tuple(int(p) for p in parts)


def _load_family(name: str, raw: Mapping[str, Any], macros: Mapping[str, str]) -> _Family:
    local = dict(macros)
    if "version" in raw:
        local["V"] = raw["version"]
    toolchain = bool(raw.get("toolchain", False))
    runtime = _str_tuple(raw.get("runtime", []), f"{name}.runtime")
    specs = tuple(
        _load_variant(name, item, local, toolchain, runtime) for item in raw.get("variants", [])
    )
    if not specs:
        raise ValueError(f"{name}: no variants")
    names = [spec.variant.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: duplicate variant names")
    for spec in specs:
        for other in spec.slimmer:
            if other not in names or other == spec.variant.name:
                raise ValueError(f"{name}/{spec.variant.name}: bad slimmer entry {other!r}")
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict) or not all(isinstance(v, str) for v in defaults.values()):
        raise ValueError(f"{name}.defaults: expected a table of strings")
    replaced_by = raw.get("replaced_by")
    latest = raw.get("latest")
    return _Family(
        name=name,
        kind=str(raw.get("kind", "")),
        latest=latest if isinstance(latest, str) else None,
        defaults=dict(defaults),
        deprecated=bool(raw.get("deprecated", False)),
        replaced_by=replaced_by if isinstance(replaced_by, str) else None,
        note=str(raw.get("note", "")),
        variants=specs,
    )


def _build_catalog(data: Mapping[str, Any]) -> _Catalog:
    macros = data.get("meta", {}).get("macros", {})
    families: dict[str, _Family] = {}
    by_repository: dict[str, _Family] = {}
    for name, raw in data.get("families", {}).items():
        family = _load_family(name, raw, macros)
        families[name] = family
        repos = set(_str_tuple(raw.get("repositories", []), f"{name}.repositories"))
        for spec in family.variants:
            repos.update(spec.repositories or ())
        for repo in repos:
            if repo in by_repository:
                raise ValueError(f"{repo} belongs to {by_repository[repo].name} and {name}")
            by_repository[repo] = family
    official = data.get("official", {})
    names: set[str] = set()
    for key in ("names", "deprecated", "reserved"):
        names |= set(_str_tuple(official.get(key, []), f"official.{key}"))
    return _Catalog(
        families=families,
        by_repository=by_repository,
        official=frozenset(names),
        mirrors=_str_tuple(official.get("mirrors", []), "official.mirrors"),
        trusted=_str_tuple(data.get("trusted", {}).get("prefixes", []), "trusted.prefixes"),
    )


def load_data(source: str = "toml") -> dict[str, Any]:
    """The variants data: ``base_images.toml`` is the source of truth; ``base_images.json``
    is the same data, generated from it (``scripts/gen-data``) because it loads in a
    fraction of the time, which every ``slimline check`` pays. A test keeps them equal."""
    if source == "json":
        loaded: dict[str, Any] = json.loads(
            (_DATA_DIR / "base_images.json").read_text(encoding="utf-8")
        )
        return loaded
    import tomllib

    return tomllib.loads((_DATA_DIR / "base_images.toml").read_text(encoding="utf-8"))


@cache
def _catalog() -> _Catalog:
    return _build_catalog(load_data("json"))


# --------------------------------------------------------------------------------------------
# Questions about references
# --------------------------------------------------------------------------------------------


def _docker_hub_name(ref: ImageRef) -> str | None:
    """The Docker Hub repository ``ref`` names, seeing through official-image mirrors."""
    if ref.registry is None:
        return ref.repository
    full = ref.name
    for mirror in _catalog().mirrors:
        if full.startswith(mirror + "/"):
            return full[len(mirror) + 1 :]
    return None


def _lookup_name(ref: ImageRef) -> str:
    hub = _docker_hub_name(ref)
    return hub if hub is not None else ref.name


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + "/")


def is_official(ref: ImageRef) -> bool:
    """Whether ``ref`` is a Docker Official Image (``library/``), directly or via a mirror."""
    name = _docker_hub_name(ref)
    return name is not None and "/" not in name and name in _catalog().official


def is_trusted_publisher(ref: ImageRef) -> bool:
    """Whether ``ref`` is official or comes from a known vendor registry or organisation."""
    if is_official(ref):
        return True
    full = f"docker.io/{ref.repository}" if ref.registry is None else ref.name
    return any(_under(full, prefix) for prefix in _catalog().trusted)


def _substitute_variables(tag: str) -> tuple[str, dict[str, str]] | None:
    """``tag`` with each variable replaced by a numeric stand-in, and the way back.

    ``None`` when nothing but variables and separators remains, since the variables could then
    spell any variant.
    """
    spans = _variable_spans(tag)
    if not spans:
        return tag, {}
    literal = "".join(tag[a:b] for a, b in _gaps(spans, len(tag)))
    if not literal.strip("-._"):
        return None
    out: list[str] = []
    back: dict[str, str] = {}
    last = 0
    for index, (start, end) in enumerate(spans):
        sentinel = str(_SENTINEL_BASE + index)
        back[sentinel] = tag[start:end]
        out.append(tag[last:start])
        out.append(sentinel)
        last = end
    out.append(tag[last:])
    return "".join(out), back


def _gaps(spans: list[tuple[int, int]], length: int) -> Iterable[tuple[int, int]]:
    last = 0
    for start, end in spans:
        yield last, start
        last = end
    yield last, length


def _restore(text: str, back: Mapping[str, str]) -> str:
    for sentinel, original in back.items():
        text = text.replace(sentinel, original)
    return text


def _first_match(family: _Family, name: str, tag: str) -> tuple[_VariantSpec, re.Match[str]] | None:
    for spec in family.variants:
        if spec.repositories is not None and name not in spec.repositories:
            continue
        match = spec.pattern.fullmatch(tag)
        if match:
            return spec, match
    return None


def _render(parts: Iterable[str], values: Mapping[str, str]) -> str:
    """Spell a tag from its parts; see the header of the data file for the rules."""
    out: list[str] = []
    for part in parts:
        optional = part.endswith("?")
        body = part[:-1] if optional else part
        names = _PLACEHOLDER.findall(body)
        if optional and not all(values.get(n) for n in names):
            continue
        filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), body)
        if filled:
            out.append(filled)
    return "-".join(out)


def _attempts(captured: Mapping[str, str], defaults: Mapping[str, str]) -> Iterable[dict[str, str]]:
    """Value sets to spell a suggestion with, most faithful to the original first."""
    without_codename = {k: v for k, v in captured.items() if k != "codename"}
    yield dict(captured)
    yield without_codename
    yield {**defaults, **captured}
    yield {**defaults, **without_codename}


def _host(name: str) -> str | None:
    first = name.split("/", 1)[0]
    return first if "/" in name and ("." in first or ":" in first) else None


def _target_name(ref: ImageRef, name: str, current: _VariantSpec, target: _VariantSpec) -> str:
    """The repository that holds ``target``: the current one unless the variant lives apart.

    Variants kept in separate repositories list them in parallel order, so the counterpart of
    the current spelling sits at the same position.
    """
    if target.repositories is None or name in target.repositories:
        return ref.name
    if current.repositories is not None and name in current.repositories:
        index = current.repositories.index(name)
        if index < len(target.repositories):
            return target.repositories[index]
    same_host = [repo for repo in target.repositories if _host(repo) == ref.registry]
    return (same_host or list(target.repositories))[0]


def _spell(
    family: _Family,
    repository: str,
    target: _VariantSpec,
    captured: Mapping[str, str],
    current_tag: str | None,
) -> str | None:
    """A tag of ``target`` for the version in ``captured``, or ``None`` if none is valid.

    A spelling counts only if ``target`` is the variant the tag would be classified as.
    ``current_tag`` is excluded; it is ``None`` when the target lives in another repository,
    where the same tag names a different image.
    """
    seen = set() if current_tag is None else {current_tag}
    for values in _attempts(captured, family.defaults):
        tag = _render(target.tag, values)
        if tag in seen:
            continue
        seen.add(tag)
        found = _first_match(family, repository, tag)
        if found is not None and found[0] is target:
            return tag
    return None


def _runtime(spec: _VariantSpec, values: Mapping[str, str]) -> str | None:
    if not spec.toolchain:
        return None
    for template in spec.runtime:
        if all(values.get(n) for n in _PLACEHOLDER.findall(template)):
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    return None


@lru_cache(maxsize=1024)
def classify(ref: ImageRef) -> Classification | None:
    """Family, variant and smaller options for ``ref``; ``None`` when either is unknown.

    An untagged reference means ``latest``. A reference pinned only by digest names an unknown
    variant. Options are ordered best first: same C library before a change of C library, then
    by bytes saved. Options are never the current tag and never bigger than it.
    """
    catalog = _catalog()
    name = _lookup_name(ref)
    family = catalog.by_repository.get(name)
    if family is None:
        return None
    if ref.tag is None and ref.digest is not None:
        return None
    raw_tag = "" if ref.tag is None or ref.tag == "latest" else ref.tag
    substituted = _substitute_variables(raw_tag)
    if substituted is None:
        return None
    tag, back = substituted
    found = _first_match(family, name, tag)
    if found is None:
        return None
    spec, match = found
    captured = {k: v for k, v in match.groupdict().items() if v}
    if back:
        version_span = match.span("version") if "version" in match.re.groupindex else (-1, -1)
        for sentinel in back:
            at = tag.find(sentinel)
            if at < version_span[0] or at + len(sentinel) > version_span[1]:
                return None
    current = spec.variant
    options: list[SlimmerOption] = []
    release = _release(captured["version"]) if captured.get("version") and not back else ()
    for other in spec.slimmer:
        target = family.variant(other)
        if target.since is not None and release and _before(release, target.since):
            continue  # not published for this release
        target_name = _target_name(ref, name, spec, target)
        target_lookup = _lookup_name(parse_image_ref(target_name))
        same_repository = target_lookup == name
        spelled = _spell(family, target_lookup, target, captured, tag if same_repository else None)
        if spelled is None:
            continue
        size, new_size = current.uncompressed_bytes, target.variant.uncompressed_bytes
        if size is not None and new_size is not None and new_size >= size:
            continue
        text = _restore(spelled, back) or "latest"
        options.append(
            SlimmerOption(
                tag=text,
                image=f"{target_name}:{text}",
                variant=target.variant,
                saving_bytes=None if size is None or new_size is None else size - new_size,
                changes_libc=(
                    current.libc is not None
                    and target.variant.libc is not None
                    and current.libc != target.variant.libc
                ),
            )
        )
    options.sort(key=lambda o: (o.changes_libc, -(o.saving_bytes or -1)))
    runtime = _runtime(spec, {**family.defaults, **captured})
    return Classification(
        family=family.name,
        variant=current,
        # A version spelled by a build argument is not known until build time.
        version=None if back else captured.get("version"),
        slimmer=tuple(options),
        codename=captured.get("codename"),
        toolchain=spec.toolchain,
        runtime=None if runtime is None else _restore(runtime, back),
        deprecated=family.deprecated,
        replaced_by=family.replaced_by,
        note=family.note,
    )


def toolchain_runtime(ref: ImageRef) -> str | None:
    """For a compiled-language toolchain image, the recommended base to run the result in."""
    result = classify(ref)
    return None if result is None else result.runtime


def latest_known_tag(family: str) -> str | None:
    """A concrete current tag to suggest instead of ``latest`` or no tag, keeping the variant.

    ``family`` is a family name from the data file or a repository that identifies one.
    """
    catalog = _catalog()
    found = catalog.families.get(family) or catalog.by_repository.get(family)
    return None if found is None else found.latest


def families() -> tuple[str, ...]:
    """Names of the families the data file describes."""
    return tuple(_catalog().families)


def variants(family: str | None = None) -> tuple[Variant, ...]:
    """Variants of one family, or of all families."""
    chosen: Iterable[_Family] = _catalog().families.values()
    if family is not None:
        chosen = [_catalog().families[family]]
    return tuple(spec.variant for fam in chosen for spec in fam.variants)


def official_names() -> frozenset[str]:
    """Docker Official Image repository names, deprecated and reserved ones included."""
    return _catalog().official
