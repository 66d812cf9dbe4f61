"""security: the root user, secrets in ENV/ARG/RUN/COPY, unverified downloads, TLS and
signature checks turned off, whole-system upgrades, world-writable files."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.shell import SHELLS, Command, Word, basename
from slimline.dockerfile.stages import Stage, substitute
from slimline.findings import Finding, Practice, Severity

if TYPE_CHECKING:
    from slimline.dockerfile.fixes import FixContext, FixResult


# ---------------------------------------------------------------------------------------------
# ENV / ARG / LABEL pairs with their positions


@dataclass(frozen=True, slots=True)
class _Pair:
    """One ``NAME=value`` (or a bare ``NAME``) of an ENV, ARG or LABEL instruction."""

    instruction: Instruction
    name: str
    value: str  # quotes and escapes removed; empty for ``ARG X``
    start: int  # offsets into instruction.args
    end: int


def _words_with_offsets(text: str, escape: str) -> list[tuple[str, int, int]]:
    """Split on unquoted whitespace, keeping each word's raw text and offsets."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        quote = ""
        while i < n:
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == escape and quote == '"' and i + 1 < n:
                    i += 1
            elif ch in "'\"":
                quote = ch
            elif ch == escape and i + 1 < n:
                i += 1
            elif ch.isspace():
                break
            i += 1
        out.append((text[start:i], start, i))
    return out


def _unquote(raw: str, escape: str = "\\") -> str:
    out: list[str] = []
    quote = ""
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote == '"' and i + 1 < n and raw[i + 1] in ('"', escape, "$"):
                i += 1
                out.append(raw[i])
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == escape and i + 1 < n:
            i += 1
            out.append(raw[i])
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _pairs(ins: Instruction, escape: str) -> list[_Pair]:
    """The name/value pairs of an ENV, ARG or LABEL instruction (also under ONBUILD)."""
    kw = (ins.onbuild or ins).keyword
    if kw not in ("ENV", "ARG", "LABEL"):
        return []
    args = ins.args
    shift = 0
    if ins.onbuild is not None:
        m = re.match(r"\S+\s+", args)  # the wrapped keyword
        if m is None:
            return []
        shift = m.end()
        args = args[shift:]
    words = _words_with_offsets(args, escape)
    if not words:
        return []
    if kw in ("ENV", "LABEL") and "=" not in words[0][0]:
        # The legacy form: ``ENV NAME value with spaces``.
        name, start, _ = words[0]
        rest = args[words[1][1] :].strip() if len(words) > 1 else ""
        return [_Pair(ins, name, _unquote(rest, escape), shift + start, shift + len(args.rstrip()))]
    out: list[_Pair] = []
    for raw, start, end in words:
        name, _, value = raw.partition("=")
        out.append(
            _Pair(
                ins,
                _unquote(name, escape),
                _unquote(value, escape),
                shift + start,
                shift + end,
            )
        )
    return out


def _pair_finding(
    rule: Rule, ctx: CheckContext, pair: _Pair, message: str, severity: Severity | None = None
) -> Finding:
    span = pair.instruction.args_span(pair.start, pair.end)
    return rule.at_offsets(ctx, span.offset, span.end_offset, message, severity=severity)


def _assignment_instructions(ctx: CheckContext) -> Iterator[Instruction]:
    for ins in ctx.doc.instructions:
        if (ins.onbuild or ins).keyword in ("ENV", "ARG"):
            yield ins


def _chain_instructions(ctx: CheckContext) -> Iterator[Instruction]:
    for stage in ctx.target_chain:
        yield from stage.instructions


_VAR_REF = re.compile(r"\$(?:\{|[A-Za-z_])")
_VAR_NAMES = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")


def _is_var_ref(text: str) -> bool:
    return _VAR_REF.search(text) is not None


_VAR_SPANS = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _built_from_refs(text: str) -> bool:
    """Whether a value is made of variable references (``${USER}:${PASS}``, ``key-$ENV``)
    rather than a literal that happens to contain a ``$`` (``abc$uyc)hf_3rv@!a95n...``, a
    generated Django key): what is left around the references is too short to be a secret."""
    if not _is_var_ref(text):
        return False
    rest = _VAR_SPANS.sub("", text)
    return len(re.sub(r"[^A-Za-z0-9]", "", rest)) < 8 or _placeholder(rest)


def _resolve(ctx: CheckContext, ins: Instruction, text: str) -> str | None:
    """``text`` with the ENV/ARG values in effect at ``ins`` substituted; None if unknown."""
    if "$" not in text:
        return text
    try:
        env: dict[str, str | None] = dict(ctx.env_before(ins))
    except KeyError:
        return None
    value, resolved = substitute(text, env)
    return value if resolved and "$" not in value else None


def _dedupe(findings: Iterable[Finding]) -> Iterator[Finding]:
    """``sh -c "$(...)"`` puts a command in both the outer and the inner script."""
    seen: set[tuple[int, int, str]] = set()
    for f in findings:
        key = (f.line, f.column, f.message)
        if key not in seen:
            seen.add(key)
            yield f


def _argv(command: Command) -> tuple[str, list[Word]]:
    """The program name and words with wrappers (sudo, env...) and ``busybox`` removed."""
    words = command.unwrapped()
    if not words:
        return "", []
    prog = basename(words[0].text)
    if prog == "busybox" and len(words) > 1:
        words = words[1:]
        prog = basename(words[0].text)
    return prog, words


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _args_word_offsets(ins: Instruction, word: str) -> tuple[int, int]:
    """Source offsets of ``word`` in the instruction's arguments (the keyword if not found)."""
    i = ins.args.find(word) if word else -1
    if i < 0:
        return ins.span.offset, ins.span.offset + len(ins.keyword)
    span = ins.args_span(i, i + len(word))
    return span.offset, span.end_offset


# ---------------------------------------------------------------------------------------------
# Secrets: which names hold one, which values are one

# Tokens that make a name secret on their own (``DB_PASSWORD``, ``NPM_TOKEN``).
_SECRET_TOKENS = frozenset(
    {
        "password", "passwd", "passphrase", "secret", "secrets", "token", "credential",
        "credentials", "creds", "apikey", "privatekey", "secretkey", "accesskey", "authkey",
        "authtoken", "accesstoken", "refreshtoken", "clientsecret", "masterkey",
    }
)  # fmt: skip
# Abbreviations that are secret only next to another token: ``DB_PASS``, but ``PWD`` alone
# is the working directory.
_SECRET_ABBREVIATIONS = frozenset({"pass", "pwd", "pw", "pword"})
# ``KEY`` is secret only after one of these: ``API_KEY``, ``SECRET_KEY``, but not ``GPG_KEY``
# (a public key fingerprint in many docker-library images) or ``REPO_KEY``.
_KEY_QUALIFIERS = frozenset(
    {
        "api", "access", "private", "secret", "auth", "encryption", "encrypt", "master", "app",
        "session", "client", "account", "storage", "shared", "hmac", "jwt", "license",
        "subscription", "admin", "service", "crypt", "cipher", "aes", "cookie", "webhook",
    }
)  # fmt: skip
# A token anywhere in the name that says the value is public, or a checksum.
_PUBLIC_TOKENS = frozenset(
    {
        "gpg", "pgp", "gnupg", "gpgkey", "gpgkeys", "pgpkey", "pgpkeys", "public", "pub",
        "publishable", "anon", "fingerprint", "fingerprints", "keyring", "keyserver", "keyid",
        "sha", "sha1", "sha256", "sha512", "checksum", "md5", "hash", "tokenizer", "tokenizers",
    }
)  # fmt: skip
# A last token that makes the variable *about* a secret rather than the secret itself:
# ``PASSWORD_FILE``, ``TOKEN_URL``, ``AWS_ACCESS_KEY_ID``, ``SECRET_KEY_LENGTH``.
_NON_VALUE_SUFFIXES = frozenset(
    {
        "id", "ids", "file", "files", "path", "paths", "dir", "directory", "url", "uri", "urls",
        "endpoint", "host", "hostname", "port", "name", "names", "type", "types", "length",
        "len", "size", "version", "ver", "env", "var", "header", "prefix", "policy", "mode",
        "method", "format", "alg", "algorithm", "ttl", "expiry", "expires", "expiration",
        "lifetime", "timeout", "location", "ref", "arn", "enabled", "enable", "required",
        "disabled", "min", "max", "count", "user", "username", "owner", "field", "command",
        "cmd", "script", "provider", "source", "store", "backend", "manager", "rotation",
        "interval", "seconds", "secs", "minutes", "days", "hours", "duration", "limit",
        "retries", "audience", "issuer", "scope", "scopes", "class", "module", "plugin",
        "strategy", "cache", "region", "prompt", "message", "msg", "hint", "label", "text",
        "help", "description", "desc", "title", "check", "checks", "vault", "mount", "volume",
        "keyring", "helper", "namespace", "complexity", "reset", "folder", "bucket",
    }
)  # fmt: skip

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _name_tokens(name: str) -> list[str]:
    """``AWS_SECRET_ACCESS_KEY`` -> aws, secret, access, key; ``apiKey`` -> api, key."""
    tokens: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        if part:
            tokens += [t.lower() for t in _CAMEL.findall(part)]
    return tokens


def _is_public_name(name: str) -> bool:
    return any(t in _PUBLIC_TOKENS for t in _name_tokens(name))


def _is_secret_name(name: str) -> bool:
    """Whether a variable called ``name`` holds a credential, judged on whole name tokens."""
    tokens = _name_tokens(name)
    if not tokens or tokens[-1] in _NON_VALUE_SUFFIXES:
        return False
    if any(t in _PUBLIC_TOKENS for t in tokens):
        return False
    for i, t in enumerate(tokens):
        if t in _SECRET_TOKENS:
            return True
        if t in _SECRET_ABBREVIATIONS and len(tokens) > 1:
            return True
        if t in ("key", "keys") and i > 0 and tokens[i - 1] in _KEY_QUALIFIERS:
            return True
    return False


