"""The library surface: everything the command line does is a call here."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slimline.config import Config
from slimline.dockerfile import pragmas
from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.parse import ParseError, parse_bytes
from slimline.dockerfile.rules import Rule, load_rules
from slimline.findings import Finding, InputError, RuleInfo
from slimline.results import CheckReport, FileResult

if TYPE_CHECKING:
    from slimline.dockerfile.fix import FixReport
    from slimline.dockerfile.fixes import FixOptions
    from slimline.dockerfile.structural import StructuralOptions
    from slimline.image.model import ImageAnalysis
    from slimline.slim.pipeline import SlimOptions
    from slimline.slim.result import SlimResult

MAX_FILE_BYTES = 4 * 1024 * 1024  # far above any real Dockerfile; BuildKit's own limit is lower
STDIN = "-"
_WARM_UP = b"""FROM python:3.12 AS build
RUN apt-get update && apt-get install -y gcc && pip install flask
FROM debian:bookworm
COPY --from=build /x /x
RUN apk add curl && npm ci && curl -fsSL https://example.com | sh
USER 1000
CMD ["/x"]
"""


@lru_cache(maxsize=1)
def _rules() -> dict[str, type[Rule]]:
    return load_rules()


@lru_cache(maxsize=1)
def _peer_map() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rid, cls in _rules().items():
        for ref in cls.refs:
            out.setdefault(ref.upper(), set()).add(rid)
    return out


def rules() -> dict[str, RuleInfo]:
    """Every rule slimline knows, by id."""
    return {rid: cls.info() for rid, cls in _rules().items()}


def _enabled_rules(config: Config) -> list[Rule]:
    return list(_rules_for(config.select, config.ignore))


@lru_cache(maxsize=32)
def _rules_for(select: tuple[str, ...], ignore: tuple[str, ...]) -> tuple[Rule, ...]:
    chooser = Config(select=select, ignore=ignore)
    return tuple(
        cls()
        for rid, cls in _rules().items()
        if chooser.enabled(rid, cls.practice, cls.default_enabled)
    )


def check_bytes(data: bytes, path: str = "Dockerfile", config: Config | None = None) -> FileResult:
    """Check one Dockerfile given as bytes. Never raises for bad input."""
    config = config or Config()
    result = FileResult(path)
    if len(data) > MAX_FILE_BYTES:
        result.error = InputError(
            path,
            f"file is {len(data) / 1e6:.1f} MB, larger than the {MAX_FILE_BYTES // 2**20} MiB a Dockerfile may be",
        )
        return result
    try:
        doc = parse_bytes(data, path)
        result.source = doc.text
        ctx = CheckContext(doc, config.options, config.target)
    except ParseError as exc:
        result.error = InputError(path, exc.message, exc.line, exc.column)
        try:
            result.source = data.decode("utf-8")
        except UnicodeDecodeError:
            result.source = None
        return result
    ignores = pragmas.collect(doc, _peer_map())
    findings: list[Finding] = []
    for rule in _enabled_rules(config):
        try:
            produced = list(rule.check(ctx))
        except Exception as exc:  # a rule bug must not hide the other rules' findings
            if os.environ.get("SLIMLINE_DEBUG"):
                raise
            result.error = InputError(
                path, f"internal error in rule {rule.id}: {type(exc).__name__}: {exc}"
            )
            continue
        for finding in produced:
            if not finding.severity.at_least(config.severity):
                continue
            if ignores.ignored(finding.rule, finding.line):
                continue
            findings.append(finding)
    findings.sort(key=Finding.sort_key)
    result.findings = _dedupe(findings)
    return result


def check_text(text: str, path: str = "Dockerfile", config: Config | None = None) -> FileResult:
    return check_bytes(text.encode("utf-8", "surrogatepass"), path, config)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, int, str]] = set()
    out = []
    for f in findings:
        key = (f.rule, f.line, f.column, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def check_file(path: str, config: Config | None = None) -> FileResult:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        return FileResult(path, error=InputError(path, "is a directory"))
    except FileNotFoundError:
        return FileResult(path, error=InputError(path, "no such file"))
    except PermissionError:
        return FileResult(path, error=InputError(path, "permission denied"))
    except OSError as exc:
        return FileResult(path, error=InputError(path, f"cannot read: {exc.strerror or exc}"))
    return check_bytes(data, path, config)


def _check_many(args: tuple[list[str], Config]) -> list[FileResult]:
    paths, config = args
    return [check_file(p, config) for p in paths]


def check(
    paths: Sequence[str],
    config: Config | None = None,
    *,
    stdin_data: bytes | None = None,
    jobs: int | None = None,
) -> CheckReport:
    """Check files and directories (discovered recursively); ``-`` reads ``stdin_data``."""
    config = config or Config()
    files: list[str] = []
    results_by_path: dict[str, FileResult] = {}
    order: list[str] = []
    for item in paths:
        if item == STDIN:
            order.append(STDIN)
            results_by_path[STDIN] = check_bytes(stdin_data or b"", "<stdin>", config)
            continue
        if os.path.isdir(item):
            from slimline.discovery import discover_files

            found = discover_files(Path(item), config.exclude)
            files += found
            order += found
        else:
            files.append(item)
            order.append(item)
    for result in _run(files, config, jobs):
        results_by_path[result.path] = result
    ordered: list[FileResult] = []
    seen: set[str] = set()
    for p in order:
        if p not in seen:
            seen.add(p)
            ordered.append(results_by_path[p])
    return CheckReport(ordered, rules())


def _run(files: list[str], config: Config, jobs: int | None) -> Iterable[FileResult]:
    unique = list(dict.fromkeys(files))
    workers = jobs if jobs is not None else min(os.cpu_count() or 1, 8)
    # Forked workers start in a few milliseconds; below a few dozen files they do not pay off.
    if workers <= 1 or len(unique) < 64:
        return [check_file(p, config) for p in unique]
    chunk = max(16, len(unique) // (workers * 8))
    batches = [(unique[i : i + chunk], config) for i in range(0, len(unique), chunk)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Load what checks load lazily (the shell grammar, the variants data...) before forking,
    # so that each worker does not load it again.
    check_bytes(_WARM_UP, "warm-up", config)

    # fork: workers inherit the loaded rules instead of importing them again.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [r for batch in pool.map(_check_many, batches) for r in batch]


def analyze(
    image: str,
    *,
    platform: str | None = None,
    dockerfile: str | None = None,
    packages: bool = True,
    findings: bool = True,
    layout: bool = True,
) -> ImageAnalysis:
    """Open `image` (any source `slimline analyze` takes) and analyze it.

    `dockerfile` is the text of the Dockerfile it was built from, to name each layer's line.
    Raises slimline.image.sources.ImageError when the image cannot be opened or read.
    """
    from slimline.image.analyze import AnalyzeOptions, analyze_image
    from slimline.image.sources import open_image

    options = AnalyzeOptions(
        packages=packages, findings=findings, layout=layout, dockerfile=dockerfile
    )
    with open_image(image, platform=platform) as opened:
        return analyze_image(opened, options)


def sbom(image: str, *, format: str = "cyclonedx", platform: str | None = None) -> str:
    """The SBOM of `image` as a CycloneDX 1.6 or SPDX 2.3 JSON document."""
    from slimline.report import RenderOptions
    from slimline.report.sbom import get_renderer

    analysis = analyze(image, platform=platform, findings=False, layout=False)
    return get_renderer(format).render(analysis, RenderOptions())


def slim(image: str, options: SlimOptions | None = None, **settings: Any) -> SlimResult:
    """Slim `image` (see ``slimline slim``): trace it under the probes, write a one-layer image
    that keeps what it uses, verify it against the original and only then tag or write it.

    `options` or keyword settings of :class:`slimline.slim.pipeline.SlimOptions` (``tag``,
    ``output``, ``mode``, ``probes``...). Raises SlimError, ImageError or EngineError with one
    line; a slim image that fails verification gives a result with ``verification.ok`` false
    and nothing written."""
    from slimline.slim.pipeline import SlimOptions as Options
    from slimline.slim.pipeline import slim as run_slim

    chosen = options if options is not None else Options(**settings)
    return run_slim(image, chosen)


def fix(
    paths: Sequence[str],
    config: Config | None = None,
    *,
    stdin_data: bytes | None = None,
    stdin_path: str = "<stdin>",
    online: bool = False,
    pin_digests: bool = False,
    context_dir: str | None = None,
    structural: StructuralOptions | None = None,
) -> list[FixReport]:
    """Compute the fixes for files and directories (discovered recursively; ``-`` reads
    ``stdin_data``). Nothing is written: each report holds the input and the fixed text, and
    the caller decides what to do with them. A file that cannot be read or parsed comes back
    unchanged, with ``error`` set.

    ``context_dir`` is the build context for every input (package.json, lock files); by
    default each file's own directory, and none for standard input. ``online`` lets the
    pinning fixes ask registries for tags and digests; ``pin_digests`` pins base images by
    digest (from the local engine, or from the registry with ``online``). ``structural`` adds
    the ``--split`` and ``--rebase`` rewrites after the rule fixes, and the rule fixes again
    on their result."""
    from dataclasses import replace

    from slimline.dockerfile.fixes import FixOptions
    from slimline.dockerfile.fixes.images import ImageResolver

    config = config or Config()
    resolver = ImageResolver(online=online, engine=pin_digests)
    files: list[str] = []
    for item in paths:
        if item != STDIN and os.path.isdir(item):
            from slimline.discovery import discover_files

            files += discover_files(Path(item), config.exclude)
        else:
            files.append(item)
    reports: list[FixReport] = []
    for item in dict.fromkeys(files):
        loaded: bytes | InputError
        if item == STDIN:
            path, loaded = stdin_path, stdin_data or b""
            context = Path(context_dir) if context_dir else None
        else:
            path, loaded = item, _read_input(item)
            context = Path(context_dir) if context_dir else Path(item).parent
        options = FixOptions(
            context_dir=context, online=online, pin_digests=pin_digests, resolver=resolver
        )
        shape = replace(structural, context=context) if structural else None
        reports.append(_fix_input(loaded, path, config, options, shape))
    return reports


def _read_input(path: str) -> bytes | InputError:
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        return InputError(path, "is a directory")
    except FileNotFoundError:
        return InputError(path, "no such file")
    except PermissionError:
        return InputError(path, "permission denied")
    except OSError as exc:
        return InputError(path, f"cannot read: {exc.strerror or exc}")


def _fix_input(
    loaded: bytes | InputError,
    path: str,
    config: Config,
    options: FixOptions,
    structural: StructuralOptions | None = None,
) -> FixReport:
    from slimline.dockerfile.fix import FixReport, fix_text, pipeline
    from slimline.dockerfile.structural import structural_steps

    if isinstance(loaded, InputError):
        return FixReport(path, "", "", error=loaded)
    if len(loaded) > MAX_FILE_BYTES:
        size = f"{len(loaded) / 1e6:.1f} MB"
        message = (
            f"file is {size}, larger than the {MAX_FILE_BYTES // 2**20} MiB a Dockerfile may be"
        )
        return FixReport(path, "", "", error=InputError(path, message))
    try:
        text = parse_bytes(loaded, path).text
    except ParseError as exc:
        text = loaded.decode("utf-8", "replace")
        error = InputError(path, exc.message, exc.line, exc.column)
        return FixReport(path, text, text, error=error)
    if structural is None or not structural.any:
        return fix_text(text, path, config, options)

    def rule_fixes(current: str, name: str) -> FixReport:
        return fix_text(current, name, config, options)

    return pipeline(text, path, [rule_fixes, *structural_steps(structural), rule_fixes])
