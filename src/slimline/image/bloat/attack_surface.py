"""attack-surface: what an intruder finds in a running container: shells, package managers,
setuid files."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import ClassVar

from slimline.findings import Practice, Severity
from slimline.image.bloat import Detector, human_bytes, listing
from slimline.image.bloat.context import BloatContext
from slimline.image.model import ImageFinding

# /usr first: on merged-/usr systems /bin is a link to it, and the real place is the one shown
_BIN_DIRS = ("usr/bin", "usr/local/bin", "usr/sbin", "bin", "sbin")
_SETUID, _SETGID = 0o4000, 0o2000


class ToolPresence(Detector):
    """Base of the detectors for programs a runtime image can do without: the programs found
    by name in the bin directories, and the packages that ship them.

    `bytes` is what dropping the packages (or, without package metadata, the programs' files)
    would save, less what an earlier finding already counted.
    """

    practice = Practice.ATTACK_SURFACE
    severity = Severity.INFO
    programs: ClassVar[tuple[str, ...]] = ()
    # (ecosystem, package name)
    package_names: ClassVar[frozenset[tuple[str, str]]] = frozenset()
    # glob patterns of directories that belong to the programs (pip's own package...)
    tool_dirs: ClassVar[tuple[str, ...]] = ()
    what: ClassVar[str] = ""
    fix: ClassVar[str] = ""

    def found_programs(self, context: BloatContext) -> dict[str, str]:
        """Program path (as a user would call it) -> the regular file it resolves to."""
        found: dict[str, str] = {}
        resolved_dirs = {d: context.files.resolve(d) for d in _BIN_DIRS}
        seen_dirs: set[str] = set()
        for directory in _BIN_DIRS:
            real_dir = resolved_dirs[directory]
            # /bin is often a link to /usr/bin: report each program once
            if real_dir is None or real_dir in seen_dirs:
                continue
            seen_dirs.add(real_dir)
            for program in self.programs:
                real = context.files.resolve(f"{real_dir}/{program}")
                if real is not None and context.is_regular(real):
                    found[f"{directory}/{program}"] = real
        return found

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        programs = self.found_programs(context)
        packages = [p for p in context.packages if (p.ecosystem, p.name) in self.package_names]
        paths = [path for package in packages for path in context.package_files(package)]
        paths.extend(programs.values())
        owned = context.owned
        for pattern in self.tool_dirs:
            for directory in context.glob(pattern):
                paths.extend(p for p in context.files_under(directory) if p not in owned)
        if not programs and not packages:
            return
        fresh = context.take(paths)
        shown = fresh or list(dict.fromkeys(programs.values()))
        measured = context.measure(shown)
        if not fresh:
            # every byte is counted by another finding already: name the programs, count none
            measured = dataclasses.replace(measured, bytes=0)
        total = measured.bytes
        listed = sorted("/" + program for program in programs) or sorted(p.name for p in packages)
        package_note = (
            f" (packages {listing(sorted(p.name for p in packages))})" if packages else ""
        )
        yield self.sized(
            shown,
            measured,
            f"{self.what}: {listing(listed)}{package_note}"
            + (f", {human_bytes(total)}" if total else "")
            + f"; {self.fix}",
        )


class Shells(ToolPresence):
    """A shell is in the final image.

    Why: a shell turns any code execution into an interactive foothold: an attacker who can
    run one command can run them all, download tools and script the rest. Most services need
    no shell at run time (an exec-form CMD starts them directly).

    Counts: sh, bash, dash, ash, zsh, ksh, mksh, fish, csh/tcsh and busybox in the bin
    directories; `bytes` is what dropping their packages (bash, dash, busybox...) would save,
    or the programs' own files without package metadata, less what other findings counted.

    Fix: if the application needs no shell, ship it on a distroless or scratch-based runtime
    image (gcr.io/distroless/*, chiselled Ubuntu, `FROM scratch` for static binaries) with
    an exec-form CMD/ENTRYPOINT; copy it there from a build stage.
    """

    id = "SLI905"
    name = "shell"
    title = "shell in the image"
    refs = ("SL905",)
    programs = ("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "busybox")
    package_names = frozenset(
        (ecosystem, name)
        for ecosystem in ("deb", "apk", "rpm")
        for name in ("bash", "dash", "busybox", "busybox-binsh", "zsh", "ksh", "mksh", "tcsh")
    )
    what = "shells"
    fix = (
        "if the application needs none, use a distroless or scratch-based runtime image "
        "with an exec-form CMD"
    )


class PackageManagers(ToolPresence):
    """A package manager is in the final image.

    Why: with apt, apk, dnf, pip or npm in the running container, an intruder installs
    whatever tools they need in one command; the image needs its packages, not the means to
    add more.

    Counts: apt, dpkg, apk, rpm, dnf, yum, microdnf, zypper, pip and npm (the programs, their
    packages, and pip's and npm's own directories where no package owns them); `bytes` is what
    dropping them would save, less what other findings counted.

    Fix: install packages in a build stage and copy the results onto a distroless or
    scratch-based runtime image; at least, do not install pip or npm into the runtime image
    when nothing installs packages at run time.
    """

    id = "SLI950"
    name = "package-manager"
    title = "package manager in the image"
    refs = ("SL905",)
    programs = (
        "apt",
        "apt-get",
        "dpkg",
        "apk",
        "rpm",
        "dnf",
        "yum",
        "microdnf",
        "zypper",
        "pip",
        "pip3",
        "npm",
    )
    package_names = frozenset(
        {
            ("deb", "apt"),
            ("deb", "dpkg"),
            ("deb", "python3-pip"),
            ("deb", "npm"),
            ("apk", "apk-tools"),
            ("apk", "py3-pip"),
            ("apk", "npm"),
            ("rpm", "rpm"),
            ("rpm", "dnf"),
            ("rpm", "yum"),
            ("rpm", "microdnf"),
            ("rpm", "zypper"),
            ("rpm", "python3-pip"),
            ("pypi", "pip"),
            ("npm", "npm"),
        }
    )
    tool_dirs = (
        "usr/local/lib/python3*/site-packages/pip",
        "usr/lib/python3/dist-packages/pip",
        "usr/local/lib/node_modules/npm",
        "usr/lib/node_modules/npm",
    )
    what = "package managers"
    fix = (
        "install in a build stage and copy the results onto a distroless or scratch-based "
        "runtime image"
    )


class SpecialModeFiles(Detector):
    """Setuid or setgid files are in the image.

    Why: a setuid program runs with its owner's privileges (root, in practice) whoever starts
    it, a setgid one with its group's: a flaw in any of them is a privilege escalation inside
    the container. Distributions ship a few (su, passwd, mount); a container needs none of
    them, and a non-root service user makes them the way back to root.

    Counts: regular files with the setuid (04000) or setgid (02000) bit. Severity is warning
    when a file is not listed by any installed package (made setuid by the build), info
    otherwise.

    Fix: `RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +` in the final stage (or
    remove the programs); give a program that needs one privilege a capability instead
    (`setcap cap_net_bind_service=+ep`).
    """

    id = "SLI907"
    name = "setuid-files"
    practice = Practice.ATTACK_SURFACE
    severity = Severity.INFO
    title = "setuid and setgid files"
    refs = ("SL907", "CIS-DI-0008")

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        special = context.index.special
        if not special:
            return
        files = context.files.files
        described = []
        for path in sorted(special):
            mode = files[path].mode
            bits = "/".join(
                label for bit, label in ((_SETUID, "setuid"), (_SETGID, "setgid")) if mode & bit
            )
            described.append(f"/{path} ({bits})")
        unowned = [p for p in special if p not in context.owned] if context.packages else []
        severity = Severity.WARNING if unowned else self.severity
        extra = (
            f"; not from any package: {listing(sorted('/' + p for p in unowned))}"
            if unowned
            else ""
        )
        yield self.risk(
            context,
            special,
            f"{len(special)} setuid/setgid files: {listing(described)}{extra}; remove the bits "
            "with `find / -xdev -perm /6000 -type f -exec chmod a-s {} +` in the final stage",
            severity=severity,
        )