# Values that say "fill this in", and well-known defaults: neither is a leaked secret.
_PLACEHOLDERS = frozenset(
    {
        "changeme", "changeit", "changethis", "replaceme", "replace", "replacethis",
        "placeholder", "example", "sample", "dummy", "fake", "test", "testing", "dev",
        "development", "local", "demo", "foo", "bar", "foobar", "baz", "todo", "tbd", "fixme",
        "none", "null", "nil", "undefined", "unset", "notset", "empty", "default", "secret",
        "secrets", "password", "passwd", "pass", "pwd", "token", "apikey", "key", "value",
        "redacted", "hidden", "masked", "mysecret", "mypassword", "mytoken", "notsecret",
        "notasecret", "setme", "overrideme", "required", "optional", "unused", "disabled",
        "true", "false", "yes", "no", "on", "off", "root", "admin", "administrator", "guest",
        "user", "username", "postgres", "mysql", "mariadb", "redis", "mongo", "mongodb",
        "rabbitmq", "docker", "ubuntu", "debian", "jenkins", "app", "secretkey",
        "secretpassword", "supersecret", "qwerty", "letmein", "insecure",
    }
)  # fmt: skip
_PLACEHOLDER_MARKS = (
    "changeme", "change_me", "change-me", "replace_me", "replace-me", "replaceme",
    "placeholder", "example", "dummy", "fake", "sample", "insecure", "notsecret",
    "not-secret", "not_secret", "notreal", "not-real", "not_real", "for-build", "for_build",
    "build-only", "buildtime", "build-time", "your_", "your-", "xxxx", "****", "....", "<",
    "{{", "[[", "%%", "todo",
)  # fmt: skip


def _placeholder(value: str) -> bool:
    low = value.lower().strip()
    norm = re.sub(r"[^a-z0-9]", "", low)
    if not norm or norm in _PLACEHOLDERS or len(set(norm)) == 1:
        return True
    if low.startswith(("your", "my-", "my_")) or (low[:1], low[-1:]) in (("{", "}"), ("[", "]")):
        return True
    return any(mark in low for mark in _PLACEHOLDER_MARKS)


_URL_NO_CREDS = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^@\s]*$")
_NUMBER_OR_BOOL = re.compile(r"(?i)^(?:\d{1,5}|true|false|yes|no|on|off|y|n)$")


def _not_a_secret(value: str) -> bool:
    """Values that cannot be a leaked credential, whatever they are called."""
    v = value.strip()
    if len(v) < 3 or _built_from_refs(v) or _placeholder(v) or _NUMBER_OR_BOOL.match(v):
        return True
    if v.startswith(("/", "./", "../", "~/")) or re.match(r"^[A-Za-z]:[\\/]", v):
        return True  # a path: where the secret is, not the secret
    return _URL_NO_CREDS.match(v) is not None


