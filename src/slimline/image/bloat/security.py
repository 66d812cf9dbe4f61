"""security: private keys and credentials in any layer of the image.

Secrets are recognised by their content, read from files whose names make them candidates
(keys, `.env` files, the dotfiles where tools keep tokens); a file named like a key that holds
a public key or a certificate is not a finding. Findings name the file and the kind of secret,
never the secret itself.

Every layer ships with the image, so a secret that a later layer deleted or overwrote is still
there for anyone who pulls it (`docker save` and a tar tool are enough): SLI052 reports those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from slimline.findings import Practice, Severity
from slimline.image.bloat import Detector, listing
from slimline.image.bloat.context import FILE, HARDLINK, BloatContext
from slimline.image.files import ImageFiles
from slimline.image.model import ImageFinding

# ---- which files are candidates (called for every regular file of every layer: cheap) --------

_KEY_NAMES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
)
_KEY_SUFFIXES = (".pem", ".key", ".p8", ".ppk", ".pk8")
_ENV_TEMPLATES = frozenset({"example", "sample", "template", "tpl", "dist", "defaults", "schema"})
# base name -> the end of the path that makes it a credential file ("" for the name alone)
_CREDENTIAL_FILES: Mapping[str, str] = {
    ".npmrc": "",
    ".pypirc": "",
    ".netrc": "",
    "_netrc": "",
    ".git-credentials": "",
    ".env": "",
    "credentials": ".aws/credentials",
    "config.json": ".docker/config.json",
    "config": ".kube/config",
    "hosts.yml": "gh/hosts.yml",
}


def is_candidate(path: str) -> bool:
    """Whether the bytes of `path` should be read to look for a secret."""
    name = path[path.rfind("/") + 1 :]
    if name in _KEY_NAMES or name.endswith(_KEY_SUFFIXES):
        return True
    tail = _CREDENTIAL_FILES.get(name)
    if tail is not None:
        return not tail or path.endswith(tail)
    if name.startswith(".env."):
        return name[5:].lower() not in _ENV_TEMPLATES
    return "/.ssh/" in path or path.startswith(".ssh/") or path.startswith("etc/ssl/private/")


# ---- what counts as published software, not a secret of this image -------------------------

_FIXTURE_DIRS = frozenset(
    {"test", "tests", "testdata", "test_data", "fixtures", "examples", "example"}
)
_SOFTWARE_MARKERS = ("site-packages/", "dist-packages/", "node_modules/", "gems/", "pkg/mod/")


def is_published_fixture(path: str) -> bool:
    """Test and example keys that libraries ship (Python's test suite, node modules' fixtures,
    Go modules' testdata): public by definition, since anyone can download the package."""
    parts = path.split("/")
    if not _FIXTURE_DIRS.intersection(parts[:-1]):
        return False
    return path.startswith(("usr/share/doc/", "usr/lib/", "usr/local/lib/")) or any(
        marker in path for marker in _SOFTWARE_MARKERS
    )


# ---- recognising secrets in a file's bytes --------------------------------------------------

_PRIVATE_KEY = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----")
_PUTTY_KEY = re.compile(rb"^PuTTY-User-Key-File-\d+:", re.MULTILINE)
_KEY_LABELS = {
    "": "private key (PKCS#8)",
    "RSA": "RSA private key",
    "EC": "EC private key",
    "DSA": "DSA private key",
    "OPENSSH": "OpenSSH private key",
    "ENCRYPTED": "passphrase-protected private key (PKCS#8)",
    "PGP": "PGP private key",
}
_SECRET_KEY_NAME = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH|"
    r"CREDENTIALS?|CLIENT_SECRET|DSN)(?:$|_)",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"^(?:\$|<|\{\{|%\(|x+$|\*+$|\.\.\.$|changeme$|change_me$|todo$|null$|none$|"
    r"your[_-].*|replace[_-]?me$)",
    re.IGNORECASE,
)
_ENV_LINE = re.compile(
    r"^[ \t]*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*(.*?)[ \t]*$", re.MULTILINE
)
# well-known token shapes, looked for in every candidate file
_TOKENS = (
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Stripe secret key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}\b")),
    ("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("PyPI token", re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}")),
)


