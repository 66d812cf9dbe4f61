"""package-cache: no package-manager caches or indexes left in a layer."""

from __future__ import annotations

from collections.abc import Iterator

from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.rules import Rule
from slimline.findings import Finding, Practice, Severity

# Measured: the APKINDEX files of Alpine 3.20 main and community, as `apk update` stores them.
APK_INDEX_BYTES = 2_600_000


class ApkAddWithoutNoCache(Rule):
    """`apk add` or `apk update` without `--no-cache` leaves the package index in the image.

    Why: `apk update` (and `apk add` after it) stores APKINDEX files in `/var/cache/apk`; they
    are never used at runtime. `apk add --no-cache` fetches the index to a temporary location
    instead, so nothing is left behind.

    Leaves alone: `--no-cache` given; the cache in a `RUN --mount=type=cache` (or tmpfs) mount
    on `/var/cache/apk` or `/etc/apk/cache`; `rm -rf /var/cache/apk/*` later in the same RUN.

    estimated_bytes: the size of the Alpine main and community indexes (about 2.6 MB), counted
    once per RUN.
    """

    id = "SL301"
    name = "apk-no-cache"
    practice = Practice.PACKAGE_CACHE
    severity = Severity.WARNING
    refs = ("DL3019", "DKL-DI-0004", "DS-0025")
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            ops = [op for op in run.ops_of("apk") if op.action in ("install", "update")]
            if not ops or run.cache_mounted("/var/cache/apk") or run.cache_mounted("/etc/apk/cache"):
                continue
            if _cleans_apk_cache(run.commands):
                continue
            for op in ops:
                if not op.has("--no-cache"):
                    yield self.at_command(
                        ctx,
                        op.command,
                        f"`apk {op.raw_action}` without --no-cache leaves the package index in the layer; use `apk add --no-cache`",
                        estimated_bytes=APK_INDEX_BYTES,
                    )
                    break


def _cleans_apk_cache(commands: list) -> bool:  # type: ignore[type-arg]
    for c in commands:
        if c.program == "rm" and any(
            w.startswith("/var/cache/apk") for w in (x.text for x in c.unwrapped()[1:])
        ):
            return True
    return False
