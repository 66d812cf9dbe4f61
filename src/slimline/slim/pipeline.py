"""`slimline slim` from end to end: read the image, run it traced under the probes, plan what to
keep, write the candidate, verify it against the original, and only then tag or write it.

A candidate that fails verification is never tagged or written. When a traced repeat of the
failed probe shows files the candidate lacked and the original has (and the user did not
exclude them), they are added and the candidate is rebuilt and verified again from the start,
a bounded number of times.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slimline.image.bloat import BloatContext
from slimline.image.bloat.attack_surface import PackageManagers, Shells
from slimline.image.files import ImageFiles
from slimline.image.filetree import LayerTree, MergedTree
from slimline.image.layers import EntryKind
from slimline.image.read import ReadImage, read_image
from slimline.image.sources.base import ImageSource
from slimline.packages.base import OSRelease, Package
from slimline.packages.catalog import capture_predicate as package_capture
from slimline.packages.catalog import catalog_image
from slimline.slim import plan as planning
from slimline.slim.errors import SlimError
from slimline.slim.layer import LayerInfo
from slimline.slim.plan import Mode, Plan, Selection
from slimline.slim.probes import ProbeSet
from slimline.slim.result import (
    Footprint,
    PackageRef,
    SlimResult,
    Verification,
    VerificationFailure,
)

CANDIDATE_REPOSITORY = "slimline-slim/candidate"
# Reading an executable's interpreter and libraries needs its bytes; a second pass reads the
# ones the first pass did not capture, a third the libraries those name.
MAX_READ_PASSES = 4
_LIBRARY_CONFIG = ("etc/ld.so.conf", "etc/nsswitch.conf")

Step = Callable[[str], None]


@dataclass(frozen=True)
class SlimOptions:
    mode: Mode = Mode.PACKAGES
    tag: str | None = None
    output: str | None = None
    runs: int = 3
    verify_runs: int = 5
    probes: ProbeSet = field(default_factory=ProbeSet)
    selection: Selection = field(default_factory=Selection)
    platform: str | None = None
    # verification rounds after the first that may add back files found missing
    repair_rounds: int = 2


def slim(
    image: str, options: SlimOptions, *, client: Any = None, on_step: Step | None = None
) -> SlimResult:
    """Slim `image`; SlimError (one line) when it cannot be done. A candidate that fails
    verification gives a result whose `verification.ok` is false and nothing is written."""
    from slimline.engine.client import connect
    from slimline.image.sources import open_image

    step = on_step or (lambda _: None)
    started = time.monotonic()
    if options.tag is None and options.output is None:
        raise SlimError("say where the slim image goes: --tag NAME or --output FILE")
    if options.runs < 1 or options.verify_runs < 1:
        raise SlimError("--runs and --verify-runs must be at least 1")
    engine = client if client is not None else connect()
    with ExitStack() as cleanup:
        step(f"reading {image}")
        source = cleanup.enter_context(open_image(image, platform=options.platform))
        _refuse_overwrite(engine, image, source, options.tag)
        read = read_image(source, capture=_capture())
        for pattern in options.selection.unmatched(read.files):
            raise SlimError(f"--include {pattern}: no such path in {source.name}")
        os_release, packages = catalog_image(read.files)
        workdir = Path(tempfile.mkdtemp(prefix="slimline-slim-"))
        cleanup.callback(shutil.rmtree, workdir, True)
        session = _Session(engine, source, read, os_release, packages, options, workdir, step)
        cleanup.callback(session.remove_images)
        return session.run(started)
    raise AssertionError("unreachable")  # pragma: no cover


def _capture() -> Callable[[str], bool]:
    from slimline.slim.pkgdb import capture_predicate as database_capture

    packages, databases = package_capture(), database_capture()

    def wants(path: str) -> bool:
        return (
            packages(path)
            or databases(path)
            or path in _LIBRARY_CONFIG
            or path.startswith("etc/ld.so.conf.d/")
        )

    return wants


def _refuse_overwrite(client: Any, image: str, source: ImageSource, tag: str | None) -> None:
    """The original's tag is never reused for the slim image."""
    if tag is None:
        return
    if _same_reference(tag, image):
        raise SlimError(f"--tag {tag} names the original image; choose a new tag")
    from slimline.slim.load import image_id_of

    current = image_id_of(client, tag)
    if current is not None and current == getattr(source, "image_id", None):
        raise SlimError(f"--tag {tag} is the original image; choose a new tag")


def _same_reference(tag: str, image: str) -> bool:
    from slimline.slim.archive import normalize_tag

    return normalize_tag(tag) == normalize_tag(image.removeprefix("docker:"))


