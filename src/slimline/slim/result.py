"""What `slimline slim` did: sizes before and after, what went, what a scanner still finds, and
how the verification runs went."""

from __future__ import annotations

from dataclasses import dataclass

from slimline.slim.plan import Mode


@dataclass(frozen=True)
class Footprint:
    """An image's final filesystem: bytes of regular files, entries, packages."""

    size_bytes: int
    files: int
    packages: int


@dataclass(frozen=True)
class PackageRef:
    name: str
    version: str
    ecosystem: str


@dataclass(frozen=True)
class VerificationFailure:
    """One probe of one verification run that did not behave as on the original image;
    `missing` are files the slim image lacked when a traced run repeated the probe."""

    probe: str
    run: int
    difference: str
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verification:
    runs: int
    passed: int
    failures: tuple[VerificationFailure, ...] = ()
    # what the comparison could not hold the image to (output that differs between runs)
    notes: tuple[str, ...] = ()
    # files added back after a verification round found them missing
    repaired: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures and self.passed == self.runs


@dataclass(frozen=True)
class SlimResult:
    image: str
    mode: Mode
    original: Footprint
    slim: Footprint
    verification: Verification
    tag: str | None = None
    output: str | None = None
    image_id: str | None = None  # None when nothing was written
    traced_files: int = 0
    traced_bytes: int = 0
    closure_packages: int = 0
    closure_bytes: int = 0
    removed_files: int = 0
    removed_bytes: int = 0
    removed_packages: tuple[PackageRef, ...] = ()
    removed_shells: tuple[str, ...] = ()
    removed_package_managers: tuple[str, ...] = ()
    remaining_shells: tuple[str, ...] = ()
    remaining_package_managers: tuple[str, ...] = ()
    remaining_packages: tuple[PackageRef, ...] = ()
    seconds: float = 0.0

    @property
    def written(self) -> bool:
        return self.image_id is not None

    @property
    def saving_ratio(self) -> float:
        if self.original.size_bytes <= 0:
            return 0.0
        return 1 - self.slim.size_bytes / self.original.size_bytes