# Shapes of real credentials, each specific enough to need no variable name.
_JWT = "a JSON web token"
_TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,})")),
    ("a GitLab token", re.compile(r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe secret key", re.compile(r"(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{16,}")),
    ("a Google API key", re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")),
    ("an npm token", re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    ("a PyPI token", re.compile(r"(?<![A-Za-z0-9_])pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}")),
    ("a Hugging Face token", re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z]{34}(?![A-Za-z0-9])")),
    ("an OpenAI key", re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}")),
    ("an Anthropic key", re.compile(r"(?<![A-Za-z0-9_-])sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}")),
    ("a Telegram bot token", re.compile(r"(?<![0-9])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])")),
    ("a SendGrid key", re.compile(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")),
    (_JWT, re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}")),
)  # fmt: skip
# Every shape contains one of these: a cheap test before the regular expressions.
_SHAPE_HINTS = (
    "PRIVATE KEY", "AKIA", "ASIA", "ABIA", "ACCA", "gh", "github_pat_", "glpat-", "xox",
    "k_live_", "AIza", "npm_", "pypi-", "hf_", "sk-", "SG.", "eyJ", ":AA",
)  # fmt: skip


def _token_shape(text: str, name: str = "") -> str | None:
    """Which well-known kind of credential ``text`` contains, if any."""
    if len(text) < 20 or not any(h in text for h in _SHAPE_HINTS):
        return None
    for label, pattern in _TOKEN_SHAPES:
        m = pattern.search(text)
        if m is None or "EXAMPLE" in m.group().upper():
            continue
        if name and label != "a private key" and _is_public_name(name):
            continue  # meant for browsers: NEXT_PUBLIC_..., Supabase's ANON_KEY
        return label
    return None


_URL_CREDS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)://([^/\s:@]+)(?::([^/\s@]*))?@[^\s]")


def _url_credentials(text: str) -> str | None:
    """What credential a URL in ``text`` carries (``https://user:password@host``), or None.

    A password that is a variable, a placeholder, a well-known default or the user name
    again is not reported, nor is a lone user name; a long token-like user
    (``https://<token>@github.com``) is."""
    if "://" not in text or "@" not in text:
        return None
    for m in _URL_CREDS.finditer(text):
        user, password = m.group(2), m.group(3)
        if password is None:
            if (
                len(user) >= 20
                and re.search(r"\d", user)
                and re.search(r"[A-Za-z]", user)
                and not _is_var_ref(user)
                and not _placeholder(user)
            ):
                return "a token in a URL"
            continue
        if not password or password == user or _not_a_secret(password):
            continue
        return "a password in a URL"
    return None


def _secret_in_value(name: str, value: str) -> str | None:
    """Why the value given to ``name`` is a leaked secret, or None."""
    shape = _token_shape(value, name)
    if shape:
        return shape
    creds = _url_credentials(value)
    if creds:
        return creds
    if _is_secret_name(name) and not _not_a_secret(value):
        return "a literal value"
    return None


class SecretInEnv(Rule):
    """A secret written into ENV, ARG or LABEL: a literal value, or a build arg copied into ENV.

    Why: ENV and LABEL values are stored in the image configuration, readable by anyone who
    can pull the image (`docker inspect`); ARG defaults are recorded in the image history;
    and every literal also sits in the Dockerfile's repository. Runtime secrets belong in the
    runtime environment (`docker run -e`, an orchestrator's secrets); build-time ones in a
    `RUN --mount=type=secret` mount, which leaves nothing behind.

    Catches, in every stage (a literal leaks through the repository whatever the stage):
    - a variable whose name says it is a credential, given a literal value. Names are split
      into tokens (at `_`, `-`, `.` and camelCase) and matched whole: PASSWORD, PASSWD,
      PASSPHRASE, SECRET, TOKEN, CREDENTIALS, and KEY after API, ACCESS, PRIVATE, SECRET,
      AUTH, ENCRYPTION, MASTER, APP, CLIENT... (`DB_PASSWORD`, `NPM_TOKEN`,
      `AWS_SECRET_ACCESS_KEY`, `apiKey`, `SECRET_KEY_BASE`);
    - a value of any name with the shape of a well-known credential: AWS access key ids,
      GitHub, GitLab, Slack, Stripe, npm, PyPI, Hugging Face, OpenAI, Anthropic, SendGrid,
      Telegram tokens, Google API keys, PEM private keys, JSON web tokens (unless the name
      says the value is public: `NEXT_PUBLIC_*`, `*_ANON_KEY`); a password inside a URL
      (`postgres://app:s3cret@db/app`); in LABEL values, these shapes only;
    - in the stages of the final image, `ENV NPM_TOKEN=$NPM_TOKEN`: a build arg with a
      secret name copied into the image's environment (unless the ARG's default is a
      placeholder such as `dummy-key-for-build`: a value for build steps that need one).

    Leaves alone: `GPG_KEY`, `GPG_KEYS`, `NGINX_GPGKEY` (public key fingerprints), names ending
    in a token that makes them about a secret (`*_KEY_ID`, `PASSWORD_FILE`, `TOKEN_URL`,
    `SECRET_KEY_LENGTH`), `TOKENIZERS_PARALLELISM`, `PWD`; empty values, values made of
    variable references (`${DB_USER}:${DB_PASS}`; a long literal around a `$` still counts),
    paths (`/run/secrets/db`), URLs without a password, numbers and booleans
    (`ALLOW_EMPTY_PASSWORD=yes`); obvious placeholders (`changeme`, `<your-token>`, `xxxx`,
    `example`, AWS's documented `...EXAMPLE` key) and well-known defaults (`postgres`, `root`,
    `guest`): they leak nothing, and a default credential is a configuration matter. ARGs
    without a default are SL003's. The message never repeats the secret.
    """

    id = "SL002"
    name = "secret-in-env"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ("CIS-DI-0010", "DS-0031")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        escape = ctx.doc.escape
        chain_ids = {id(i) for i in _chain_instructions(ctx)}
        # Build args of the final image that receive their value from outside: no default, or
        # a placeholder one (a real default is reported on the ARG itself).
        outside_args: set[str] = set()
        for ins in ctx.doc.instructions:
            kw = (ins.onbuild or ins).keyword
            if kw not in ("ENV", "ARG", "LABEL"):
                continue
            pairs = _pairs(ins, escape)
            if kw == "ARG" and id(ins) in chain_ids:
                for p in pairs:
                    if not p.value:
                        outside_args.add(p.name)
                    else:
                        outside_args.discard(p.name)
            for pair in pairs:
                if not pair.value:
                    continue
                if kw == "LABEL":
                    reason = _token_shape(pair.value) or _url_credentials(pair.value)
                else:
                    reason = _secret_in_value(pair.name, pair.value)
                if reason:
                    where = "the image history" if kw == "ARG" else "the image configuration"
                    yield _pair_finding(
                        self,
                        ctx,
                        pair,
                        f"{kw} {pair.name} holds a secret ({reason}), stored in {where} and the "
                        "Dockerfile; pass it at run time, or at build time with "
                        "`RUN --mount=type=secret`",
                    )
                elif (
                    kw == "ENV"
                    and id(ins) in chain_ids
                    and _is_secret_name(pair.name)
                    and {a or b for a, b in _VAR_NAMES.findall(pair.value)} & outside_args
                ):
                    yield _pair_finding(
                        self,
                        ctx,
                        pair,
                        f"ENV {pair.name} copies a build arg into the image environment, where "
                        "anyone who pulls the image can read it; use `RUN --mount=type=secret` "
                        "at build time and `docker run -e` at run time",
                    )


class SecretBuildArg(Rule):
    """A build arg named like a secret (`ARG NPM_TOKEN`) in a stage of the final image.

    Why: the value passed with `--build-arg` is recorded in the image history (`docker
    history` shows it in front of the RUN steps that follow), so the token ships with the
    image although the Dockerfile holds no value. A secret mount
    (`RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci`) exposes it to one RUN and
    records nothing.

    Catches: `ARG` with a secret-like name (SL002's name tokens) and no default, or an empty
    one, in the final stage or a stage it is built FROM.

    Leaves alone: ARGs of build stages whose layers do not reach the final image (the
    multi-stage way of keeping a token out of it; it still lands in that stage's build cache);
    ARGs before the first FROM, which only FROM lines can use; names that are not secrets
    (`GPG_KEY`, `TOKEN_URL`, `PASSWORD_FILE`). An ARG with a literal default is SL002's.
    """

    id = "SL003"
    name = "secret-build-arg"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ("DS-0031",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        escape = ctx.doc.escape
        for ins in _chain_instructions(ctx):
            if ins.keyword != "ARG":
                continue
            for pair in _pairs(ins, escape):
                if pair.value or not _is_secret_name(pair.name):
                    continue
                yield _pair_finding(
                    self,
                    ctx,
                    pair,
                    f"build arg {pair.name} looks like a secret: the value passed in is recorded "
                    "in the image history; use "
                    f"`RUN --mount=type=secret,id={pair.name.lower()},env={pair.name}` instead",
                )


# Options whose value is a credential, whatever the program.
_OPTION_SECRETS = frozenset(
    {
        "--password", "--passwd", "--token", "--api-key", "--apikey", "--access-token",
        "--auth-token", "--client-secret", "--http-password", "--ftp-password",
        "--proxy-password", "--secret-key", "--private-token",
    }
)  # fmt: skip
# ``-p`` takes a password for these programs only (elsewhere it is a port, a path...).
_DASH_P_PASSWORD = frozenset({"sshpass", "docker", "podman", "buildah", "skopeo", "helm", "oras"})
_MYSQL_CLIENTS = frozenset(
    {"mysql", "mysqladmin", "mysqldump", "mariadb", "mariadb-admin", "mariadb-dump"}
)
_NPMRC_AUTH = re.compile(r"(?i)(?:^|[\s:])_(?:authtoken|auth|password)\s*=\s*([^\s\"']+)")
_NPMRC_ADVICE = (
    "an npm auth token is written literally, recorded in the image history; mount the .npmrc "
    "with `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc` instead"
)


def _literal_secret_word(word: Word) -> bool:
    return not word.dynamic and word.text != "-" and not _not_a_secret(word.text)


class SecretInRun(Rule):
    """A credential written literally into a RUN command.

    Why: the RUN line is recorded verbatim in the image history (`docker history
    --no-trunc`) and lives in the Dockerfile's repository. Build-time credentials belong in a
    secret mount: `RUN --mount=type=secret,id=token,env=TOKEN ...`.

    Catches, in every stage: the well-known token shapes of SL002 in any word; a password (or
    a long token as the user) in a URL (`git clone https://user:s3cret@host/repo`); a literal
    value for `--password`, `--token`, `--api-key`, `--access-token`, `--client-secret`,
    `--http-password` and the like; `-p <password>` of `docker login`, `sshpass` and similar;
    `mysql -p<password>`; `curl -u user:password`; `htpasswd -b file user <password>`; an
    npm auth token written literally (`_authToken=...`,
    `npm config set //host/:_authToken ...`).

    Leaves alone: values from variables (`--password "$DB_PASSWORD"`: an ARG of the final image
    leaks instead, see SL003), placeholders and well-known defaults (`-proot`, `admin:admin`),
    `--password-stdin`, `--password-file`, and options that take a path.
    """

    id = "SL004"
    name = "secret-in-run"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ("CIS-DI-0010",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from _dedupe(self._check(ctx))

    def _check(self, ctx: CheckContext) -> Iterator[Finding]:
        advice = "recorded in the image history; pass it with `RUN --mount=type=secret` instead"
        for run in ctx.runs:
            for command in run.commands:
                prog, words = _argv(command)
                for i, word in enumerate(words):
                    text = word.text
                    found = _token_shape(text) or _url_credentials(text)
                    if found:
                        yield self.at_command(
                            ctx, command, f"RUN contains {found}, {advice}", word=word
                        )
                    elif i > 0:
                        finding = self._option_secret(ctx, command, prog, words, i, advice)
                        if finding is not None:
                            yield finding

    def _option_secret(
        self, ctx: CheckContext, command: Command, prog: str, words: list[Word], i: int, advice: str
    ) -> Finding | None:
        word = words[i]
        text = word.text
        nxt = words[i + 1] if i + 1 < len(words) else None
        msg = f"`{prog}` is given a literal credential, {advice}"
        opt, eq, value = text.partition("=")
        if opt in _OPTION_SECRETS:
            if eq and not word.dynamic and not _not_a_secret(value):
                return self.at_command(ctx, command, msg, word=word)
            if (
                not eq
                and nxt is not None
                and not nxt.text.startswith("-")
                and _literal_secret_word(nxt)
            ):
                return self.at_command(ctx, command, msg, word=nxt)
            return None
        if (
            text == "-p"
            and prog in _DASH_P_PASSWORD
            and nxt is not None
            and _literal_secret_word(nxt)
        ):
            return self.at_command(ctx, command, msg, word=nxt)
        if (
            prog in _MYSQL_CLIENTS
            and text.startswith("-p")
            and len(text) > 2
            and not word.dynamic
            and not _not_a_secret(text[2:])
        ):
            return self.at_command(ctx, command, msg, word=word)
        if (
            prog == "htpasswd"
            and i == len(words) - 1
            and any(re.fullmatch(r"-[a-zA-Z]*b[a-zA-Z]*", w.text) for w in words[1:i])
            and _literal_secret_word(word)
        ):
            return self.at_command(ctx, command, msg, word=word)  # htpasswd -b file user password
        if prog == "curl" and text in ("-u", "--user", "-U", "--proxy-user") and nxt is not None:
            user, colon, password = nxt.text.partition(":")
            if colon and password != user and not nxt.dynamic and not _not_a_secret(password):
                return self.at_command(ctx, command, msg, word=nxt)
        low = text.lower()
        if "_auth" in low or "_password" in low:
            m = _NPMRC_AUTH.search(text)
            if m and not word.dynamic and not _not_a_secret(m.group(1)):
                return self.at_command(ctx, command, _NPMRC_ADVICE, word=word)
            if (
                low.endswith((":_authtoken", ":_auth", ":_password"))
                and nxt is not None
                and _literal_secret_word(nxt)
            ):
                return self.at_command(ctx, command, _NPMRC_ADVICE, word=nxt)
        return None


# ---------------------------------------------------------------------------------------------
# Secret files copied into the image

_PRIVATE_KEY_FILES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
)
_CREDENTIAL_FILES = frozenset(
    {".netrc", "_netrc", ".git-credentials", ".pgpass", ".pypirc", ".dockercfg", ".vault-token"}
)
# Whole directories of credentials (as a source; as a destination they may receive a config).
_SECRET_DIRS = frozenset({".ssh", ".aws", ".gnupg", ".kube"})
_DOTENV = frozenset({".env", ".env.local", ".env.production.local", ".env.development.local"})
# ``*.key`` names of public repository keys rather than private keys.
_PUBLIC_KEY_HINTS = (
    "gpg", "pgp", "pub", "release", "repo", "apt", "sign", "keyring", "archive", "asc",
    "yarn", "nodesource", "docker", "license", "licence",
)  # fmt: skip


def _secret_file_kind(path: str, source: bool) -> tuple[str, bool] | None:
    """(what the file is, whether it certainly holds a secret) for a COPY/ADD path."""
    p = path.rstrip("/")
    base = basename(p)
    parent = basename(posixpath.dirname(p))
    low = base.lower()
    if low in _PRIVATE_KEY_FILES:
        return "an SSH private key", True
    if low in _CREDENTIAL_FILES:
        return f"a credentials file ({base})", True
    if parent == ".aws" and low == "credentials":
        return "AWS credentials", True
    if parent == ".docker" and low == "config.json":
        return "registry credentials (.docker/config.json)", True
    if parent == ".kube" and low == "config":
        return "a kubeconfig", True
    if not source:
        # Past the certain kinds, a destination name says little: ``COPY .env.example .env``.
        return None
    if low in _SECRET_DIRS:
        return f"the {base} directory", True
    if low in _DOTENV:
        return f"{base} (which usually holds secrets)", False
    if low.endswith((".p12", ".pfx")):
        return f"a private key store ({base})", False
    if low.endswith(".key") and not any(h in low for h in _PUBLIC_KEY_HINTS):
        return f"a private key ({base})", False
    return None


class SecretFileCopied(Rule):
    """COPY or ADD of a private key or a credentials file.

    Why: every layer ships with the image, and a file deleted by a later RUN is still in the
    layer that added it. Use `RUN --mount=type=ssh` for SSH access during the build and
    `RUN --mount=type=secret` for tokens and config files; give runtime secrets to the
    container when it starts.

    Catches (error): a source or destination named `id_rsa`, `id_dsa`, `id_ecdsa`,
    `id_ed25519`, `.netrc`, `.git-credentials`, `.pgpass`, `.pypirc`, `.dockercfg`,
    `.vault-token`, `.aws/credentials`, `.docker/config.json` or `.kube/config`; a whole
    `.ssh`, `.aws`, `.gnupg` or `.kube` directory as a source. Warning, since they may hold
    test data: `.env` and `.env.local` files, `*.p12`/`*.pfx` key stores and `*.key` files,
    as sources. In a build stage whose layers do not reach the final image each is one step
    lower (the secret stays in the build cache, not in the pushed image).

    Leaves alone: public keys (`id_rsa.pub`, `authorized_keys`, `known_hosts`), repository
    signing keys (`*.gpg.key`, `Release.key`, `nodesource.key`), `.env.example`,
    `.env.production` (meant for public settings), `.npmrc` (usually registry settings only),
    `.htpasswd` (password hashes a web server is meant to read); directories and `.env` or
    key file names as destinations, which only say where the source goes
    (`COPY .env.example .env`, `COPY ssh_config /root/.ssh/`).
    """

    id = "SL005"
    name = "secret-file-copied"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ("CIS-DI-0010",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins in ctx.doc.instructions:
            if ins.keyword not in ("COPY", "ADD") or ins.heredocs or len(ins.values) < 2:
                continue
            stage = ctx.stage_of.get(id(ins))
            in_final = stage is not None and ctx.in_final_image(stage)
            last = len(ins.values) - 1
            for index, raw in enumerate(ins.values):
                if "://" in raw:
                    continue
                kind = _secret_file_kind(_unquote(raw), source=index < last)
                if kind is None:
                    continue
                what, certain = kind
                if in_final:
                    severity = Severity.ERROR if certain else Severity.WARNING
                    where = "the image"
                else:
                    severity = Severity.WARNING if certain else Severity.INFO
                    where = f"a layer of build stage {stage.label if stage else '?'}"
                yield self.at_offsets(
                    ctx,
                    *_args_word_offsets(ins, raw),
                    f"{ins.keyword} puts {what} into {where}; use `RUN --mount=type=secret` "
                    "(`--mount=type=ssh` for SSH keys) so that it is never stored in a layer",
                    severity=severity,
                )
                break


# ---------------------------------------------------------------------------------------------
# ADD

_URL = re.compile(r"(?i)^(?:https?|ftp)://")
_GIT_SCHEME = re.compile(r"(?i)^(?:git@|git://|ssh://)")
_GIT_SUFFIX = re.compile(r"(?i)\.git(?:$|[#?/])")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
# Names of archives that ADD unpacks (by content, in fact: these are the likely ones).
_ARCHIVE = re.compile(r"(?i)\.(?:tar|tgz|tbz2?|txz|tzst|tlz|taz|gz|bz2|xz|zst|lz|lzma|z)$|\.tar\.")
_VERIFY_PROGRAMS = frozenset(
    {"sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "shasum", "b2sum", "gpg",
     "gpgv", "cosign", "minisign", "signify"}
)  # fmt: skip


def _is_git_source(src: str) -> bool:
    """``git@host:o/r.git``, ``git://...``, ``https://host/o/r.git#ref`` (not a local ``.git``)."""
    if _GIT_SCHEME.match(src):
        return True
    return _URL.match(src) is not None and _GIT_SUFFIX.search(src) is not None


def _git_pinned(src: str) -> bool:
    ref = src.split("#", 1)[1].split(":", 1)[0] if "#" in src else ""
    m = re.search(r"[?&](?:ref|commit)=([^&#]+)", src)
    if m:
        ref = m.group(1)
    return bool(_COMMIT.match(ref.lower())) or re.search(r"[?&]checksum=", src) is not None


class AddUrlWithoutChecksum(Rule):
    """`ADD <url>` without `--checksum`, or `ADD` of a Git repository at a movable ref.

    Why: what a URL serves can change (a re-published release, a compromised host) and ADD
    puts it in the image unverified. `ADD --checksum=sha256:<hex> <url> <dest>` (Dockerfile
    syntax 1.6+) fails the build when the content differs; a Git source pinned to a full
    commit id (`ADD https://github.com/o/r.git#<sha> /src`) cannot change.

    Catches, in every stage: `ADD http(s)://...` and `ADD ftp://...` without `--checksum`;
    `ADD` of a Git repository whose ref is a branch or a tag, or missing, without
    `--checksum`.

    Leaves alone: ADD with `--checksum`; Git sources pinned to a 40- or 64-hex commit; a
    download checked by a later RUN of the same stage that runs `sha256sum` (or another SHA
    tool, `gpg`, `cosign`, `minisign`) on the downloaded file's name; downloads with
    `RUN curl`, which SL008 and the pinning rules judge.
    """

    id = "SL006"
    name = "add-url-no-checksum"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ("CIS-DI-0009", "DS-0005")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins in ctx.doc.instructions:
            if ins.keyword != "ADD" or ins.flag("checksum") is not None or ins.heredocs:
                continue
            values = [_unquote(v) for v in ins.values]
            if len(values) < 2:
                continue
            dest = _resolve(ctx, ins, values[-1]) or values[-1]
            for raw, written in zip(ins.values[:-1], values[:-1], strict=True):
                src = _resolve(ctx, ins, written) or written
                if _is_git_source(src):
                    if _git_pinned(src):
                        continue
                    msg = (
                        "ADD of a Git repository at a branch or tag, which can move; pin a commit "
                        "(`#<40-hex sha>`) or add `--checksum=<commit sha>`"
                    )
                elif _URL.match(src):
                    if self._verified_later(ctx, ins, src, dest):
                        continue
                    plain = " over plain HTTP" if src.lower().startswith(("http:", "ftp:")) else ""
                    msg = (
                        f"ADD downloads {_short(src)}{plain} without verifying it; add "
                        "`--checksum=sha256:<hex>` so that the build fails if the content changes"
                    )
                else:
                    continue
                yield self.at_offsets(ctx, *_args_word_offsets(ins, raw), msg)

    @staticmethod
    def _verified_later(ctx: CheckContext, ins: Instruction, src: str, dest: str) -> bool:
        stage = ctx.stage_of.get(id(ins))
        if stage is None:
            return False
        names = {basename(src.split("?", 1)[0].split("#", 1)[0].rstrip("/"))}
        if not dest.endswith("/"):
            names.add(basename(dest))
        names.discard("")
        for run in ctx.runs_in(stage):
            if run.instruction.span.offset < ins.span.offset:
                continue
            commands = run.commands
            if not any(
                c.program in _VERIFY_PROGRAMS or (c.program == "openssl" and "dgst" in c.argv)
                for c in commands
            ):
                continue
            for c in commands:
                for w in c.words:
                    for token in w.text.split():
                        if any(token == n or token.endswith("/" + n) for n in names):
                            return True
        return False


class AddInsteadOfCopy(Rule):
    """`ADD` of local files that are not archives: use `COPY`.

    Why: ADD also fetches URLs and unpacks local tar archives; for plain files and
    directories COPY does the same without the surprises (a file that turns out to be a tar
    archive is extracted by ADD), which is why Docker's own guide says to prefer it.

    Catches, in every stage: ADD whose sources are all local (no URL, no Git source) and none
    looks like an archive ADD would unpack (`.tar`, `.tar.*`, `.tgz`, `.gz`, `.xz`, `.bz2`,
    `.zst`...).

    Leaves alone: local archives (`FROM scratch` + `ADD rootfs.tar.xz /` is what ADD is for);
    URLs and Git sources (SL006's); sources that are variables with no known value, or end in
    a wildcard, which may name an archive; heredoc ADD.
    """

    id = "SL007"
    name = "add-instead-of-copy"
    practice = Practice.SECURITY
    severity = Severity.INFO
    refs = ("DL3020", "CIS-DI-0009", "DS-0005")
    fixable = True

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins in ctx.doc.instructions:
            if ins.keyword != "ADD" or ins.heredocs or len(ins.values) < 2:
                continue
            if all(self._plain_local(ctx, ins, _unquote(v)) for v in ins.values[:-1]):
                yield self.at_instruction(
                    ctx,
                    ins,
                    "ADD of local files that are not archives: use COPY, which does the same "
                    "without ADD's URL fetching and archive extraction",
                )

    @staticmethod
    def _plain_local(ctx: CheckContext, ins: Instruction, src: str) -> bool:
        resolved = _resolve(ctx, ins, src)
        if resolved is None or _URL.match(resolved) or _is_git_source(resolved):
            return False
        return not _ARCHIVE.search(resolved) and not resolved.endswith("*")

    def fix(self, ctx: FixContext, finding: Finding) -> FixResult:
        """``ADD`` -> ``COPY``, when every flag exists for COPY too and no source in the build
        context is an archive that ADD would have unpacked (whatever its name)."""
        from slimline.dockerfile.edits import Edit
        from slimline.dockerfile.fixes import FixResult, Unfixable
        from slimline.dockerfile.fixes.locate import finding_offset, instruction_at

        ins = instruction_at(ctx, finding_offset(ctx, finding))
        if ins.keyword != "ADD":
            raise Unfixable("the finding does not point at an ADD")
        for flag in ins.flags:
            if flag.name not in _COPY_FLAGS:
                raise Unfixable(f"--{flag.name} exists only for ADD")
        context = ctx.options.context_dir
        if context is not None:
            for value in ins.values[:-1]:
                source = context / _unquote(value)
                plain = "$" not in value and not any(c in value for c in "*?[")
                if plain and source.is_file() and _looks_like_archive(source):
                    raise Unfixable(f"{value} is an archive, which ADD unpacks")
        start = ins.span.offset
        keyword = ctx.text[start : start + 3]
        if keyword.upper() != "ADD":
            raise Unfixable("cannot find the ADD keyword")
        replacement = "copy" if keyword.islower() else "COPY"
        return FixResult.of([Edit(start, start + 3, replacement)], "ADD -> COPY")


_COPY_FLAGS = frozenset({"chown", "chmod", "link", "exclude"})
# gzip, bzip2, xz, zstd and (at offset 257) POSIX tar: what ADD recognises and unpacks.
_ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def _looks_like_archive(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return True  # unreadable: do not assume it is a plain file
    return head.startswith(_ARCHIVE_MAGIC) or head[257:262] == b"ustar"


# ---------------------------------------------------------------------------------------------
# Remote scripts piped into an interpreter

_FETCHERS = frozenset({"curl", "wget", "fetch"})
_INTERPRETERS = SHELLS | {"python", "perl", "ruby", "node", "php", "pwsh"}
_PASSTHROUGH = frozenset(
    {"tee", "cat", "gunzip", "zcat", "gzip", "bzcat", "xzcat", "xz", "bzip2", "dos2unix", "tr", "sed"}
)  # fmt: skip
# Per interpreter: options that run code given on the command line, options taking a value.
_INLINE_CODE = {
    "python": ("-c", "-m"),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "node": ("-e", "-p", "--eval", "--print"),
    "php": ("-r", "-f"),
    "pwsh": ("-c", "-command", "-f", "-file", "-encodedcommand"),
}
_VALUE_OPTIONS = {
    "python": ("-W", "-X"),
    "ruby": ("-r", "-I"),
    "node": ("-r", "--require"),
    "php": ("-d", "-c"),
    "shell": ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"),
}
_SUBST_FETCH = re.compile(
    r"^[\"']?(?:\$\(|`|<\()\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:sudo\s+(?:-\S+\s+)*)?(?:\S*/)?(?:curl|wget|fetch)\b"
)


def _interpreter(command: Command) -> str:
    prog, _ = _argv(command)
    if re.fullmatch(r"python\d*(?:\.\d+)?", prog):
        return "python"
    if re.fullmatch(r"(?:php|ruby|perl|node)\d*(?:\.\d+)?", prog):
        return re.sub(r"[\d.]+$", "", prog)
    return prog


def _reads_script_from_stdin(command: Command) -> bool:
    """Whether an interpreter runs what it is fed on stdin (``sh``, ``bash -s --``,
    ``python3 -``) rather than code on its command line (``python3 -c``, ``sh x.sh``)."""
    name = _interpreter(command)
    shell = name in SHELLS
    _, words = _argv(command)
    args = words[1:]
    inline = _INLINE_CODE.get(name, ())
    takes_value = (
        _VALUE_OPTIONS["shell" if shell else name] if (shell or name in _VALUE_OPTIONS) else ()
    )
    i = 0
    while i < len(args):
        t = args[i].text
        if t in ("-", "--"):
            return True
        if len(t) > 1 and (t[0] == "-" or (shell and t[0] == "+")):
            if shell and t[0] == "-" and not t.startswith("--"):
                if "c" in t[1:]:
                    return False
                if "s" in t[1:]:
                    return True
            if t.lower() in inline or (not t.startswith("--") and t[:2] in inline):
                return False
            i += 2 if t in takes_value else 1
            continue
        return False  # a script file
    return True


def _fetches_to_stdout(prog: str, words: list[Word]) -> bool:
    args = words[1:]
    to_stdout = ("-", "/dev/stdout")
    for i, w in enumerate(args):
        t = w.text
        nxt = args[i + 1].text if i + 1 < len(args) else ""
        if prog == "curl":
            if t in ("-o", "--output"):
                if nxt not in to_stdout:
                    return False
            elif t.startswith("--output="):
                if t[9:] not in to_stdout:
                    return False
            elif t in ("-O", "--remote-name", "--remote-name-all"):
                return False
            elif t.startswith("-") and not t.startswith("--"):
                for k, ch in enumerate(t[1:], start=1):
                    if ch == "O":
                        return False
                    if ch == "o":
                        if (t[k + 1 :] or nxt) not in to_stdout:
                            return False
                        break
                    if ch in _CURL_VALUE_LETTERS:
                        break
        else:
            if t in ("-O", "--output-document") or (prog == "fetch" and t == "-o"):
                return nxt in to_stdout
            elif t.startswith("--output-document="):
                return t.split("=", 1)[1] in to_stdout
            elif t.startswith("-") and not t.startswith("--") and "O" in t[1:]:
                rest = t[t.index("O", 1) + 1 :]
                return (rest or nxt) in to_stdout
    # curl writes to stdout by default; wget and fetch to a file unless told otherwise.
    return prog == "curl"


class PipeToShell(Rule):
    """A downloaded script run as it arrives: `curl ... | sh`.

    Why: nothing checks what runs: a compromised or hijacked server, or a download cut short,
    executes arbitrary code in the build, usually as root. Download to a file, check it
    against a known SHA-256 (`echo "<sha256>  install.sh" | sha256sum -c -`) or a signature,
    then run it.

    Catches, in every stage (a build stage's output reaches the final image): `curl`,
    `wget -O-` or `fetch` piped, possibly through `tee`/`gunzip`/`cat`, into `sh`, `bash`,
    `zsh`, `python`, `perl`, `ruby`, `node`, `php` or `pwsh` reading the script from stdin
    (`| sh`, `| sudo -E bash -`, `| bash -s -- -y`, `| python3 -`, `| php -- --install-dir=...`);
    `sh -c "$(curl ...)"`, `bash <(curl ...)`, `eval "$(wget -qO- ...)"`,
    `source <(curl ...)`.

    Leaves alone: downloads piped into a program that does not run them (`| tar xz`,
    `| gpg --dearmor`, `| python3 -c 'import json...'`, `| sh -c 'cat > f'`), `wget` without
    `-O-`, `curl -o file`, and a file downloaded, verified and then run.
    """

    id = "SL008"
    name = "pipe-to-shell"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from _dedupe(self._check(ctx))

    def _check(self, ctx: CheckContext) -> Iterator[Finding]:
        advice = "download it to a file, check its sha256 (`sha256sum -c`), then run it"
        for run in ctx.runs:
            for command in run.commands:
                prog, words = _argv(command)
                if prog in _FETCHERS:
                    if command.pipe_to is None or not _fetches_to_stdout(prog, words):
                        continue
                    sink = self._sink(command)
                    if sink is not None:
                        start = command.source_span()[0]
                        end = sink.source_span()[1]
                        yield self.at_offsets(
                            ctx,
                            start,
                            max(start, end),
                            f"`{prog} ... | {_interpreter(sink)}` runs a downloaded script "
                            f"unverified; {advice}",
                        )
                elif (
                    prog in _INTERPRETERS
                    or prog in ("eval", "source", ".")
                    or _interpreter(command) in _INTERPRETERS
                ):
                    for word in words[1:]:
                        if word.dynamic and _SUBST_FETCH.match(word.raw):
                            yield self.at_command(
                                ctx,
                                command,
                                f"`{prog}` runs a script fetched by a command substitution, "
                                f"unverified; {advice}",
                                word=word,
                            )
                            break

    @staticmethod
    def _sink(command: Command) -> Command | None:
        current = command.pipe_to
        for _ in range(6):
            if current is None:
                return None
            name = _interpreter(current)
            if name in _INTERPRETERS:
                return current if _reads_script_from_stdin(current) else None
            if name not in _PASSTHROUGH:
                return None
            current = current.pipe_to
        return None


# ---------------------------------------------------------------------------------------------
# TLS verification turned off

_FALSEY = frozenset({"0", "false", "no", "off", "n"})
# curl short options taking a value: in a cluster, the rest of it is that value.
_CURL_VALUE_LETTERS = frozenset("oHudxAeXTFwbcrmyYzCEKPQtUD")
_INSECURE_OPTIONS = frozenset(
    {"--no-check-certificate", "--insecure-skip-tls-verify", "--no-verify-ssl",
     "--skip-tls-verify", "--no-strict-ssl"}
)  # fmt: skip
_VERIFY_FALSE_OPTION = re.compile(
    r"(?i)^--(?:[a-z]+-)?(?:tls-?verify|ssl-?verify|verify-ssl|strict-ssl)=(?:false|0|no|off)$"
)
# Settings that turn verification off as written in config files and echo lines.
_TLS_TEXT = re.compile(
    r"(?i)(?:strict[-_]ssl\s*[=:]?\s*\"?false"
    r"|\bsslverify\s*[=:]?\s*\"?(?:0|false|no|off)\b"
    r"|\bssl_verify\s*[=:]\s*(?:false|0|no)\b"
    r"|check_certificate\s*=\s*off"
    r"|verify-(?:peer|host)\"?\s*[= ]?\s*\"?(?:false|0|no)\b"
    r"|\btrusted[-_]host\s*="
    r"|node_tls_reject_unauthorized\s*=\s*[\"']?0"
    r"|pythonhttpsverify\s*=\s*[\"']?0"
    r"|git_ssl_no_verify\s*=\s*[\"']?(?:1|true|yes))"
)
_TLS_ENV_FALSEY = frozenset(
    {"NPM_CONFIG_STRICT_SSL", "YARN_STRICT_SSL", "YARN_ENABLE_STRICT_SSL", "CONDA_SSL_VERIFY",
     "PIP_SSL_VERIFY"}
)  # fmt: skip
_TLS_ENV_ANY = frozenset({"PIP_TRUSTED_HOST", "UV_INSECURE_HOST", "GOINSECURE"})
# Every name _tls_env knows contains one of these.
_TLS_ENV_HINT = re.compile(r"(?i)tls|verify|ssl|trusted|insecure|goflags")


def _tls_env(name: str, value: str) -> str | None:
    """What setting ``name`` to ``value`` turns off, or None."""
    upper = name.upper()
    v = value.strip().lower()
    if not v or _is_var_ref(v):
        return None
    if upper == "NODE_TLS_REJECT_UNAUTHORIZED" and v == "0":
        return "Node.js TLS certificate checks"
    if upper == "PYTHONHTTPSVERIFY" and v == "0":
        return "Python's HTTPS certificate checks"
    if upper == "GIT_SSL_NO_VERIFY" and v not in _FALSEY:
        return "Git's TLS certificate checks"
    if upper in _TLS_ENV_FALSEY and v in _FALSEY:
        return "TLS certificate checks"
    if upper in _TLS_ENV_ANY:
        return "TLS certificate checks for the listed hosts"
    if upper == "GOFLAGS" and "-insecure" in v:
        return "TLS checks of Go module downloads"
    return None


def _env_findings(
    rule: Rule,
    ctx: CheckContext,
    judge: Callable[[str, str], str | None],
    hint: re.Pattern[str],
    advice: str,
) -> Iterator[Finding]:
    escape = ctx.doc.escape
    for ins in _assignment_instructions(ctx):
        if not hint.search(ins.args):
            continue
        for pair in _pairs(ins, escape):
            what = judge(pair.name, pair.value)
            if what:
                yield _pair_finding(
                    rule, ctx, pair, f"{pair.name}={pair.value} turns off {what}; {advice}"
                )


def _is_pip(prog: str, words: list[Word]) -> bool:
    if re.fullmatch(r"pip\d*(?:\.\d+)?", prog):
        return True
    return (
        re.fullmatch(r"python\d*(?:\.\d+)?", prog) is not None
        and len(words) > 2
        and words[1].text == "-m"
        and words[2].text.startswith("pip")
    )


class TlsVerificationDisabled(Rule):
    """TLS certificate verification turned off for downloads (`curl -k`, `pip --trusted-host`...).

    Why: without certificate checks anyone on the network path (a proxy, a hijacked DNS
    answer) can serve other content, and the build installs it. For a private CA or a
    TLS-intercepting proxy, add its certificate to the trust store
    (`COPY ca.crt /usr/local/share/ca-certificates/` + `update-ca-certificates`) instead.

    Catches, in every stage: `curl -k`/`--insecure`/`--proxy-insecure` (also in a cluster
    such as `-fsSLk`); `--no-check-certificate` (wget and others), `--insecure-skip-tls-verify`,
    `--no-verify-ssl`, `--tls-verify=false` and the like, for any program; `pip --trusted-host`
    and `pip config set global.trusted-host`, `uv --allow-insecure-host`;
    `npm|yarn|pnpm config set strict-ssl false`, `--strict-ssl=false`;
    `git -c http.sslVerify=false`, `git config http.sslVerify false`;
    `conda config --set ssl_verify false`; `composer config secure-http false`; apt's
    `Acquire::https::Verify-Peer "false"`; `sslverify=0` for yum/dnf; the same settings
    written into config files (`.npmrc`, `.curlrc`'s `insecure`, `.wgetrc`, `pip.conf`, repo
    files); ENV, ARG and command prefixes `NODE_TLS_REJECT_UNAUTHORIZED=0`,
    `PYTHONHTTPSVERIFY=0`, `GIT_SSL_NO_VERIFY=1`, `NPM_CONFIG_STRICT_SSL=false`,
    `PIP_TRUSTED_HOST`, `GOINSECURE`.

    Leaves alone: `-k` of programs other than curl (`wget -k` converts links); settings that
    turn verification on (`strict-ssl true`); values that are variables. Package signature
    checks are SL010's.
    """

    id = "SL009"
    name = "tls-verification-disabled"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        advice = "trust the needed CA certificate instead"
        yield from _env_findings(self, ctx, _tls_env, _TLS_ENV_HINT, advice)
        yield from _dedupe(self._check_runs(ctx))

    def _check_runs(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            for command in run.commands:
                for name, value in command.assignments:
                    what = _tls_env(name, value)
                    if what:
                        yield self.at_command(
                            ctx,
                            command,
                            f"{name}={value} turns off {what}; trust the needed CA certificate instead",
                        )
                hit = self._insecure_word(command)
                if hit is not None:
                    word, what = hit
                    yield self.at_command(
                        ctx,
                        command,
                        f"{what} turns off TLS certificate verification; trust the needed CA "
                        "certificate instead (`update-ca-certificates`)",
                        word=word,
                    )

    @staticmethod
    def _insecure_word(command: Command) -> tuple[Word, str] | None:
        prog, words = _argv(command)
        if not words:
            return None
        pip = _is_pip(prog, words)
        for i, word in enumerate(words[1:], start=1):
            t = word.text
            low = t.lower()
            nxt = words[i + 1].text.lower() if i + 1 < len(words) else ""
            if prog == "curl":
                if t in ("--insecure", "--proxy-insecure", "--doh-insecure"):
                    return word, f"`curl {t}`"
                if t.startswith("-") and not t.startswith("--"):
                    for ch in t[1:]:
                        if ch == "k":
                            return word, "`curl -k`"
                        if ch in _CURL_VALUE_LETTERS:
                            break
            if t in _INSECURE_OPTIONS or _VERIFY_FALSE_OPTION.match(t):
                return word, f"`{prog} {t}`"
            if pip and (
                t == "--trusted-host"
                or t.startswith("--trusted-host=")
                or low.endswith(".trusted-host")
            ):
                return word, f"`{prog} {_short(t)}`"
            if prog == "uv" and (
                t == "--allow-insecure-host" or t.startswith("--allow-insecure-host=")
            ):
                return word, f"`uv {_short(t)}`"
            if (
                prog in ("npm", "yarn", "pnpm")
                and low in ("strict-ssl", "enablestrictssl")
                and nxt in _FALSEY
            ):
                return word, f"`{prog} config set {t} {nxt}`"
            if prog == "git":
                m = re.fullmatch(r"http\.(?:.*\.)?sslverify(?:=(.*))?", low)
                if m and (m.group(1) if m.group(1) is not None else nxt) in _FALSEY:
                    return word, f"git's `{_short(t)}`"
            if prog == "conda" and low == "ssl_verify" and nxt in _FALSEY:
                return word, f"`conda config --set ssl_verify {nxt}`"
            if prog in ("composer", "composer.phar") and (
                (low == "secure-http" and nxt in _FALSEY)
                or (low == "disable-tls" and nxt in ("true", "1"))
            ):
                return word, f"`composer config {t} {nxt}`"
            if prog not in ("curl", "wget") and _TLS_TEXT.search(t):
                return word, f"`{_short(t.strip())}`"
            if low.strip() == "insecure" and any(
                r[1].endswith(".curlrc") for r in command.redirects
            ):
                return word, "`insecure` in .curlrc"
        return None


# ---------------------------------------------------------------------------------------------
# Package signature checks turned off

_LOCAL_PACKAGE = re.compile(r"(?i)\.(?:rpm|apk|deb)$")
_GPGCHECK_OFF = re.compile(r"(?i)\b(?:repo_)?gpgcheck\s*=\s*(?:0|false|no|off)\b")
_APT_UNAUTHENTICATED = re.compile(
    r"(?i)(?:allowunauthenticated|allowinsecurerepositories|allowdowngradetoinsecurerepositories)"
    r"\"?\s*[= ]\s*\"?(?:1|true|yes)"
)


def _all_local(packages: list[Word]) -> bool:
    """Whether every package argument is a local file (installed by path, not fetched)."""
    if not packages:
        return False
    for p in packages:
        t = p.text
        if "://" in t:
            return False
        if not (t.startswith(("/", "./", "../", "~")) or _LOCAL_PACKAGE.search(t)):
            return False
    return True


_SIG_ENV_HINT = re.compile(r"(?i)gosumdb|gonosumcheck")


def _sig_env(name: str, value: str) -> str | None:
    upper = name.upper()
    v = value.strip().lower()
    if upper == "GOSUMDB" and v == "off":
        return "Go's checksum database"
    if upper == "GONOSUMCHECK" and v and v not in _FALSEY and not _is_var_ref(v):
        return "Go's checksum database"
    return None


class SignatureCheckDisabled(Rule):
    """Package signature checks turned off (`yum --nogpgcheck`, `apk --allow-untrusted`...).

    Why: signatures are what proves that a package comes from the distribution or the vendor
    and not from whoever answered the download (mirrors are often plain HTTP, relying on the
    signatures). Import the repository's signing key instead.

    Catches, in every stage: `yum`/`dnf`/`microdnf`/`tdnf` `--nogpgcheck` and
    `--setopt=gpgcheck=0`; `gpgcheck=0` written into repo files (`echo`, `sed`);
    `rpm --nosignature`/`--nodigest` on a URL; `apk --allow-untrusted`;
    `apt-get --allow-unauthenticated`, `--allow-insecure-repositories`, `--force-yes` and
    `APT::Get::AllowUnauthenticated "true"` (also in apt.conf lines); `[trusted=yes]` in an
    apt sources line; `zypper --no-gpg-checks`, `zypper addrepo -G`; `GOSUMDB=off`,
    `GONOSUMCHECK=1` (ENV, ARG, command prefix or `go env -w`).

    Leaves alone: installs whose packages are all local files (`apk add --allow-untrusted
    /tmp/pkg.apk`, `yum localinstall --nogpgcheck ./x.rpm`, `rpm -i --nosignature x.rpm`):
    such packages are usually built in an earlier stage, and where one is downloaded, the
    download is where to verify it; `apk index --allow-untrusted`, which indexes local
    packages and installs nothing. TLS checks are SL009's.
    """

    id = "SL010"
    name = "signature-check-disabled"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        advice = "keep it on and use GOPRIVATE/GONOSUMDB for private modules only"
        yield from _env_findings(self, ctx, _sig_env, _SIG_ENV_HINT, advice)
        yield from _dedupe(self._check_runs(ctx, advice))

    def _check_runs(self, ctx: CheckContext, advice: str) -> Iterator[Finding]:
        for run in ctx.runs:
            ops = {id(op.command): op for op in run.ops}
            for command in run.commands:
                for name, value in command.assignments:
                    what = _sig_env(name, value)
                    if what:
                        yield self.at_command(
                            ctx, command, f"{name}={value} turns off {what}; {advice}"
                        )
                hit = self._unsigned_word(command, ops.get(id(command)))
                if hit is not None:
                    word, what = hit
                    yield self.at_command(
                        ctx,
                        command,
                        f"{what} turns off package signature checks; import the repository's "
                        "signing key instead",
                        word=word,
                    )

    @staticmethod
    def _unsigned_word(command: Command, op: PackageOp | None) -> tuple[Word, str] | None:
        prog, words = _argv(command)
        if not words:
            return None
        manager = op.manager if op is not None else ""
        local = op is not None and _all_local(op.packages)
        for i, word in enumerate(words[1:], start=1):
            t = word.text
            low = t.lower()
            nxt = words[i + 1].text.lower() if i + 1 < len(words) else ""
            if manager == "dnf" and (
                low == "--nogpgcheck"
                or (low.startswith("--setopt") and _GPGCHECK_OFF.search(f"{low} {nxt}"))
            ):
                if not local:
                    return word, f"`{prog} {t}`"
            elif manager == "apk" and low == "--allow-untrusted":
                # `apk index --allow-untrusted`: indexes local packages, installs nothing.
                if not local and op is not None and op.raw_action != "index":
                    return word, "`apk --allow-untrusted`"
            elif manager == "apt" and low in (
                "--allow-unauthenticated",
                "--allow-insecure-repositories",
                "--force-yes",
            ):
                if not local:
                    return word, f"`{prog} {t}`"
            elif manager == "zypper" and (
                low in ("--no-gpg-checks", "--no-gpgcheck")
                or (low == "-g" and op is not None and op.action in ("ar", "addrepo"))
            ):
                if not local:
                    return word, f"`zypper {t}`"
            elif prog == "rpm" and low in ("--nosignature", "--nodigest", "--nosig"):
                if any("://" in w.text for w in words[1:]):
                    return word, f"`rpm {t}`"
            elif _APT_UNAUTHENTICATED.search(t):
                if not local:
                    return word, f"`{_short(t.strip())}`"
            elif _GPGCHECK_OFF.search(t) and manager != "dnf":
                return word, f"`{_short(t.strip())}`"
            elif ("trusted=yes" in low or "allow-insecure=yes" in low) and re.search(
                r"\bdeb(?:-src)?\s*\[", low
            ):
                return word, "`[trusted=yes]` in an apt source"
            elif re.fullmatch(r"gosumdb=off|gonosumcheck=(?:1|true)", low):
                return word, f"`{t}`"
        return None


# ---------------------------------------------------------------------------------------------
# Whole-system upgrades

_UPGRADE_ACTIONS: dict[str, frozenset[str]] = {
    "apt": frozenset({"upgrade", "dist-upgrade"}),
    "apk": frozenset({"upgrade"}),
    "dnf": frozenset({"upgrade", "update", "distro-sync", "upgrade-minimal", "update-minimal"}),
    "zypper": frozenset({"update", "patch", "dist-upgrade"}),
}


class PackageUpgrade(Rule):
    """`apt-get upgrade`, `apk upgrade`, `yum update` and the like: every package upgraded at build time.

    Why: what gets installed depends on the day of the build, so two builds of one Dockerfile
    differ, and the upgrade hides how stale the base image is (and stores every upgraded
    package twice: the old copy in the base layer, the new one in this layer). Build on a
    current base image (a newer tag or digest) instead: official images are rebuilt for
    security updates.

    Catches, in every stage: `apt-get`/`apt`/`aptitude` `upgrade`, `dist-upgrade`,
    `full-upgrade`; `apk upgrade`; `yum`/`dnf`/`microdnf`/`tdnf` `update`, `upgrade`,
    `distro-sync`; `zypper update`/`patch`/`dist-upgrade`; each with no package named.

    Leaves alone: `apt-get update` and `apk update` (index refreshes); upgrades that name their
    packages (`apk upgrade openssl`, `yum update -y curl`): a deliberate fix for a known
    vulnerability.
    """

    id = "SL011"
    name = "package-upgrade"
    practice = Practice.SECURITY
    severity = Severity.INFO
    refs = ("DKL-DI-0003",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            for op in run.ops:
                actions = _UPGRADE_ACTIONS.get(op.manager)
                if actions is None or op.action not in actions or op.packages:
                    continue
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`{op.tool} {op.raw_action}` upgrades every package at build time: builds stop "
                    "being reproducible and a stale base image goes unnoticed; use a current base "
                    "image instead",
                )


# ---------------------------------------------------------------------------------------------
# World-writable files

_SYMBOLIC_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=][rwxXstugo]*)+)")


def _world_writable(mode: str) -> bool:
    """Whether a chmod mode gives others write access, without the sticky bit."""
    if re.fullmatch(r"[0-7]{1,5}", mode):
        bits = int(mode, 8)
        return bool(bits & 0o002) and not bits & 0o1000
    writable = sticky = False
    for clause in mode.split(","):
        m = _SYMBOLIC_CLAUSE.fullmatch(clause)
        if m is None:
            return False
        who = m.group(1)
        for op, perms in re.findall(r"([-+=])([rwxXstugo]*)", m.group(2)):
            if op == "-":
                continue
            sticky = sticky or "t" in perms
            writable = writable or (("o" in who or "a" in who) and "w" in perms)
    return writable and not sticky


def _chmod_mode(words: list[Word]) -> tuple[Word | None, list[str]]:
    """The mode word and the targets of ``chmod [options] mode file...``."""
    mode: Word | None = None
    targets: list[str] = []
    for w in words:
        t = w.text
        if t.startswith("--") or re.fullmatch(r"-[RfvcHLP]+", t):
            continue
        if mode is None:
            mode = w
        else:
            targets.append(t)
    return mode, targets


def _mode_option(words: list[Word]) -> tuple[Word | None, str, list[str]]:
    """The ``-m``/``--mode`` of ``mkdir``/``install``: (word, mode, targets)."""
    mode_word: Word | None = None
    mode = ""
    targets: list[str] = []
    skip = False
    for i, w in enumerate(words):
        if skip:
            skip = False
            continue
        t = w.text
        if t in ("-m", "--mode") and i + 1 < len(words):
            mode_word, mode, skip = words[i + 1], words[i + 1].text, True
        elif t.startswith("--mode="):
            mode_word, mode = w, t[7:]
        elif t.startswith("-m") and len(t) > 2:
            mode_word, mode = w, t[2:]
        elif not t.startswith("-"):
            targets.append(t)
    return mode_word, mode, targets


class WorldWritable(Rule):
    """Files or directories made world-writable (`chmod 777`, `chmod -R a+rwx`, `--chmod=777`).

    Why: any process in the container, whatever its user, can then change the files, so a
    compromised low-privilege process can rewrite code that a more privileged one runs. Give
    the files to the runtime user instead (`COPY --chown=app`, `chown`) and keep modes at
    755/644; for platforms that run images under an arbitrary UID (OpenShift), use group 0
    and `chmod g=u`.

    Catches, in the stages of the final image: `chmod` (also under `find -exec` and `xargs`)
    with a numeric mode whose last digit has the write bit (`777`, `0777`, `666`, `-R 777`)
    or a symbolic mode adding `w` for `o` or `a` (`a+rwx`, `o+w`, `ugo=rwx`); `mkdir -m` and
    `install -m` with such a mode; `COPY`/`ADD --chmod` with such a mode.

    Leaves alone: modes with the sticky bit (`1777`, `a+rwxt`: the shared /tmp idiom);
    `chmod +w` with no who (the umask keeps others out); targets under `/dev`; modes from
    variables; build stages whose files do not reach the final image.
    """

    id = "SL012"
    name = "world-writable"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ()

    _ADVICE = (
        "world-writable: any user in the container can change it; chown it to the runtime "
        "user (or use group 0 with `chmod g=u`) and keep modes at 755/644"
    )

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if ins.keyword not in ("COPY", "ADD"):
                    continue
                for flag in ins.flags:
                    if flag.name == "chmod" and flag.value and _world_writable(flag.value):
                        yield self.at_offsets(
                            ctx,
                            flag.span.offset,
                            flag.span.end_offset,
                            f"`--chmod={flag.value}` makes the copied files {self._ADVICE}",
                        )
            for run in ctx.runs_in(stage):
                yield from _dedupe(self._check_run(ctx, run))

    def _check_run(self, ctx: CheckContext, run: RunStep) -> Iterator[Finding]:
        for command in run.commands:
            prog, words = _argv(command)
            found_paths: list[str] = []
            if prog == "find":
                # ``find /app -type d -exec chmod 777 {} +``
                for i, w in enumerate(words):
                    if i > 0 and not found_paths and w.text.startswith(("-", "(", "!")):
                        found_paths = [x.text for x in words[1:i]]
                    if (
                        w.text in ("-exec", "-execdir")
                        and i + 1 < len(words)
                        and basename(words[i + 1].text) == "chmod"
                    ):
                        prog, words = "chmod", words[i + 1 :]
                        break
            if prog == "chmod":
                mode_word, targets = _chmod_mode(words[1:])
                mode = mode_word.text if mode_word is not None else ""
            elif prog in ("mkdir", "install"):
                mode_word, mode, targets = _mode_option(words[1:])
            else:
                continue
            if mode_word is None or mode_word.dynamic or not _world_writable(mode):
                continue
            targets = [t for t in targets if t not in ("{}", "+", ";", "\\;")] or found_paths
            if targets and all(t.startswith("/dev/") for t in targets):
                continue
            what = (
                " ".join(targets[:2]) + (" ..." if len(targets) > 2 else "")
                if targets
                else "the target"
            )
            yield self.at_command(
                ctx,
                command,
                f"`{prog} {mode}` makes {_short(what, 50)} {self._ADVICE}",
                word=mode_word,
            )


# ---------------------------------------------------------------------------------------------
# The root user

# Images that run as a non-root USER (repository paths, without docker.io/ or library/).
_NONROOT_USER_IMAGES = frozenset(
    {
        "memcached", "solr", "haproxy", "odoo", "sonarqube", "jenkins/jenkins",
        "jenkins/inbound-agent", "jenkins/agent", "grafana/grafana", "grafana/grafana-oss",
        "grafana/grafana-enterprise", "grafana/loki", "grafana/tempo", "grafana/promtail",
        "nginxinc/nginx-unprivileged", "apache/airflow", "apache/superset",
        "quay.io/keycloak/keycloak", "keycloak/keycloak", "n8nio/n8n", "nodered/node-red",
        "sonatype/nexus3", "docker.elastic.co/elasticsearch/elasticsearch",
        "docker.elastic.co/kibana/kibana", "docker.elastic.co/logstash/logstash",
        "elasticsearch", "kibana", "logstash", "mcr.microsoft.com/mssql/server",
        "kong", "selenium/standalone-chrome",
        "selenium/standalone-firefox", "selenium/node-chrome", "selenium/node-firefox",
    }
)  # fmt: skip
_NONROOT_USER_PREFIXES = (
    "bitnami/", "cgr.dev/", "prom/", "quay.io/prometheus/", "jupyter/", "quay.io/jupyter/",
    "confluentinc/", "public.ecr.aws/bitnami/", "otel/", "selenium/",
)  # fmt: skip
# Images whose entrypoint starts the service as its own user (docker-library's
# docker-entrypoint.sh with gosu/su-exec): non-root as long as that entrypoint is kept.
_DROPPING_ENTRYPOINT_IMAGES = frozenset(
    {
        "postgres", "mysql", "mariadb", "mongo", "redis", "rabbitmq", "cassandra", "couchdb",
        "couchbase", "ghost", "neo4j", "percona", "zookeeper", "eclipse-mosquitto", "vault",
        "consul", "hashicorp/vault", "hashicorp/consul", "clickhouse/clickhouse-server",
        "clickhouse", "influxdb", "mongo-express", "postgis/postgis", "timescale/timescaledb",
        "redis/redis-stack", "redis/redis-stack-server",
        "gitea/gitea",
    }
)  # fmt: skip
# Images of those prefixes that do run as root.
_ROOT_EXCEPTIONS = frozenset(
    {"cgr.dev/chainguard/wolfi-base", "cgr.dev/chainguard/chainguard-base", "bitnami/minideb"}
)
# Red Hat's language images run as UID 1001 (ubi9/python-311, ubi9/nodejs-20...).
_RH_LANGUAGE = re.compile(
    r"registry\.(?:access\.)?redhat\.(?:com|io)/(?:ubi\d+|rhel\d+)/"
    r"(?:python|nodejs|php|ruby|perl|openjdk|go-toolset|dotnet|nginx|httpd)-"
)
# Server programs whose master process is root but whose workers serve requests unprivileged.
_PRIVSEP_PROGRAM = re.compile(
    r"nginx|openresty|php-fpm[\d.]*|httpd|httpd-foreground|apache2|apache2-foreground|apache2?ctl"
)
# Images of such servers.
_PRIVSEP_SERVERS = frozenset(
    {"nginx", "httpd", "wordpress", "drupal", "joomla", "nextcloud", "matomo", "mediawiki",
     "owncloud", "friendica", "yourls", "phpmyadmin", "phpmyadmin/phpmyadmin"}
)  # fmt: skip
_DROP_HINTS = ("gosu", "su-exec", "setpriv", "runuser", "setuidgid", "chpst", "--userspec")
_DROP_PRIVILEGES = re.compile(
    r"(?<![\w-])(?:gosu|su-exec|setpriv|runuser|s6-setuidgid|setuidgid|chpst)(?![\w-])|chroot\s+--userspec"
)
_SU_COMMAND = re.compile(r"(?<![\w-])su\s+(?:-\S*\s+)*\S+\s+-c|(?<![\w-])su\s+-c")
_WINDOWS = re.compile(r"(?i)windows|nanoserver|servercore|ltsc20\d\d|dotnet/framework")
_SHELLS_AS_CMD = SHELLS | {"fish", "pwsh", "powershell"}
# Interpreters whose REPL is the default command of a language base image.
_INTERPRETER_CMD = re.compile(
    r"(?:python|ipython|node|bun|deno|irb|ruby|php|perl|erl|iex|ghci|jshell|julia|r|lua|"
    r"tclsh|scala|swift|elixir|clojure|racket|guile|sbcl|ocaml)[\d.]*"
)


def _image_repo(ref: str) -> tuple[str, str]:
    """(repository path, tag) of an image reference: lower-case, Docker Hub prefixes removed."""
    ref = ref.lower().split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    tag = ""
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1 :]
    for prefix in (
        "docker.io/",
        "index.docker.io/",
        "registry-1.docker.io/",
        "registry.hub.docker.com/",
    ):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    if ref.startswith("library/"):
        ref = ref[len("library/") :]
    return ref, tag


def _base_user_nonroot(repo: str, tag: str) -> bool:
    """Whether the image's own USER is non-root."""
    if repo in _ROOT_EXCEPTIONS:
        return False
    if "distroless" in repo:
        return "nonroot" in tag
    if repo.startswith("mcr.microsoft.com/dotnet/"):
        return "chiseled" in tag or "distroless" in tag
    if repo in _NONROOT_USER_IMAGES or repo.startswith(_NONROOT_USER_PREFIXES):
        return True
    return _RH_LANGUAGE.match(repo) is not None


def _privsep_server(repo: str, tag: str) -> bool:
    if repo in _PRIVSEP_SERVERS:
        return True
    if repo == "php":
        return "apache" in tag or "fpm" in tag
    return False


def _user_advice(repo: str) -> str:
    if repo == "node" or repo.endswith("/node"):
        return "add `USER node` (the node image's own user)"
    if "distroless" in repo:
        return "use the `:nonroot` variant of the distroless image"
    if repo.startswith("mcr.microsoft.com/dotnet/"):
        return "add `USER $APP_UID` (.NET 8+ images ship an `app` user) or use a chiseled image"
    return "create a user and add `USER <uid>` after the steps that need root"


class RootUser(Rule):
    """The final image runs as root: no USER, or USER root as the last one.

    Why: root in the container is root on the host's kernel, so a container escape or a
    writable host mount becomes a host compromise, and the process can rewrite everything in
    the image. Run as an unprivileged user.

    Catches, once per file: the last USER of the final stage (or of a stage it is built
    FROM) being `root`, `0`, `root:<group>` or `0:<gid>`, also through an ARG/ENV default
    (reported at that USER); a final image with no USER at all (reported at the final FROM).
    As info: `FROM scratch` with no USER (a lone static binary has little to abuse, but it
    still runs as UID 0); servers that keep a root master process but serve requests from
    unprivileged workers (nginx, httpd, php-fpm, php-apache, wordpress..., known by their
    image or by the program the image runs), with the unprivileged variant to use; and what
    looks like a base or tool image, with no program of its own to run (no CMD/ENTRYPOINT,
    or only a bare shell or interpreter such as `CMD ["python3"]`): images built FROM it
    need root to install things, but whatever runs from it as it is runs as root.

    Leaves alone: base images that already run as a non-root user (distroless `:nonroot`,
    Chainguard, Bitnami, .NET chiseled, Red Hat language images, Jenkins, Grafana,
    Prometheus, Elastic...); images whose entrypoint starts the service as its own user
    (docker-library's postgres, mysql, redis, mongo, rabbitmq...), unless the file replaces
    that ENTRYPOINT; files whose final image drops privileges itself: gosu, su-exec,
    setpriv, runuser, s6-setuidgid or chpst installed or used in it (the docker-library
    pattern: start as root to fix volume ownership, then exec the service as its user), or
    `su ... -c` in ENTRYPOINT/CMD; a USER from a variable with no known value; a base image
    named by a variable with no default; Windows images, whose users work differently.
    """

    id = "SL001"
    name = "root-user"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ("DL3002", "CIS-DI-0001", "DS-0002")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        chain = ctx.target_chain
        if not chain:
            return
        root_stage = chain[0]
        base = root_stage.base_resolved
        if _WINDOWS.search(base) or any(
            d.name == "escape" and d.value == "`" for d in ctx.doc.directives
        ):
            return
        if self._drops_privileges(chain):
            return
        last_user: Instruction | None = None
        for stage in chain:
            for ins in stage.instructions:
                if ins.keyword == "USER" and ins.values:
                    last_user = ins
        repo, tag = _image_repo(base)
        if last_user is not None:
            value = _resolve(ctx, last_user, last_user.values[0].strip())
            if value is None:
                return
            user = _unquote(value).split(":", 1)[0].strip().lower()
            if user in ("root", "0"):
                yield self.at_instruction(
                    ctx,
                    last_user,
                    f"the image runs as root (`USER {last_user.values[0]}` is the last USER); "
                    "switch back to an unprivileged user after the steps that need root",
                )
            return
        if not root_stage.resolved:
            return
        target_from = ctx.target.from_instruction
        if root_stage.is_scratch:
            yield self.at_instruction(
                ctx,
                target_from,
                "no USER: the program runs as UID 0; add `USER 65532:65532` (scratch needs no "
                "user entry for a numeric UID)",
                severity=Severity.INFO,
            )
            return
        if _base_user_nonroot(repo, tag):
            return
        if repo in _DROPPING_ENTRYPOINT_IMAGES and not any(
            ins.keyword == "ENTRYPOINT" for stage in chain for ins in stage.instructions
        ):
            return
        program = self._program(chain)
        server = (
            repo
            if _privsep_server(repo, tag)
            else program
            if _PRIVSEP_PROGRAM.fullmatch(program)
            else ""
        )
        if server:
            hint = (
                "use nginxinc/nginx-unprivileged"
                if "nginx" in server
                else "run it as its service user with `USER` and a port above 1024"
            )
            yield self.at_instruction(
                ctx,
                target_from,
                f"no USER: the {server} master process runs as root (its workers do not); {hint}",
                severity=Severity.INFO,
            )
            return
        if not program or program in _SHELLS_AS_CMD or _INTERPRETER_CMD.fullmatch(program):
            yield self.at_instruction(
                ctx,
                target_from,
                "no USER in what looks like a base or tool image (no program of its own to "
                f"run): whatever runs from it runs as root; {_user_advice(repo)}",
                severity=Severity.INFO,
            )
            return
        yield self.at_instruction(
            ctx,
            target_from,
            f"no USER in the final stage: the container runs as root unless {_short(base, 50)} "
            f"sets a user; {_user_advice(repo)}",
        )

    @staticmethod
    def _program(chain: list[Stage]) -> str:
        """The base name of the program the image runs: its ENTRYPOINT's, or its CMD's when
        there is no ENTRYPOINT or it is a wrapper script (``docker-entrypoint.sh``); "script"
        for an interpreter running something (``ENTRYPOINT ["python"]``, ``CMD python app.py``);
        empty for none. A bare shell or interpreter as the CMD (``CMD ["python3"]``) keeps its
        name: the mark of a base image."""
        entrypoint: Instruction | None = None
        cmd: Instruction | None = None
        for stage in chain:
            for ins in stage.instructions:
                if ins.keyword == "ENTRYPOINT":
                    entrypoint, cmd = ins, None  # ENTRYPOINT resets an inherited CMD
                elif ins.keyword == "CMD":
                    cmd = ins
        wrapper = ""
        for item in (entrypoint, cmd):
            if item is None or not item.values:
                continue
            words = [w for w in (list(item.values) if item.json else item.values[0].split()) if w]
            if not words:
                continue
            name = basename(words[0]).lower()
            if item is entrypoint and ("entrypoint" in name or name in ("tini", "dumb-init")):
                wrapper = name
                continue
            if (item is entrypoint or len(words) > 1) and (
                name in _SHELLS_AS_CMD or _INTERPRETER_CMD.fullmatch(name)
            ):
                return "script"  # ``python app.py``, ``sh -c ...``: a program of its own
            return name
        return wrapper

    @staticmethod
    def _drops_privileges(chain: list[Stage]) -> bool:
        for stage in chain:
            for ins in stage.instructions:
                kw = ins.keyword
                if kw not in ("RUN", "COPY", "ADD", "ENTRYPOINT", "CMD"):
                    continue
                text = ins.original
                if any(h in text for h in _DROP_HINTS) and _DROP_PRIVILEGES.search(text):
                    return True
                if kw in ("ENTRYPOINT", "CMD") and "su" in text and _SU_COMMAND.search(text):
                    return True
        return False