@dataclass(frozen=True)
class _Candidate:
    """A written, loaded, not yet verified slim image."""

    image_id: str
    tag: str
    layer_path: Path
    layer: LayerInfo
    keep: set[str]
    created: str
    mode: str


def _now() -> str:
    moment = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


class _Session:
    """One slim run's state: the original read once, the runs, the candidates."""

    def __init__(
        self,
        client: Any,
        source: ImageSource,
        read: ReadImage,
        os_release: OSRelease | None,
        packages: list[Package],
        options: SlimOptions,
        workdir: Path,
        step: Step,
    ) -> None:
        self.client = client
        self.source = source
        self.read = read
        self.files = read.files
        self.os_release = os_release
        self.packages = packages
        self.options = options
        self.workdir = workdir
        self.step = step
        self.contents: dict[str, bytes] = {}
        self._temporary_images: list[str] = []

    # ---- the steps -----------------------------------------------------------------------

    def run(self, started: float) -> SlimResult:
        from slimline.slim.load import ensure_in_engine
        from slimline.slim.verify import expectations

        options = self.options
        self.step("loading the image into the engine")
        original_ref = ensure_in_engine(self.client, self.source)
        if original_ref != _image_id(self.source):  # loaded just for this run
            self._temporary_images.append(original_ref)
        tracer = None
        if options.mode is not Mode.STATIC:
            from slimline.slim.trace import Tracer

            tracer = Tracer.from_host()
        references = []
        for number in range(1, options.runs + 1):
            what = "tracing" if tracer is not None else "running"
            self.step(f"{what} the original, run {number} of {options.runs}")
            references.append(self._run(original_ref, tracer, f"original {number}"))
        expected = expectations(references, options.probes)
        touched: set[str] = set()
        executed: set[str] = set()
        for record in references:
            if record.trace is not None:
                touched |= set(record.trace.paths)
                executed |= set(record.trace.executed)
        extra: set[str] = set()
        repaired: list[str] = []
        rounds = 1 + max(0, options.repair_rounds) if options.mode is not Mode.STATIC else 1
        for round_number in range(1, rounds + 1):
            plan = self._plan(touched | extra, executed)
            candidate = self._write(plan)
            verification, missing = self._verify(candidate, expected)
            if verification.ok or round_number == rounds:
                break
            addable = {
                p
                for p in planning.with_links(self.files, missing)
                if not self.options.selection.excludes(p)
            } - plan.keep
            if not addable:
                break
            self.step(f"adding {len(addable)} missing files and verifying again")
            repaired.extend(sorted(addable))
            extra |= addable
        verification = Verification(
            verification.runs,
            verification.passed,
            verification.failures,
            verification.notes,
            tuple(repaired),
        )
        image_id = None
        if verification.ok:
            image_id = self._publish(candidate)
        return self._result(plan, candidate, verification, image_id, time.monotonic() - started)

    def _run(self, image: str, tracer: Any, label: str) -> Any:
        from slimline.slim.run import run_image

        return run_image(
            self.client, image, self.source.config, self.options.probes, tracer=tracer, label=label
        )

    def _plan(self, touched: set[str], executed: set[str]) -> Plan:
        options = self.options
        if options.mode is Mode.STATIC:
            from slimline.slim.static import removable

            self.step("finding caches, indexes, documentation, headers and static libraries")
            drop = removable(self.files, self.read.layers, self.packages, self.os_release)
            return planning.plan_static(self.files, drop, options.selection)
        self.step(f"planning what to keep ({options.mode.value} mode)")
        for _ in range(MAX_READ_PASSES):
            plan, unread = planning.plan_traced(
                options.mode,
                self.files,
                self.source.config,
                self.packages,
                touched,
                executed,
                self._read,
                options.selection,
            )
            unread -= self.contents.keys()
            if not unread:
                return plan
            self.contents.update(_read_bytes(self.source, self.files, unread))
            # a file the reader could not give (gone, not regular) must not loop
            for path in unread:
                self.contents.setdefault(path, b"")
        return plan

    def _read(self, path: str) -> bytes | None:
        captured = self.files.read(path)
        if captured is not None:
            return captured
        return self.contents.get(path)

    def _write(self, plan: Plan) -> _Candidate:
        """Write the plan's image and load it into the engine under a temporary tag: the user's
        tag and file come only after verification."""
        from slimline.slim.archive import write_image
        from slimline.slim.layer import write_layer
        from slimline.slim.load import load_image

        keep = set(plan.keep)
        replacements: Mapping[str, Any] = {}
        if plan.mode is not Mode.STATIC:
            from slimline.slim.pkgdb import rewrite_databases

            edit = rewrite_databases(self.files, self.packages, plan.kept_packages, keep)
            replacements = edit.replacements
            keep -= set(edit.drop)
        self.step(f"writing the slim image ({len(keep)} paths)")
        token = secrets.token_hex(6)
        layer_path = self.workdir / f"layer-{token}.tar"
        with open(layer_path, "wb") as out:
            layer = write_layer(self.source, self.files, keep, replacements, out)
        candidate = _Candidate(
            "", f"{CANDIDATE_REPOSITORY}:{token}", layer_path, layer, keep, _now(), plan.mode.value
        )
        archive = self.workdir / f"image-{token}.tar"
        with open(archive, "wb") as out:
            write_image(out, tag=None, **self._image_arguments(candidate))
        image_id = load_image(self.client, archive, candidate.tag, protect=_image_id(self.source))
        self._temporary_images.append(candidate.tag)
        archive.unlink()
        return dataclasses.replace(candidate, image_id=image_id)

    def _image_arguments(self, candidate: _Candidate) -> dict[str, Any]:
        return {
            "raw_config": _raw_config(self.source),
            "layer_path": candidate.layer_path,
            "layer": candidate.layer,
            "label_from": self._label_from(),
            "mode": candidate.mode,
            "created": candidate.created,
        }

    def _verify(self, candidate: _Candidate, expected: Any) -> tuple[Verification, set[str]]:
        from slimline.slim.verify import compare

        options = self.options
        failures: list[VerificationFailure] = []
        passed = 0
        for number in range(1, options.verify_runs + 1):
            self.step(f"verifying the slim image, run {number} of {options.verify_runs}")
            record = self._run(candidate.image_id, None, f"verify {number}")
            found = compare(expected, record)
            if not found:
                passed += 1
                continue
            missing = sorted(
                set(self._missing(candidate.image_id)) | self._missing_programs(candidate)
            )
            failures.extend(
                VerificationFailure(d.probe, number, d.difference, tuple(missing)) for d in found
            )
            return (
                Verification(options.verify_runs, passed, tuple(failures), _notes(expected)),
                {m.strip("/") for m in missing},
            )
        return Verification(options.verify_runs, passed, (), _notes(expected)), set()

    def _missing_programs(self, candidate: _Candidate) -> set[str]:
        """The programs the image's command and the probe commands start that the slim image
        lacks: when the program itself is gone nothing runs, so no trace can name it."""
        config = self.source.config
        commands = [(*(config.entrypoint or ()), *(config.cmd or ()))]
        commands.extend(check.argv for check in self.options.probes.commands)
        search = planning.env_path(config)
        found: set[str] = set()
        for argv in commands:
            if not argv:
                continue
            program = argv[0]
            if program.startswith("/"):
                candidates = [program]
            elif "/" in program:
                candidates = [f"{config.workdir or '/'}/{program}"]
            else:
                candidates = [f"{d}/{program}" for d in search]
            for path in candidates:
                chain = planning.link_chain(self.files, path)
                if chain:
                    found.update(p for p in chain if p not in candidate.keep)
                    break
        return found

    def _missing(self, candidate: str) -> list[str]:
        """What a traced run of the candidate looked for in vain that the original has."""
        from slimline.slim.trace import Tracer
        from slimline.slim.verify import missing_files

        self.step("tracing the failed slim image to find what it lacks")
        try:
            record = self._run(candidate, Tracer.from_host(), "missing files")
        except SlimError:
            return []
        if record.trace is None:
            return []
        return missing_files(record.trace, lambda p: p.strip("/") in self.files)

    def _publish(self, candidate: _Candidate) -> str:
        """Tag the verified image and write its archive (atomically; the same bytes, so the
        same image ID, with the user's tag in its manifest)."""
        from slimline.slim.archive import write_image_file
        from slimline.slim.load import tag_image

        if self.options.output is not None:
            self.step(f"writing {self.options.output}")
            written = write_image_file(
                Path(self.options.output), tag=self.options.tag, **self._image_arguments(candidate)
            )
            if written != candidate.image_id:
                raise SlimError(
                    f"{self.options.output}: the archive's image ({written}) is not the verified"
                    f" one ({candidate.image_id})"
                )
        if self.options.tag is not None:
            tag_image(
                self.client, candidate.image_id, self.options.tag, protect=_image_id(self.source)
            )
        return candidate.image_id

    def remove_images(self) -> None:
        from slimline.slim.load import remove_image

        for reference in reversed(self._temporary_images):
            with suppress(Exception):
                remove_image(self.client, reference)

    def _label_from(self) -> str:
        image_id = _image_id(self.source)
        name = self.source.name
        return f"{name}@{image_id}" if image_id and image_id not in name else name

    # ---- the report ----------------------------------------------------------------------

    def _result(
        self,
        plan: Plan,
        candidate: _Candidate,
        verification: Verification,
        image_id: str | None,
        seconds: float,
    ) -> SlimResult:
        files = self.files
        keep = candidate.keep
        slim_files = _subtree(files, keep)
        kept_packages = (
            list(self.packages)
            if plan.mode is Mode.STATIC
            else [p for p in self.packages if p.purl in plan.kept_packages]
        )
        kept_purls = {p.purl for p in kept_packages}
        removed_packages = [
            PackageRef(p.name, p.version, p.ecosystem)
            for p in sorted(self.packages, key=lambda p: (p.ecosystem, p.name, p.version))
            if p.purl not in kept_purls
        ]
        shells_before = _programs(Shells(), files, self.read.layers)
        shells_after = _programs(Shells(), slim_files, [])
        managers_before = _programs(PackageManagers(), files, self.read.layers)
        managers_after = _programs(PackageManagers(), slim_files, [])
        original_bytes = planning.regular_bytes(files, files.files)
        # what the written layer holds, rewritten package databases included
        slim_bytes = candidate.layer.regular_bytes
        return SlimResult(
            image=self.source.name,
            mode=plan.mode,
            original=Footprint(original_bytes, len(files), len(self.packages)),
            slim=Footprint(slim_bytes, candidate.layer.files, len(kept_packages)),
            verification=verification,
            tag=self.options.tag if image_id else None,
            output=self.options.output if image_id else None,
            image_id=image_id,
            traced_files=len(plan.traced),
            traced_bytes=plan.traced_bytes,
            closure_packages=plan.closure_packages,
            closure_bytes=plan.closure_bytes,
            removed_files=max(0, len(files) - candidate.layer.files),
            removed_bytes=original_bytes - slim_bytes,
            removed_packages=tuple(removed_packages),
            removed_shells=tuple(sorted(set(shells_before) - set(shells_after))),
            removed_package_managers=tuple(sorted(set(managers_before) - set(managers_after))),
            remaining_shells=tuple(sorted(shells_after)),
            remaining_package_managers=tuple(sorted(managers_after)),
            remaining_packages=tuple(
                PackageRef(p.name, p.version, p.ecosystem)
                for p in sorted(kept_packages, key=lambda p: (p.ecosystem, p.name, p.version))
            ),
            seconds=seconds,
        )


