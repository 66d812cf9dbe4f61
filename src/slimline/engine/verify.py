"""``slimline fix --build``: build the original and the fixed Dockerfile, run both the same
way, and say whether they behave the same and how much smaller the fixed image is."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slimline.engine.build import Builder, BuiltImage, build_image, remove_image
from slimline.engine.client import connect
from slimline.engine.compare import Behaviour, differences, observe
from slimline.engine.probes import CommandProbe, Probe

TAG_REPOSITORY = "slimline-verify"
DEFAULT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class BuildComparison:
    """The original and the fixed image side by side."""

    original: BuiltImage
    fixed: BuiltImage
    original_behaviour: Behaviour
    fixed_behaviour: Behaviour
    same_behaviour: bool
    differences: tuple[str, ...]
    kept: bool  # whether the images were left in the engine (under original.tag, fixed.tag)

    @property
    def saving_bytes(self) -> int:
        """Bytes the fix saves; negative when the fixed image is bigger."""
        return self.original.size_bytes - self.fixed.size_bytes

    @property
    def saving_ratio(self) -> float:
        """The saving as a fraction of the original size (0.4 is 40 % smaller)."""
        if self.original.size_bytes <= 0:
            return 0.0
        return self.saving_bytes / self.original.size_bytes

    def summary(self) -> str:
        """One line: both sizes and layer counts, the saving, and whether behaviour matched."""
        before, after = self.original, self.fixed
        change = "saves" if self.saving_bytes >= 0 else "adds"
        if self.same_behaviour:
            verdict = "same behaviour"
        else:
            count = len(self.differences)
            verdict = f"{count} difference{'s' if count != 1 else ''} in behaviour"
        return (
            f"original {_megabytes(before.size_bytes)} in {before.layer_count} layers, fixed "
            f"{_megabytes(after.size_bytes)} in {after.layer_count} layers: {change} "
            f"{_megabytes(abs(self.saving_bytes))} ({abs(self.saving_ratio):.0%}); {verdict} "
            f"({self.original_behaviour.probe.describe()})"
        )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size < 10_000_000 else f"{size / 1e6:.0f} MB"


def verify_tags(
    original_text: str, fixed_text: str, context_dir: str | os.PathLike[str]
) -> tuple[str, str]:
    """Tags for the two images: the same inputs give the same tags."""
    digest = hashlib.sha256()
    for part in (original_text, fixed_text, str(Path(context_dir).resolve())):
        digest.update(part.encode() + b"\0")
    name = f"{TAG_REPOSITORY}/{digest.hexdigest()[:12]}"
    return f"{name}:original", f"{name}:fixed"


def verify_fix(
    original_text: str,
    fixed_text: str,
    context_dir: str | os.PathLike[str],
    *,
    probe: Probe | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    dockerfile: str = "Dockerfile",
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    builder: Builder = "buildkit",
    keep_images: bool = False,
    client: Any = None,
    on_build_line: Callable[[str], None] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> BuildComparison:
    """Build both texts in ``context_dir`` (the Dockerfile sits at ``dockerfile``, relative to
    it), run both under ``probe`` (default: the image's own command) and compare.

    ``timeout`` bounds each run: a command's run, or a service's start-up. ``target`` and
    ``build_args`` apply to both builds. Raises :class:`~slimline.engine.errors.EngineError`
    subclasses: ``EngineUnavailable``; ``BuildFailed`` with ``role`` "original" or "fixed";
    ``ProbeFailed``/``ProbeTimeout`` when the original cannot be probed. A fixed image that
    fails the probe is not an error but a difference in the result.
    """
    context = Path(context_dir)
    engine = client if client is not None else connect()
    chosen = probe if probe is not None else CommandProbe()
    step = on_step or (lambda _: None)
    tags = verify_tags(original_text, fixed_text, context)
    built: list[BuiltImage] = []
    try:
        for role, text, tag in (
            ("original", original_text, tags[0]),
            ("fixed", fixed_text, tags[1]),
        ):
            step(f"building the {role} Dockerfile")
            built.append(
                build_image(
                    engine,
                    text,
                    context,
                    tag=tag,
                    dockerfile=dockerfile,
                    builder=builder,
                    target=target,
                    build_args=build_args,
                    role=role,
                    on_line=on_build_line,
                )
            )
        original, fixed = built
        step(f"running the original image: {chosen.describe()}")
        before = observe(engine, original.id, chosen, timeout=timeout, role="original")
        step(f"running the fixed image: {chosen.describe()}")
        after = observe(engine, fixed.id, chosen, timeout=timeout, role="fixed")
    finally:
        if not keep_images:
            for image in built:
                remove_image(engine, image.tag)
    found = tuple(differences(before, after))
    return BuildComparison(
        original=original,
        fixed=fixed,
        original_behaviour=before,
        fixed_behaviour=after,
        same_behaviour=not found,
        differences=found,
        kept=keep_images,
    )
