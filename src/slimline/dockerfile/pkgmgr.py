"""Package-manager invocations recognised in shell commands.

``apt-get -y install --no-install-recommends curl`` becomes
``PackageOp(manager="apt", action="install", packages=[curl], options=["-y", ...])``.
Each manager's value-taking options are listed so that their values are not taken for
package names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slimline.dockerfile.shell import Command, Word, basename

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?$")
_PIP = re.compile(r"pip(\d+(\.\d+)?)?$")

# manager -> options that consume the next word
_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "apt": frozenset({"-o", "-t", "--target-release", "-c", "--config-file", "--option", "-a", "--host-architecture"}),
    "apk": frozenset({"-t", "--virtual", "-X", "--repository", "--root", "-p", "--arch", "--keys-dir", "--repositories-file", "--cache-dir"}),
    "pip": frozenset({"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target", "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "--prefix", "--root", "--python-version", "--platform", "--implementation", "--abi", "--cache-dir", "--src", "--upgrade-strategy", "--progress-bar", "--python", "--only-binary", "--no-binary", "--log", "--timeout", "--retries", "--proxy", "--cert", "--client-cert", "--config-settings", "-C", "--global-option", "--report", "--root-user-action"}),
    "npm": frozenset({"--prefix", "--registry", "--cache", "--omit", "--include", "--only", "-w", "--workspace", "--userconfig", "--loglevel"}),
    "yarn": frozenset({"--cwd", "--registry", "--cache-folder", "--modules-folder", "--network-timeout", "--mutex"}),
    "pnpm": frozenset({"--dir", "-C", "--filter", "-F", "--registry", "--store-dir", "--reporter"}),
    "dnf": frozenset({"--setopt", "--enablerepo", "--disablerepo", "--repo", "--repofrom", "--releasever", "--installroot", "-c", "--config", "-x", "--exclude", "--nodocs-none", "--setopt=", "--forcearch", "--destdir", "--downloaddir", "--best-none", "--refresh-none", "--module-name"}),
    "zypper": frozenset({"-r", "--repo", "-t", "--type", "--from", "--root", "-R"}),
    "gem": frozenset({"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "-s", "--source", "-P", "--trust-policy", "--platform"}),
    "composer": frozenset({"-d", "--working-dir"}),
    "conda": frozenset({"-c", "--channel", "-n", "--name", "-p", "--prefix", "--file", "--override-channels-none"}),
    "go": frozenset({"-o", "-ldflags", "-gcflags", "-tags", "-mod", "-modfile", "-p", "-buildmode", "-trimpath-none", "-C", "-pkgdir", "-toolexec", "-asmflags"}),
    "bundle": frozenset({"--path", "--gemfile", "--jobs", "-j", "--retry", "--without", "--with", "--deployment-none"}),
    "cargo": frozenset({"--root", "--version", "--git", "--branch", "--tag", "--rev", "--path", "--target", "--features", "-F", "--profile", "-j", "--jobs", "--registry", "--index", "--bin", "--example"}),
}  # fmt: skip

_TOOLS = {
    "apt-get": "apt", "apt": "apt", "aptitude": "apt",
    "apk": "apk",
    "npm": "npm", "yarn": "yarn", "yarnpkg": "yarn", "pnpm": "pnpm",
    "yum": "dnf", "dnf": "dnf", "microdnf": "dnf", "tdnf": "dnf", "dnf5": "dnf",
    "zypper": "zypper",
    "gem": "gem",
    "composer": "composer", "composer.phar": "composer",
    "conda": "conda", "mamba": "conda", "micromamba": "conda",
    "go": "go",
    "bundle": "bundle", "bundler": "bundle",
    "cargo": "cargo",
}  # fmt: skip

# "add" installs only for these; for apt it is not a command at all.
_ADD_INSTALLS = frozenset({"apk", "npm", "yarn", "pnpm", "pip", "composer"})
_ACTION_ALIASES = {
    "i": "install", "in": "install", "isntall": "install",
    "rm": "remove", "del": "remove", "uninstall": "remove", "erase": "remove", "purge": "remove",
    "up": "update", "ref": "refresh", "cc": "clean", "clean-deps": "clean",
    "ci": "ci", "dist-upgrade": "dist-upgrade", "full-upgrade": "dist-upgrade", "dup": "dist-upgrade",
}  # fmt: skip


@dataclass(slots=True)
class PackageOp:
    manager: str  # apt, apk, pip, npm, yarn, pnpm, dnf, zypper, gem, composer, conda, go...
    tool: str  # the program as invoked: apt-get, pip3, microdnf, uv...
    action: str  # normalised: install, update, upgrade, dist-upgrade, remove, clean, ci...
    raw_action: str
    packages: list[Word]
    options: list[str]
    command: Command
    subaction: str = ""  # the word after the action, e.g. "clean" in "npm cache clean"

    def has(self, *names: str) -> bool:
        """True if any option is one of ``names`` (``--opt`` also matches ``--opt=value``,
        and a short flag matches inside a cluster such as ``-qy``)."""
        for opt in self.options:
            for name in names:
                if opt == name or (name.startswith("--") and opt.startswith(name + "=")):
                    return True
                if (
                    len(name) == 2
                    and name[0] == "-"
                    and name[1] != "-"
                    and opt.startswith("-")
                    and not opt.startswith("--")
                    and name[1] in opt[1:]
                    and "=" not in opt
                ):
                    return True
        return False

    def value(self, name: str) -> str | None:
        """The value of ``--name=value`` or ``--name value``."""
        for i, opt in enumerate(self.options):
            if opt.startswith(name + "="):
                return opt[len(name) + 1 :]
            if (
                opt == name
                and i + 1 < len(self.options)
                and not self.options[i + 1].startswith("-")
            ):
                return self.options[i + 1]
        return None

    def values(self, name: str) -> list[str]:
        out = []
        for i, opt in enumerate(self.options):
            if opt.startswith(name + "="):
                out.append(opt[len(name) + 1 :])
            elif (
                opt == name
                and i + 1 < len(self.options)
                and not self.options[i + 1].startswith("-")
            ):
                out.append(self.options[i + 1])
        return out


def package_op(command: Command) -> PackageOp | None:
    """Recognise a package-manager invocation, or None."""
    words = command.unwrapped()
    if not words:
        return None
    prog = basename(words[0].text)
    rest = words[1:]
    tool = prog
    manager = _TOOLS.get(prog)
    if manager is None:
        if _PIP.match(prog):
            manager = "pip"
        elif (
            _PYTHON.match(prog)
            and len(rest) >= 2
            and rest[0].text == "-m"
            and _PIP.match(rest[1].text)
        ):
            manager, tool, rest = "pip", f"{prog} -m pip", rest[2:]
        elif prog == "uv" and rest and rest[0].text == "pip":
            manager, tool, rest = "pip", "uv pip", rest[1:]
        elif prog in ("pipx", "poetry", "pipenv"):
            manager = "pip"
        elif (
            prog.startswith("php")
            and rest
            and basename(rest[0].text) in ("composer", "composer.phar")
        ):
            manager, tool, rest = "composer", f"{prog} {rest[0].text}", rest[1:]
        else:
            return None
    value_opts = _VALUE_OPTIONS.get(manager, frozenset())
    options: list[str] = []
    positional: list[Word] = []
    i = 0
    while i < len(rest):
        t = rest[i].text
        if t.startswith("-") and t not in ("-",):
            options.append(t)
            if t in value_opts and i + 1 < len(rest):
                options.append(rest[i + 1].text)
                i += 1
        else:
            positional.append(rest[i])
        i += 1
    if manager == "go" and positional and positional[0].text == "mod":
        positional = positional[1:]
        action_word = "mod-" + (positional[0].text if positional else "")
        return PackageOp(manager, tool, action_word, action_word, positional[1:], options, command)
    if not positional:
        return PackageOp(manager, tool, "", "", [], options, command)
    raw_action = positional[0].text
    action = _ACTION_ALIASES.get(raw_action, raw_action)
    if manager == "npm" and raw_action == "ci":
        action = "ci"
    if raw_action == "add" and manager in _ADD_INSTALLS:
        action = "install"
    packages = positional[1:]
    subaction = ""
    if action in ("cache", "clean") and packages:
        subaction = packages[0].text
    return PackageOp(manager, tool, action, raw_action, packages, options, command, subaction)


_RPM_VERSION = re.compile(r"-\d[\w.+~^]*(?:-[\w.+~^]*\d[\w.+~^]*)?$")
_RPM_ARCH = re.compile(r"\.(?:x86_64|aarch64|noarch|i686|ppc64le|s390x|armv7hl)$")


def package_name(manager: str, text: str) -> str:
    """A package word as the bare package name: ``gcc=4:12.2.0-3`` -> ``gcc``."""
    name = text.strip().lower()
    if manager == "apt":
        name = re.split(r"[=/]", name, maxsplit=1)[0].split(":", 1)[0]
    elif manager == "apk":
        name = re.split(r"[=<>~@]", name, maxsplit=1)[0]
    elif manager in ("dnf", "zypper"):
        name = re.split(r"[=<>]", name, maxsplit=1)[0].strip()
        name = _RPM_ARCH.sub("", name)
        stripped = _RPM_VERSION.sub("", name)
        name = stripped or name
    elif manager == "pip":
        name = re.split(r"[=<>!~\[;@ ]", name, maxsplit=1)[0].replace("_", "-")
    return name