def _value(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def _real(value: str) -> bool:
    """A literal secret, not an empty value, a variable reference or a placeholder."""
    value = _value(value)
    return bool(value) and not _PLACEHOLDER.match(value)


def _assignments(text: str, key: re.Pattern[str]) -> bool:
    return any(key.search(m.group(1)) and _real(m.group(2)) for m in _ENV_LINE.finditer(text))


_NPM_AUTH = re.compile(
    r"^[ \t]*(?:\S*:)?_(?:authToken|auth|password)[ \t]*=[ \t]*(.*?)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)


_INI_PASSWORD = re.compile(r"^[ \t]*password[ \t]*[=:][ \t]*(.+)$", re.MULTILINE | re.IGNORECASE)
_NETRC_PASSWORD = re.compile(r"\bpassword\s+(\S+)")
_URL_CREDENTIALS = re.compile(r"^[ \t]*[a-z][a-z0-9+.-]*://[^:/@\s]+:[^@\s]+@", re.MULTILINE)
_DOCKER_AUTH = re.compile(r'"(?:auth|identitytoken|registrytoken)"\s*:\s*"[^"]+"')
_AWS_SECRET = re.compile(
    r"^[ \t]*aws_(?:secret_access_key|session_token)[ \t]*=[ \t]*(.+)$", re.MULTILINE
)
_KUBE_SECRET = re.compile(
    r"^[ \t]*(?:client-key-data|token|password)[ \t]*:[ \t]*(\S+)", re.MULTILINE
)
_GH_TOKEN = re.compile(r"^[ \t]*oauth_token[ \t]*:[ \t]*(\S+)", re.MULTILINE)


def _any_real(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: any(_real(m.group(1)) for m in pattern.finditer(text))


def _found(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: pattern.search(text) is not None


def _env(text: str) -> bool:
    return _assignments(text, _SECRET_KEY_NAME)


# (label, does the path name this kind of file, does the text hold a literal credential)
_CREDENTIAL_KINDS: tuple[tuple[str, Callable[[str], bool], Callable[[str], bool]], ...] = (
    ("npm token", lambda p: p.endswith(".npmrc"), _any_real(_NPM_AUTH)),
    ("PyPI password", lambda p: p.endswith(".pypirc"), _any_real(_INI_PASSWORD)),
    ("netrc password", lambda p: p.endswith("netrc"), _any_real(_NETRC_PASSWORD)),
    ("git credentials", lambda p: p.endswith(".git-credentials"), _found(_URL_CREDENTIALS)),
    ("registry credentials", lambda p: p.endswith(".docker/config.json"), _found(_DOCKER_AUTH)),
    ("AWS credentials", lambda p: p.endswith(".aws/credentials"), _any_real(_AWS_SECRET)),
    ("Kubernetes credentials", lambda p: p.endswith(".kube/config"), _any_real(_KUBE_SECRET)),
    ("GitHub CLI token", lambda p: p.endswith("gh/hosts.yml"), _any_real(_GH_TOKEN)),
    ("secrets in .env", lambda p: "/.env" in "/" + p, _env),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SecretHit:
    path: str
    layer: int
    kinds: tuple[str, ...]
    is_key: bool
    in_final: bool  # this copy is the one the final image shows


def recognise(path: str, data: bytes) -> tuple[tuple[str, ...], bool]:
    """The kinds of secrets in `data`, and whether one is a private key."""
    kinds: list[str] = []
    for match in _PRIVATE_KEY.finditer(data):
        words = match.group(1).decode().split()
        label = _KEY_LABELS.get(words[0] if words else "", "private key")
        if b"Proc-Type: 4,ENCRYPTED" in data[match.end() : match.end() + 200]:
            label = "passphrase-protected " + label
        kinds.append(label)
    if _PUTTY_KEY.search(data):
        kinds.append("PuTTY private key")
    is_key = bool(kinds)
    text = data.decode("utf-8", "replace")
    kinds.extend(
        label for label, names_it, holds in _CREDENTIAL_KINDS if names_it(path) and holds(text)
    )
    kinds.extend(label for label, pattern in _TOKENS if pattern.search(text))
    return tuple(dict.fromkeys(kinds)), is_key


def captured_files(files: ImageFiles) -> Mapping[int, Mapping[str, bytes]]:
    """The captured bytes of every layer (also of files a later layer hides)."""
    return files.layer_contents()


def find_secrets(context: BloatContext) -> list[SecretHit]:
    """Every copy, in any layer, of a candidate file that holds a secret (memoised per context)."""

    def scan() -> list[SecretHit]:
        final = context.files.files
        owned = context.owned
        hits = []
        for layer, contents in sorted(captured_files(context.files).items()):
            for path, data in contents.items():
                if not is_candidate(path) or path in owned or is_published_fixture(path):
                    continue
                kinds, is_key = recognise(path, data)
                if not kinds:
                    continue
                record = final.get(path)
                in_final = (
                    record is not None and record.layer == layer and record.kind in (FILE, HARDLINK)
                )
                hits.append(SecretHit(path, layer, kinds, is_key, in_final))
        return hits

    return context.memo("secrets", scan)


def _described(hits: list[SecretHit]) -> str:
    return listing([f"/{hit.path} ({', '.join(hit.kinds)})" for hit in hits])


class PrivateKeys(Detector):
    """A private key is in the image.

    Why: anyone who can pull the image can read every file in it. A TLS or SSH private key
    in an image is shared by every container and every copy of the image, cannot be rotated
    without a rebuild and is as good as published.

    Catches: files whose content holds a PEM private key (`-----BEGIN ... PRIVATE KEY-----`:
    PKCS#1, PKCS#8, EC, DSA, OpenSSH, PGP), or a PuTTY key, among files named like keys
    (`*.pem`, `*.key`, `*.p8`, `*.ppk`, `id_rsa`, `id_ed25519`...) or under `.ssh/` and
    /etc/ssl/private. Public keys and certificates with the same names are left alone. The
    snakeoil key that Debian's ssl-cert package generates at install time is reported: it is a
    real key, the same in every container of the image.

    Leaves alone: keys that an installed package lists in its files (published with the
    package), and keys in test, fixture and example directories of libraries (Python's test
    suite, node_modules, site-packages, Go's module cache): public test data. Keys stored
    under other names are not seen: file contents are only read for candidate names.

    Fix: remove the key from the image and rotate it; mount keys at run time (secrets,
    volumes) and use `RUN --mount=type=secret` for keys a build step needs.
    """

    id = "SLI050"
    name = "private-key"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    title = "private key in the image"
    refs = ("SL005", "CIS-DI-0010")

    def wants(self, path: str) -> bool:
        return is_candidate(path)

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        hits = [hit for hit in find_secrets(context) if hit.in_final and hit.is_key]
        if not hits:
            return
        yield self.risk(
            context,
            [hit.path for hit in hits],
            f"private keys in the image: {_described(hits)}; anyone who pulls the image can "
            "read them: remove and rotate them, mount keys at run time and use "
            "`RUN --mount=type=secret` in builds",
        )


class Credentials(Detector):
    """A credential (token, password, access key) is in the image.

    Why: anyone who can pull the image can read it. Registry tokens in `.npmrc` or
    `.docker/config.json`, passwords in `.pypirc` or `.netrc`, cloud keys in
    `.aws/credentials` or a `.env` file give access to whatever they guard.

    Catches: literal values (not empty, not `${VAR}` references, not placeholders) of
    `_authToken`/`_auth`/`_password` in `.npmrc`, `password` in `.pypirc` and `.netrc`,
    `user:password@` URLs in `.git-credentials`, `auth`/`identitytoken` in
    `.docker/config.json`, `aws_secret_access_key` in `.aws/credentials`, keys and tokens in
    `.kube/config` and gh's `hosts.yml`, variables named like secrets (`*_PASSWORD`, `*_TOKEN`,
    `*_SECRET`, `API_KEY`...) in `.env` and `.env.*`; and well-known token shapes (AWS access
    key ids, GitHub, GitLab, Slack, Stripe, npm and PyPI tokens, Google API keys) in any of
    these files.

    Leaves alone: `.env.example`, `.env.sample`, `.env.template` and the like; files that an
    installed package lists.

    Fix: remove the file and rotate the credential; pass credentials at run time (environment
    from a secret store, mounted files) and to builds with `RUN --mount=type=secret`.
    """

    id = "SLI051"
    name = "credentials"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    title = "credentials in the image"
    refs = ("SL005", "CIS-DI-0010")

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        hits = [hit for hit in find_secrets(context) if hit.in_final and not hit.is_key]
        if not hits:
            return
        yield self.risk(
            context,
            [hit.path for hit in hits],
            f"credentials in the image: {_described(hits)}; anyone who pulls the image can "
            "read them: remove and rotate them, and pass credentials at run time or with "
            "`RUN --mount=type=secret`",
        )


class SecretsInLowerLayers(Detector):
    """A secret deleted or overwritten by a later layer is still in the image.

    Why: `RUN rm id_rsa` after `COPY id_rsa` hides the file from the container but not from
    the image: the layer that added it ships with every pull, and extracting it takes a
    `docker save` and a tar tool.

    Catches: the private keys and credentials that SLI050 and SLI051 recognise, in a copy that
    a later layer deleted or replaced, when the final image's copy (if any) holds no secret.

    Fix: rotate the secret (it has been published with the image) and rebuild so that it
    never lands in a layer: `RUN --mount=type=secret` for build steps that need it, or a
    build stage whose files are not copied into the final image.
    """

    id = "SLI052"
    name = "secret-in-lower-layer"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    title = "secret deleted in a later layer but still in the image"
    refs = ("SL005", "SL602")

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        hits = find_secrets(context)
        shown = {hit.path for hit in hits if hit.in_final}
        hidden = [hit for hit in hits if not hit.in_final and hit.path not in shown]
        if not hidden:
            return
        described = listing(
            [f"/{hit.path} ({', '.join(hit.kinds)}, layer {hit.layer})" for hit in hidden]
        )
        yield self.risk(
            context,
            [hit.path for hit in hidden],
            f"secrets that a later layer deleted or overwrote are still in the image: "
            f"{described}; deleting a file in a later layer does not remove it from the layer "
            "that added it: rotate them and rebuild with `RUN --mount=type=secret` or a build "
            "stage",
            layers=[hit.layer for hit in hidden],
        )