def _image_id(source: ImageSource) -> str | None:
    value = getattr(source, "image_id", None)
    return str(value) if value else None


def _raw_config(source: ImageSource) -> bytes:
    raw = getattr(source, "raw_config", None)
    if not raw:
        raise SlimError(f"{source.name}: the source does not keep the image's config")
    return bytes(raw)


def _notes(expected: Any) -> tuple[str, ...]:
    return tuple(getattr(expected, "notes", ()) or ())


def _read_bytes(source: ImageSource, files: ImageFiles, paths: Collection[str]) -> dict[str, bytes]:
    """The bytes of `paths` (regular files of the final filesystem), streaming only the layers
    that hold their final copies."""
    wanted: dict[int, set[str]] = {}
    for path in paths:
        record = files.files.get(path)
        if record is None:
            continue
        if record.kind is EntryKind.HARDLINK:
            target = files.files.get(record.link_target)
            if target is None:
                continue
            wanted.setdefault(target.layer, set()).add(record.link_target)
            continue
        if record.kind is EntryKind.FILE:
            wanted.setdefault(record.layer, set()).add(path)
    found: dict[str, bytes] = {}
    for ref in source.layers:
        names = wanted.get(ref.index)
        if not names:
            continue
        for entry in ref.entries(capture=names.__contains__):
            if entry.content is not None and entry.path in names:
                found[entry.path] = entry.content
    for path in paths:
        record = files.files.get(path)
        if record is not None and record.kind is EntryKind.HARDLINK and record.link_target in found:
            found[path] = found[record.link_target]
    return found


def _subtree(files: ImageFiles, keep: Iterable[str]) -> ImageFiles:
    """The slim image's filesystem as a tree (records only), parents included."""
    layer = LayerTree(0)
    for path in sorted(keep):
        record = files.files.get(path)
        if record is not None:
            layer.files[path] = record
    tree = MergedTree()
    tree.apply(layer)
    return ImageFiles(tree)


def _programs(
    detector: Shells | PackageManagers, files: ImageFiles, layers: Sequence[LayerTree]
) -> list[str]:
    context = BloatContext(files, layers)
    return ["/" + path for path in detector.found_programs(context)]
