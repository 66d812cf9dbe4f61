"""security: root user, secrets in ENV/ARG/RUN/COPY, unverified downloads, TLS and signature
checks turned off, whole-system upgrades, world-writable files."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.shell import SHELLS, Command, Word
from slimline.dockerfile.stages import Stage, substitute
from slimline.findings import Finding, Practice, Severity

# ---------------------------------------------------------------------------------------------
# Shared helpers: instruction words with positions, names and values of ENV/ARG.


@dataclass(frozen=True, slots=True)
class _Pair:
    """One ``NAME=value`` (or a bare ``NAME``) of an ENV, ARG or LABEL instruction."""

    instruction: Instruction
    name: str
    value: str  # quotes and escapes removed
    has_value: bool  # ``ARG X`` has none; ``ARG X=`` has an empty one
    start: int  # offsets into instruction.args
    end: int


def _words_with_offsets(text: str, escape: str) -> list[tuple[str, int, int]]:
    """Split on unquoted whitespace, keeping each word's raw text and its offsets."""
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
    """The name/value pairs of an ENV, ARG or LABEL instruction (ONBUILD unwrapped)."""
    target = ins.onbuild or ins
    kw = target.keyword
    if kw not in ("ENV", "ARG", "LABEL"):
        return []
    args = ins.args
    shift = 0
    if ins.onbuild is not None:
        # ``ONBUILD ENV A=1``: the wrapped instruction's arguments follow its keyword.
        m = re.match(r"\s*\S+\s+", args)
        if m is None:
            return []
        shift = m.end()
        args = args[shift:]
    words = _words_with_offsets(args, escape)
    if not words:
        return []
    out: list[_Pair] = []
    if kw in ("ENV", "LABEL") and "=" not in words[0][0]:
        # Legacy ``ENV NAME value with spaces``.
        name, start, _ = words[0]
        rest_start = words[1][1] if len(words) > 1 else len(args)
        value = _unquote(args[rest_start:].strip(), escape)
        out.append(_Pair(ins, name, value, True, shift + start, shift + len(args.rstrip())))
        return out
    for raw, start, end in words:
        name, eq, value = raw.partition("=")
        out.append(_Pair(ins, _unquote(name, escape), _unquote(value, escape), bool(eq), shift + start, shift + end))
    return out


def _pair_finding(
    rule: Rule, ctx: CheckContext, pair: _Pair, message: str, severity: Severity | None = None
) -> Finding:
    span = pair.instruction.args_span(pair.start, pair.end)
    return rule.at_offsets(ctx, span.offset, span.end_offset, message, severity=severity)


def _all_instructions(ctx: CheckContext) -> Iterator[Instruction]:
    yield from ctx.doc.instructions


_VAR_REF = re.compile(r"\$(?:\{|[A-Za-z_])")


def _is_var_ref(text: str) -> bool:
    return _VAR_REF.search(text) is not None


def _chain_instructions(ctx: CheckContext) -> Iterator[Instruction]:
    for stage in ctx.target_chain:
        yield from stage.instructions


def _resolve(ctx: CheckContext, ins: Instruction, text: str) -> str | None:
    """``text`` with ENV/ARG values in effect at ``ins`` substituted; None if unknown."""
    if "$" not in text:
        return text
    try:
        env: dict[str, str | None] = dict(ctx.env_before(ins))
    except KeyError:
        return None
    value, resolved = substitute(text, env)
    return value if resolved and "$" not in value else None


# ---------------------------------------------------------------------------------------------
# Secrets: names, values, well-known token shapes.

# Tokens that make a variable name secret on their own (``DB_PASSWORD``, ``NPM_TOKEN``).
_SECRET_TOKENS = frozenset(
    {
        "password", "passwd", "passphrase", "secret", "secrets", "token", "credential",
        "credentials", "creds", "apikey", "privatekey", "secretkey", "accesskey", "authkey",
        "authtoken", "accesstoken", "refreshtoken", "clientsecret", "masterkey",
    }
)  # fmt: skip
# Abbreviations that are secret only next to another token (``DB_PASS``, but ``PWD`` alone is
# the working directory).
_SECRET_ABBREVIATIONS = frozenset({"pass", "pwd", "pw", "pword"})
# ``KEY`` is secret only with one of these before it: ``API_KEY``, ``SECRET_KEY``, but not
# ``GPG_KEY`` (a public key fingerprint in every docker-library image) or ``REPO_KEY``.
_KEY_QUALIFIERS = frozenset(
    {
        "api", "access", "private", "secret", "auth", "encryption", "encrypt", "master", "app",
        "session", "client", "account", "storage", "shared", "hmac", "jwt", "license",
        "subscription", "admin", "service", "crypt", "cipher", "aes", "cookie", "webhook",
    }
)  # fmt: skip
# A token anywhere in the name that says the value is public or not a credential at all.
_PUBLIC_TOKENS = frozenset(
    {
        "gpg", "pgp", "gnupg", "gpgkey", "gpgkeys", "pgpkey", "pgpkeys", "public", "pub",
        "publishable", "anon", "fingerprint", "fingerprints", "keyring", "keyserver", "keyid",
        "sha", "sha1", "sha256", "sha512", "checksum", "md5", "hash", "tokenizer", "tokenizers",
    }
)  # fmt: skip
# A last token that makes the variable *about* a secret, not the secret itself:
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
        "key" + "ring", "helper", "name" + "space", "salt" + "rounds", "complexity", "reset",
    }
)  # fmt: skip

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def _name_tokens(name: str) -> list[str]:
    tokens: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        if part:
            tokens += [t.lower() for t in _CAMEL.findall(part)]
    return tokens


def _is_public_name(name: str) -> bool:
    return any(t in _PUBLIC_TOKENS for t in _name_tokens(name))


def _is_secret_name(name: str) -> bool:
    """Whether a variable named ``name`` holds a credential, matched on whole name tokens."""
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


# Values that stand for "fill this in" or are well-known defaults: not leaked secrets.
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
        "rabbitmq", "sa", "docker", "ubuntu", "debian", "jenkins", "app", "secretkey",
        "secretpassword", "supersecret", "qwerty", "letmein", "insecure", "s3cr3t",
    }
)  # fmt: skip
_PLACEHOLDER_MARKS = ("changeme", "change_me", "change-me", "replace_me", "replace-me", "replaceme",
                      "placeholder", "example", "your_", "your-", "xxxx", "****", "....", "<", "{{",
                      "[[", "%%", "todo")  # fmt: skip


def _placeholder(value: str) -> bool:
    low = value.lower()
    norm = re.sub(r"[^a-z0-9]", "", low)
    if norm in _PLACEHOLDERS or not norm:
        return True
    if len(set(norm)) == 1:
        return True
    if low.startswith("your") or low.startswith("my-") or low.startswith("my_"):
        return True
    return any(mark in low for mark in _PLACEHOLDER_MARKS)


_URL_NO_CREDS = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^@\s]*$")
_NUMBER_OR_BOOL = re.compile(r"(?i)^(?:\d{1,5}|true|false|yes|no|on|off|y|n)$")


def _not_a_secret(value: str) -> bool:
    """Values that cannot be a leaked credential, whatever the variable is called."""
    v = value.strip()
    if len(v) < 3 or _is_var_ref(v) or _placeholder(v) or _NUMBER_OR_BOOL.match(v):
        return True
    if v.startswith(("/", "./", "../", "~/")) or re.match(r"^[A-Za-z]:[\\/]", v):
        return True  # a path: a reference to a secret, not the secret
    return _URL_NO_CREDS.match(v) is not None


# High-confidence shapes of real credentials; each is specific enough to need no name.
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
    ("a SendGrid key", re.compile(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")),
    ("a JSON web token", re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}")),
)  # fmt: skip
# Any of the shapes can only match text containing one of these (a cheap pre-filter).
_SHAPE_HINTS = ("PRIVATE KEY", "AKIA", "ASIA", "ABIA", "ACCA", "gh", "github_pat_", "glpat-",
                "xox", "k_live_", "AIza", "npm_", "pypi-", "hf_", "sk-", "SG.", "eyJ")  # fmt: skip


def _token_shape(text: str, name: str = "") -> str | None:
    """What well-known credential ``text`` contains, if any."""
    if len(text) < 20 or not any(h in text for h in _SHAPE_HINTS):
        return None
    for label, pattern in _TOKEN_SHAPES:
        m = pattern.search(text)
        if m is None or "EXAMPLE" in m.group().upper():
            continue
        if label == "a JSON web token" and name and _is_public_name(name):
            continue
        return label
    return None


_URL_CREDS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)://([^/\s:@]+)(?::([^/\s@]*))?@[^\s]")


def _url_credentials(text: str) -> str | None:
    """``https://user:password@host``: a description of the credential, or None.

    A password that is a variable, a placeholder or a well-known default is not reported,
    nor is a lone user name; a lone long token as the user (``https://<token>@github.com``)
    is."""
    if "://" not in text or "@" not in text:
        return None
    for m in _URL_CREDS.finditer(text):
        user, password = m.group(2), m.group(3)
        if password is None:
            if len(user) >= 20 and re.search(r"\d", user) and re.search(r"[A-Za-z]", user) and not _is_var_ref(user) and not _placeholder(user):
                return "a token in a URL"
            continue
        if _is_var_ref(password) or _not_a_secret(password) or password == user:
            continue
        return "a password in a URL"
    return None


def _secret_in_value(name: str, value: str) -> str | None:
    """Why the value of ``name`` is a leaked secret, or None."""
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
    can pull the image (`docker inspect`); ARG defaults are recorded in the image history and,
    like every literal, in the Dockerfile's own repository. A secret belongs in the runtime
    environment (`docker run -e`, an orchestrator's secrets) or, at build time, in a
    `RUN --mount=type=secret` mount, which leaves nothing behind.

    Catches, in every stage (a literal in the Dockerfile leaks through the repository whatever
    the stage): a variable whose name says it is a credential (name tokens such as PASSWORD,
    PASSWD, SECRET, TOKEN, CREDENTIALS, and KEY after API, ACCESS, PRIVATE, SECRET, AUTH,
    ENCRYPTION, MASTER, APP, CLIENT...: `DB_PASSWORD`, `NPM_TOKEN`, `AWS_SECRET_ACCESS_KEY`,
    `apiKey`) given a literal value; any value with the shape of a well-known credential
    (AWS access key ids, GitHub, GitLab, Slack, Stripe, npm, PyPI, Hugging Face, OpenAI,
    Anthropic and SendGrid tokens, Google API keys, PEM private keys, JSON web tokens) or a
    password inside a URL (`postgres://app:s3cret@db/app`). In the stages of the final image,
    also `ENV NPM_TOKEN=$NPM_TOKEN`: a secret build arg copied into the image environment.

    Leaves alone: names are matched on whole tokens, not substrings, so `GPG_KEY`, `GPG_KEYS`,
    `NGINX_GPGKEY` (public key fingerprints), `*_KEY_ID`, `PASSWORD_FILE`, `TOKEN_URL`,
    `SECRET_KEY_LENGTH`, `TOKENIZERS_PARALLELISM`, `PWD` and `KEYRING` are not secrets; empty
    values, variable references, paths (`/run/secrets/db`), plain URLs, numbers and booleans
    (`ALLOW_EMPTY_PASSWORD=yes`); obvious placeholders (`changeme`, `<your-token>`, `xxxx`,
    `example`) and well-known defaults (`postgres`, `root`, `guest`): they are not leaked
    secrets, and a default credential is a configuration matter. ARGs without a default are
    SL003's. The secret itself is never repeated in the message.
    """

    id = "SL002"
    name = "secret-in-env"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ("CIS-DI-0010", "DS-0031")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        escape = ctx.doc.escape
        chain_ids = {id(i) for i in _chain_instructions(ctx)}
        args_in_chain: set[str] = set()
        for ins in _all_instructions(ctx):
            kw = (ins.onbuild or ins).keyword
            if kw not in ("ENV", "ARG", "LABEL"):
                continue
            if kw == "ARG" and ins.onbuild is None and id(ins) in chain_ids:
                args_in_chain.update(p.name for p in _pairs(ins, escape))
            for pair in _pairs(ins, escape):
                if not pair.value:
                    continue
                what = "LABEL" if kw == "LABEL" else kw
                if kw == "LABEL":
                    reason = _token_shape(pair.value) or _url_credentials(pair.value)
                else:
                    reason = _secret_in_value(pair.name, pair.value)
                if reason:
                    where = (
                        "the image configuration (`docker inspect`)"
                        if kw != "ARG"
                        else "the image history and the Dockerfile"
                    )
                    yield _pair_finding(
                        self,
                        ctx,
                        pair,
                        f"{what} {pair.name} holds a secret ({reason}), stored in {where}; "
                        "pass it at run time, or at build time with `RUN --mount=type=secret`",
                    )
                    continue
                if (
                    kw == "ENV"
                    and id(ins) in chain_ids
                    and _is_secret_name(pair.name)
                    and _referenced_args(pair.value) & args_in_chain
                ):
                    yield _pair_finding(
                        self,
                        ctx,
                        pair,
                        f"ENV {pair.name} copies a build arg into the image environment, where "
                        "anyone who pulls the image can read it; use `RUN --mount=type=secret` "
                        "for build-time secrets and pass runtime ones with `docker run -e`",
                    )


def _referenced_args(value: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in re.finditer(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))", value)}


class SecretBuildArg(Rule):
    """A build arg named like a secret (`ARG NPM_TOKEN`) in a stage of the final image.

    Why: a build arg's value is recorded in the image history (`docker history` shows it in
    front of every RUN that follows), so a token passed with `--build-arg` ships with the
    image even though the Dockerfile holds no value. BuildKit's secret mounts
    (`RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci`) expose it to one RUN and
    record nothing.

    Catches: `ARG` with a secret-like name (the name tokens of SL002) and no default, or an
    empty one, in the final stage or a stage it is built FROM.

    Leaves alone: ARGs in build stages whose layers do not reach the final image (the
    multi-stage way of keeping a token out of it; the token still lands in that stage's
    cache); ARGs declared before the first FROM (usable only in FROM lines); non-secret names
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
                slug = pair.name.lower()
                yield _pair_finding(
                    self,
                    ctx,
                    pair,
                    f"build arg {pair.name} looks like a secret: its value is recorded in the "
                    f"image history; use `RUN --mount=type=secret,id={slug},env={pair.name}` instead",
                )


# ---------------------------------------------------------------------------------------------
# RUN helpers


def _words(command: Command) -> list[Word]:
    return command.unwrapped()


def _dedupe(findings: Iterable[Finding]) -> Iterator[Finding]:
    """``sh -c "$(...)"`` puts a command in both the outer and the inner script."""
    seen: set[tuple[int, int, str]] = set()
    for f in findings:
        key = (f.line, f.column, f.message)
        if key not in seen:
            seen.add(key)
            yield f


_OPTION_SECRETS = frozenset(
    {
        "--password", "--passwd", "--token", "--api-key", "--apikey", "--access-token",
        "--auth-token", "--client-secret", "--http-password", "--ftp-password",
        "--proxy-password", "--secret-key", "--private-token",
    }
)  # fmt: skip
# ``-p`` takes a password for these programs only (elsewhere it is a port, a path...).
_DASH_P_PASSWORD = frozenset({"sshpass", "docker", "podman", "buildah", "skopeo", "helm", "oras"})
_MYSQL_CLIENTS = frozenset({"mysql", "mysqladmin", "mysqldump", "mariadb", "mariadb-admin", "mariadb-dump"})
_NPMRC_AUTH = re.compile(r"(?i)(?:^|[\s:])_(?:authtoken|auth|password)\s*=\s*([^\s\"']+)")


def _literal_secret_word(word: Word) -> bool:
    return not word.dynamic and not _not_a_secret(word.text) and word.text != "-"


class SecretInRun(Rule):
    """A credential written literally into a RUN command.

    Why: the RUN line is recorded verbatim in the image history (`docker history
    --no-trunc`) and lives in the Dockerfile's repository. Build-time credentials belong in
    a secret mount: `RUN --mount=type=secret,id=token,env=TOKEN ...`.

    Catches, in every stage: well-known token shapes (the list of SL002) in any word; a
    password (or a long token as the user) inside a URL (`git clone
    https://user:s3cret@host/repo`); a literal value for `--password`, `--token`, `--api-key`,
    `--access-token`, `--client-secret`, `--http-password` and the like; `-p <password>` of
    `docker login`, `sshpass` and similar; `mysql -p<password>`; `curl -u user:password`; an
    npm auth token written literally (`_authToken=...`).

    Leaves alone: values from variables (`--password "$DB_PASSWORD"`, which an ARG of the final
    image would leak instead: see SL003), placeholders and well-known defaults (`-proot`,
    `admin:admin`), `--password-stdin`, `--password-file` and other options that take a path.
    """

    id = "SL004"
    name = "secret-in-run"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ("CIS-DI-0010",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from _dedupe(self._check(ctx))

    def _check(self, ctx: CheckContext) -> Iterator[Finding]:
        advice = "; pass it with `RUN --mount=type=secret` instead"
        for run in ctx.runs:
            for command in run.commands:
                words = _words(command)
                if not words:
                    continue
                prog = posixpath.basename(words[0].text)
                for i, word in enumerate(words):
                    text = word.text
                    shape = _token_shape(text)
                    if shape:
                        yield self.at_command(ctx, command, f"RUN contains {shape}, recorded in the image history{advice}", word=word)
                        continue
                    creds = _url_credentials(text)
                    if creds:
                        yield self.at_command(ctx, command, f"RUN puts {creds}, recorded in the image history{advice}", word=word)
                        continue
                    if i == 0:
                        continue
                    finding = self._option_secret(ctx, command, prog, words, i)
                    if finding is not None:
                        yield finding

    def _option_secret(self, ctx: CheckContext, command: Command, prog: str, words: list[Word], i: int) -> Finding | None:
        word = words[i]
        text = word.text
        nxt = words[i + 1] if i + 1 < len(words) else None
        msg = f"`{prog}` is given a literal credential, recorded in the image history; pass it with `RUN --mount=type=secret` instead"
        opt, eq, value = text.partition("=")
        if opt in _OPTION_SECRETS:
            if eq:
                if not word.dynamic and not _not_a_secret(value):
                    return self.at_command(ctx, command, msg, word=word)
            elif nxt is not None and not nxt.text.startswith("-") and _literal_secret_word(nxt):
                return self.at_command(ctx, command, msg, word=nxt)
            return None
        if text == "-p" and prog in _DASH_P_PASSWORD and nxt is not None and _literal_secret_word(nxt):
            return self.at_command(ctx, command, msg, word=nxt)
        if prog in _MYSQL_CLIENTS and text.startswith("-p") and len(text) > 2 and not word.dynamic and not _not_a_secret(text[2:]):
            return self.at_command(ctx, command, msg, word=word)
        if prog == "curl" and text in ("-u", "--user", "-U", "--proxy-user") and nxt is not None and not nxt.dynamic:
            user, colon, password = nxt.text.partition(":")
            if colon and password and password != user and not _not_a_secret(password):
                return self.at_command(ctx, command, msg, word=nxt)
        if "_auth" in text.lower():
            m = _NPMRC_AUTH.search(text)
            if m and not word.dynamic and not _not_a_secret(m.group(1)):
                return self.at_command(ctx, command, "an npm auth token is written literally, recorded in the image history; use `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc`", word=word)
            if text.lower().endswith((":_authtoken", ":_auth", ":_password")) and nxt is not None and _literal_secret_word(nxt):
                return self.at_command(ctx, command, "an npm auth token is written literally, recorded in the image history; use `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc`", word=nxt)
        return None


# ---------------------------------------------------------------------------------------------
# Secret files copied into the image.

_PRIVATE_KEY_FILES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"})
_CREDENTIAL_FILES = frozenset({".netrc", "_netrc", ".git-credentials", ".pgpass", ".pypirc", ".dockercfg", ".htpasswd", ".vault-token"})
_SECRET_DIRS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube", ".azure", ".gcloud"})
_DOTENV = frozenset({".env", ".env.local", ".env.production.local", ".env.development.local"})
_KEY_SUFFIXES = (".p12", ".pfx")
# ``*.key`` files that are public repository keys, not private keys.
_PUBLIC_KEY_HINTS = ("gpg", "pgp", "pub", "release", "repo", "apt", "sign", "keyring", "archive", "asc", "yarn", "nodesource", "docker")


def _secret_file_kind(path: str) -> tuple[str, bool] | None:
    """(what the file is, whether it certainly is a secret) for a source or destination path."""
    p = path.rstrip("/")
    base = posixpath.basename(p)
    parent = posixpath.basename(posixpath.dirname(p))
    low = base.lower()
    if low in _PRIVATE_KEY_FILES:
        return "an SSH private key", True
    if low in _CREDENTIAL_FILES:
        return f"a credentials file ({base})", True
    if parent == ".aws" and low in ("credentials", "config"):
        return "AWS credentials", True
    if parent == ".docker" and low == "config.json":
        return "registry credentials (.docker/config.json)", True
    if parent == ".kube" and low == "config":
        return "a kubeconfig", True
    if low in _SECRET_DIRS:
        return f"the {base} directory", True
    if low in _DOTENV:
        return f"a {base} file, which usually holds secrets", False
    if low.endswith(_KEY_SUFFIXES):
        return f"a private key store ({base})", False
    if low.endswith(".key") and not any(h in low for h in _PUBLIC_KEY_HINTS):
        return f"a private key ({base})", False
    return None


class SecretFileCopied(Rule):
    """COPY or ADD of a private key or credentials file into the image.

    Why: every layer is shipped with the image; a key copied in and deleted by a later RUN
    is still in the earlier layer. Use `RUN --mount=type=ssh` for SSH access during the
    build and `RUN --mount=type=secret` for tokens and config files; give runtime secrets
    to the container at run time.

    Catches: sources or destinations named `id_rsa`, `id_dsa`, `id_ecdsa`, `id_ed25519`,
    `.netrc`, `.git-credentials`, `.pgpass`, `.pypirc`, `.dockercfg`, `.htpasswd`,
    `.vault-token`, `.aws/credentials`, `.docker/config.json`, `.kube/config`, whole `.ssh`,
    `.aws`, `.gnupg`, `.docker`, `.kube` directories (error); `.env` and `.env.local`
    files, `*.p12`/`*.pfx` key stores and `*.key` files (warning: they may hold test data).
    In a build stage whose layers do not reach the final image the severity is one step
    lower (the secret stays in the build cache, not in the pushed image).

    Leaves alone: public keys (`id_rsa.pub`, `authorized_keys`, `known_hosts`), repository
    signing keys (`*.gpg.key`, `Release.key`, `nodesource.key`), `.env.example`,
    `.env.production` (meant for public settings), `.npmrc` (usually registry settings only).
    """

    id = "SL005"
    name = "secret-file-copied"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ("CIS-DI-0010",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins in _all_instructions(ctx):
            if ins.keyword not in ("COPY", "ADD") or ins.heredocs or len(ins.values) < 2:
                continue
            stage = ctx.stage_of.get(id(ins))
            in_final = stage is not None and ctx.in_final_image(stage)
            for path in ins.values:
                if "://" in path:
                    continue
                kind = _secret_file_kind(_unquote(path))
                if kind is None:
                    continue
                what, certain = kind
                severity = Severity.ERROR if certain else Severity.WARNING
                if not in_final:
                    severity = Severity.WARNING if certain else Severity.INFO
                where = "the image" if in_final else f"a layer of build stage {stage.label if stage else '?'}"
                yield self.at_offsets(
                    ctx,
                    *_args_word_offsets(ins, path),
                    f"{ins.keyword} puts {what} into {where}; use `RUN --mount=type=secret` "
                    "(or `--mount=type=ssh` for SSH keys) so that it is never stored in a layer",
                    severity=severity,
                )
                break


def _args_word_offsets(ins: Instruction, word: str) -> tuple[int, int]:
    i = ins.args.find(word) if word else -1
    if i < 0:
        return ins.span.offset, ins.span.offset + len(ins.keyword)
    span = ins.args_span(i, i + len(word))
    return span.offset, span.end_offset


# ---------------------------------------------------------------------------------------------
# ADD


_URL = re.compile(r"(?i)^(?:https?|ftp)://")
_GIT_URL = re.compile(r"(?i)^(?:git@|git://|ssh://)|\.git(?:$|[#?/])")
_COMMIT = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_ARCHIVE = re.compile(r"(?i)\.(?:tar|tgz|tbz2?|txz|tzst|tlz|taz|gz|bz2|xz|zst|lz|lzma|z)$|\.tar\.")
_VERIFY_PROGRAMS = frozenset({"sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "shasum", "b2sum", "gpg", "gpgv", "cosign", "minisign", "signify"})


def _add_sources(ins: Instruction) -> list[str]:
    values = [_unquote(v) for v in ins.values]
    return values[:-1] if len(values) >= 2 else []


def _is_git_source(src: str) -> bool:
    if _URL.match(src) and not _GIT_URL.search(src):
        return False
    return _GIT_URL.search(src) is not None


def _git_pinned(src: str) -> bool:
    ref = ""
    if "#" in src:
        ref = src.split("#", 1)[1].split(":", 1)[0]
    m = re.search(r"[?&](?:ref|commit)=([^&#]+)", src)
    if m:
        ref = m.group(1)
    return bool(_COMMIT.match(ref.lower())) or re.search(r"[?&]checksum=", src) is not None


class AddUrlWithoutChecksum(Rule):
    """`ADD <url>` without `--checksum`, or `ADD` of a Git repository at a movable ref.

    Why: what a URL serves can change (a re-tagged release, a compromised host), and ADD
    copies it into the image unverified. `ADD --checksum=sha256:<hex> <url> <dest>` (Dockerfile
    syntax 1.6+) makes the build fail when the content differs; a Git source pinned to a full
    commit id (`ADD https://github.com/o/r.git#<sha> /src`) cannot change.

    Catches: `ADD http(s)://...` and `ADD ftp://...` without `--checksum`; `ADD` of a Git URL
    whose ref is a branch or tag (or missing) and that has no `--checksum`.

    Leaves alone: ADD with `--checksum`; Git sources pinned to a 40- or 64-hex commit; a
    download verified by a later RUN of the same stage that runs `sha256sum` (or another SHA
    tool, `gpg`, `cosign`, `minisign`) on the downloaded file; `RUN curl` (SL008 and the
    pinning rules look at those).
    """

    id = "SL006"
    name = "add-url-no-checksum"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ("CIS-DI-0009", "DS-0005")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins in _all_instructions(ctx):
            if ins.keyword != "ADD" or ins.flag("checksum") is not None:
                continue
            values = [_unquote(v) for v in ins.values]
            if len(values) < 2:
                continue
            dest = values[-1]
            for src in values[:-1]:
                if _is_git_source(src):
                    if _git_pinned(src):
                        continue
                    msg = (
                        "ADD of a Git repository at a branch or tag, which can move; pin it to a "
                        "commit (`#<40-hex sha>`) or add `--checksum=<commit sha>`"
                    )
                elif _URL.match(src):
                    if self._verified_later(ctx, ins, src, dest):
                        continue
                    plain = " over plain HTTP" if src.lower().startswith(("http:", "ftp:")) else ""
                    msg = (
                        f"ADD downloads {_short(src)}{plain} without verifying it; add "
                        "`--checksum=sha256:<hex>` so the build fails if the content changes"
                    )
                else:
                    continue
                yield self.at_offsets(ctx, *_args_word_offsets(ins, src), msg)

    @staticmethod
    def _verified_later(ctx: CheckContext, ins: Instruction, src: str, dest: str) -> bool:
        stage = ctx.stage_of.get(id(ins))
        if stage is None:
            return False
        names = {posixpath.basename(src.split("?", 1)[0].split("#", 1)[0].rstrip("/"))}
        if not dest.endswith("/"):
            names.add(posixpath.basename(dest))
        names.discard("")
        after = False
        for run in ctx.runs_in(stage):
            if run.instruction is ins:
                continue
            if not after and run.instruction.span.offset < ins.span.offset:
                continue
            after = True
            commands = run.commands
            if not any(c.program in _VERIFY_PROGRAMS or (c.program == "openssl" and "dgst" in c.argv) for c in commands):
                continue
            for c in commands:
                if any(n in w.text for w in c.words for n in names):
                    return True
        return False


def _short(url: str) -> str:
    return url if len(url) <= 60 else url[:57] + "..."


class AddLocalFile(Rule):
    """`ADD` of local files that are not archives: use `COPY`.

    Why: ADD also fetches URLs and unpacks local tar archives; for plain files and
    directories COPY does the same with no surprises (a file that turns out to be a tar
    archive is extracted by ADD), which is why Docker's own guide says to prefer it.

    Catches: ADD whose sources are all local (no URL, no Git source) and none looks like an
    archive ADD would unpack (`.tar`, `.tar.*`, `.tgz`, `.gz`, `.xz`, `.bz2`, `.zst` ...).

    Leaves alone: local tar archives (`FROM scratch` + `ADD rootfs.tar.xz /` is what ADD is
    for); URLs and Git sources (SL006); sources whose name is a variable that cannot be
    resolved from ARG/ENV defaults, since it may name an archive; heredoc ADD.
    """

    id = "SL007"
    name = "add-instead-of-copy"
    practice = Practice.SECURITY
    severity = Severity.INFO
    refs = ("DL3020", "CIS-DI-0009", "DS-0005")

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for ins in _all_instructions(ctx):
            if ins.keyword != "ADD" or ins.heredocs:
                continue
            sources = _add_sources(ins)
            if not sources:
                continue
            local = True
            for src in sources:
                if _URL.match(src) or _is_git_source(src):
                    local = False
                    break
                resolved = _resolve(ctx, ins, src) if ins.keyword else None
                if resolved is None or _ARCHIVE.search(resolved) or resolved.endswith("*"):
                    local = False
                    break
            if local:
                yield self.at_instruction(
                    ctx, ins, "ADD of local files that are not archives: use COPY, which does the same without ADD's URL fetching and tar extraction"
                )


# ---------------------------------------------------------------------------------------------
# Remote scripts piped into a shell.

_FETCHERS = frozenset({"curl", "wget", "fetch"})
_INTERPRETERS = SHELLS | {"python", "python2", "python3", "perl", "ruby", "node", "php", "pwsh"}
_PASSTHROUGH = frozenset({"tee", "cat", "gunzip", "zcat", "gzip", "bzcat", "xzcat", "xz", "bzip2", "dos2unix", "tr", "sed"})
# Interpreter options that take a value (so the value is not taken for a script name).
_INTERPRETER_VALUE_OPTS = frozenset({"-o", "+o", "-O", "+O", "-W", "-X", "--rcfile", "--init-file", "-r", "-I", "-d"})
_INLINE_CODE_OPTS = ("-c", "-e", "-E", "-m", "-p", "-r", "--eval", "--print", "-Command", "-command", "-File", "-file")
_SUBST_FETCH = re.compile(r"(?:\$\(|`|<\()\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:sudo\s+)?(?:\S*/)?(?:curl|wget|fetch)\b")


def _interpreter_name(command: Command) -> str:
    prog = command.program
    if prog == "busybox":
        words = command.unwrapped()
        return posixpath.basename(words[1].text) if len(words) > 1 else ""
    if re.match(r"^python\d+(\.\d+)?$", prog):
        return "python"
    return prog


def _reads_script_from_stdin(command: Command) -> bool:
    """Whether an interpreter runs the script it is fed on stdin (``sh``, ``bash -s --``,
    ``python3 -``), not one named on the command line (``python3 -c ...``, ``sh x.sh``)."""
    words = command.unwrapped()
    if words and posixpath.basename(words[0].text) == "busybox":
        words = words[1:]
    args = words[1:]
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "-" or t == "--":
            return True
        if t.startswith(("-", "+")) and len(t) > 1:
            if t in _INLINE_CODE_OPTS or (
                not t.startswith("--") and t[0] == "-" and any(ch in t[1:] for ch in "ce") and t not in ("-e",) and _interpreter_name(command) in SHELLS
            ):
                return False
            if t in _INLINE_CODE_OPTS:
                return False
            if t[0] == "-" and not t.startswith("--") and "s" in t[1:] and _interpreter_name(command) in SHELLS:
                return True
            i += 2 if t in _INTERPRETER_VALUE_OPTS else 1
            continue
        return False  # a script file
    return True


def _fetches_to_stdout(command: Command) -> bool:
    words = command.unwrapped()
    prog = posixpath.basename(words[0].text) if words else ""
    if prog == "busybox" and len(words) > 1:
        words = words[1:]
        prog = posixpath.basename(words[0].text)
    args = words[1:]
    for i, w in enumerate(args):
        t = w.text
        nxt = args[i + 1].text if i + 1 < len(args) else ""
        if prog == "curl":
            if t in ("-o", "--output") and nxt not in ("-", "/dev/stdout"):
                return False
            if t.startswith("--output=") and t[9:] not in ("-", "/dev/stdout"):
                return False
            if t in ("-O", "--remote-name", "--remote-name-all"):
                return False
            if t.startswith("-") and not t.startswith("--") and "o" in t[1:]:
                rest = t[t.index("o", 1) + 1 :]
                target = rest or nxt
                if target not in ("-", "/dev/stdout"):
                    return False
        else:
            if t in ("-O", "--output-document"):
                return nxt in ("-", "/dev/stdout")
            if t.startswith("--output-document="):
                return t.split("=", 1)[1] in ("-", "/dev/stdout")
            if t.startswith("-") and not t.startswith("--") and "O" in t[1:]:
                rest = t[t.index("O", 1) + 1 :]
                return (rest or nxt) in ("-", "/dev/stdout")
    # curl writes to stdout by default; wget and fetch write a file unless told otherwise.
    return prog == "curl"


class PipeToShell(Rule):
    """A downloaded script run straight from the network: `curl ... | sh`.

    Why: the script is executed as it arrives, unverified: a compromised or hijacked server
    (or a truncated download) runs arbitrary code in the build, with root rights. Download
    to a file, check it against a known SHA-256 (`echo "<sha256>  install.sh" | sha256sum -c`)
    or a signature, then run it.

    Catches, in every stage (what a build stage runs shapes what it hands the final image):
    `curl`/`wget -O-` piped into `sh`, `bash`, `zsh`, `python`, `perl`, `ruby`, `node` or
    `php` reading the script from stdin (`| sh`, `| sudo -E bash -`, `| python3 -`,
    `| php -- --install-dir=...`, also through `tee`/`gunzip`); `sh -c "$(curl ...)"`,
    `bash <(curl ...)`, `eval "$(wget -qO- ...)"`, `source <(curl ...)`.

    Leaves alone: downloads piped into a program that does not run them (`| tar xz`,
    `| gpg --dearmor`, `| python3 -c 'import json...'`), `wget` without `-O-`, and a file
    downloaded, verified and then run (a different shape, the right one).
    """

    id = "SL008"
    name = "pipe-to-shell"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from _dedupe(self._check(ctx))

    def _check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            for command in run.commands:
                prog = command.program
                if prog == "busybox":
                    words = command.unwrapped()
                    prog = posixpath.basename(words[1].text) if len(words) > 1 else ""
                if prog in _FETCHERS and command.pipe_to is not None and _fetches_to_stdout(command):
                    sink = self._shell_sink(command)
                    if sink is not None:
                        start = command.source_span()[0]
                        end = sink.source_span()[1]
                        yield self.at_offsets(
                            ctx,
                            start,
                            max(start, end),
                            f"`{prog} ... | {_interpreter_name(sink)}` runs a downloaded script unverified; download it to a file, check its sha256 (`sha256sum -c`), then run it",
                        )
                elif prog in _INTERPRETERS or prog in ("eval", "source", "."):
                    for word in command.unwrapped()[1:]:
                        if word.dynamic and _SUBST_FETCH.search(word.raw):
                            yield self.at_command(
                                ctx,
                                command,
                                f"`{prog}` runs a script fetched by a command substitution, unverified; download it to a file, check its sha256 (`sha256sum -c`), then run it",
                                word=word,
                            )
                            break

    @staticmethod
    def _shell_sink(command: Command) -> Command | None:
        current = command.pipe_to
        hops = 0
        while current is not None and hops < 6:
            name = _interpreter_name(current)
            if name in _INTERPRETERS or name == "python":
                return current if _reads_script_from_stdin(current) else None
            if name not in _PASSTHROUGH:
                return None
            current = current.pipe_to
            hops += 1
        return None


# ---------------------------------------------------------------------------------------------
# TLS verification and signature checks turned off.

_FALSEY = frozenset({"0", "false", "no", "off", "n"})
# curl short options that take a value: in a cluster, what follows them is the value.
_CURL_VALUE_LETTERS = frozenset("oHudxAeXTFwbcrmyYzCEKPQtUD")
_GENERIC_INSECURE_OPTS = frozenset({"--no-check-certificate", "--insecure-skip-tls-verify", "--no-verify-ssl", "--skip-tls-verify", "--no-strict-ssl"})
_GENERIC_VERIFY_FALSE = re.compile(r"(?i)^--(?:[a-z]+-)?(?:tls-?verify|ssl-?verify|verify-ssl|strict-ssl)=(?:false|0|no|off)$")
# Settings that turn verification off, as they are written in config files and echo lines.
_TLS_TEXT = re.compile(
    r"(?i)(?:strict[-_]ssl\s*[=:]?\s*\"?false"
    r"|\bsslverify\s*[=:]?\s*\"?(?:0|false|no|off)\b"
    r"|\bssl_verify\s*[=:]\s*(?:false|0|no)\b"
    r"|check_certificate\s*=\s*off"
    r"|verify-(?:peer|host)\"?\s*[= ]?\s*\"?(?:false|0|no)\b"
    r"|node_tls_reject_unauthorized\s*=\s*[\"']?0"
    r"|pythonhttpsverify\s*=\s*[\"']?0"
    r"|git_ssl_no_verify\s*=\s*[\"']?(?:1|true|yes)"
    r"|^\s*insecure\s*$)"
)
_TLS_ENV_FALSEY = {"NPM_CONFIG_STRICT_SSL", "YARN_STRICT_SSL", "YARN_ENABLE_STRICT_SSL", "CONDA_SSL_VERIFY", "PIP_SSL_VERIFY"}
_TLS_ENV_NONEMPTY = {"PIP_TRUSTED_HOST", "UV_INSECURE_HOST", "GOINSECURE"}


def _tls_env(name: str, value: str) -> str | None:
    """What an environment variable set to ``value`` disables, or None."""
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
    if upper in _TLS_ENV_NONEMPTY:
        return "TLS certificate checks for the listed hosts"
    if upper == "GOFLAGS" and "-insecure" in v:
        return "TLS checks of Go module downloads"
    return None


def _sig_env(name: str, value: str) -> str | None:
    upper = name.upper()
    v = value.strip().lower()
    if upper == "GOSUMDB" and v == "off":
        return "Go's checksum database"
    if upper == "GONOSUMCHECK" and v and v not in _FALSEY and not _is_var_ref(v):
        return "Go's checksum database"
    return None


def _env_findings(rule: Rule, ctx: CheckContext, judge: Callable_str) -> Iterator[Finding]:
    escape = ctx.doc.escape
    for ins in _all_instructions(ctx):
        if (ins.onbuild or ins).keyword not in ("ENV", "ARG"):
            continue
        for pair in _pairs(ins, escape):
            what = judge(pair.name, pair.value)
            if what:
                yield _pair_finding(
                    rule, ctx, pair, f"{pair.name}={pair.value} turns off {what}; remove it (trust a private CA by adding its certificate instead)"
                )


class TlsVerificationDisabled(Rule):
    """TLS certificate verification turned off for downloads (`curl -k`, `pip --trusted-host`...).

    Why: without certificate checks anyone on the network path (a proxy, a hijacked DNS
    answer) can serve different content, and the build installs it. For a private CA or a
    TLS-intercepting proxy, add its certificate to the image's trust store
    (`COPY ca.crt /usr/local/share/ca-certificates/ && update-ca-certificates`) instead.

    Catches, in every stage: `curl -k`/`--insecure`/`--proxy-insecure` (also inside a short
    option cluster such as `-fsSLk`); `--no-check-certificate` (wget and others),
    `--insecure-skip-tls-verify`, `--no-verify-ssl`, `--tls-verify=false` and similar options
    of any program; `pip --trusted-host` and `pip config set global.trusted-host`,
    `uv --allow-insecure-host`; `npm|yarn|pnpm config set strict-ssl false`,
    `--strict-ssl=false`; `git -c http.sslVerify=false`, `git config http.sslVerify false`;
    `conda config --set ssl_verify false`; `composer config secure-http false`; apt's
    `Acquire::https::Verify-Peer "false"`; `sslverify=0` for yum/dnf; the same settings
    echoed into config files (`.npmrc`, `.curlrc`, `.wgetrc`, `pip.conf`, yum repos); ENV, ARG
    and command prefixes `NODE_TLS_REJECT_UNAUTHORIZED=0`, `PYTHONHTTPSVERIFY=0`,
    `GIT_SSL_NO_VERIFY=1`, `NPM_CONFIG_STRICT_SSL=false`, `PIP_TRUSTED_HOST`, `GOINSECURE`.

    Leaves alone: `-k` of any program other than curl (`wget -k` converts links); settings
    that turn verification on (`strict-ssl true`); values that are variables. Package
    signature checks are SL010's.
    """

    id = "SL009"
    name = "tls-verification-disabled"
    practice = Practice.SECURITY
    severity = Severity.ERROR
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        yield from _env_findings(self, ctx, _tls_env)
        yield from _dedupe(self._check_runs(ctx))

    def _check_runs(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            for command in run.commands:
                for name, value in command.assignments:
                    what = _tls_env(name, value)
                    if what:
                        yield self.at_command(ctx, command, f"{name}={value} turns off {what}; trust the needed CA certificate instead")
                hit = self._insecure_word(command)
                if hit is not None:
                    word, what = hit
                    yield self.at_command(
                        ctx,
                        command,
                        f"{what} turns off TLS certificate verification; trust the needed CA certificate instead (`update-ca-certificates`)",
                        word=word,
                    )

    @staticmethod
    def _insecure_word(command: Command) -> tuple[Word, str] | None:
        words = command.unwrapped()
        if not words:
            return None
        prog = posixpath.basename(words[0].text)
        if prog == "busybox" and len(words) > 1:
            words = words[1:]
            prog = posixpath.basename(words[0].text)
        pip = bool(re.match(r"^pip\d*(\.\d+)?$", prog)) or (
            bool(re.match(r"^python\d*(\.\d+)?$", prog)) and len(words) > 2 and words[1].text == "-m" and words[2].text.startswith("pip")
        )
        lows = [w.text.lower() for w in words]
        for i, word in enumerate(words[1:], start=1):
            t = word.text
            low = lows[i]
            nxt = lows[i + 1] if i + 1 < len(words) else ""
            if prog == "curl":
                if t in ("--insecure", "--proxy-insecure", "--doh-insecure"):
                    return word, f"`curl {t}`"
                if t.startswith("-") and not t.startswith("--"):
                    for ch in t[1:]:
                        if ch == "k":
                            return word, "`curl -k`"
                        if ch in _CURL_VALUE_LETTERS:
                            break
            if t in _GENERIC_INSECURE_OPTS or _GENERIC_VERIFY_FALSE.match(t):
                return word, f"`{prog} {t}`"
            if pip and (t == "--trusted-host" or t.startswith("--trusted-host=") or low.endswith(".trusted-host")):
                return word, f"`{prog} {t}`"
            if prog == "uv" and (t == "--allow-insecure-host" or t.startswith("--allow-insecure-host=")):
                return word, f"`uv {t}`"
            if prog in ("npm", "yarn", "pnpm") and low in ("strict-ssl", "enablestrictssl") and nxt in _FALSEY:
                return word, f"`{prog} config set {t} {nxt}`"
            if prog == "git":
                m = re.match(r"^http\.(?:.*\.)?sslverify(?:=(.*))?$", low)
                if m and ((m.group(1) or nxt) in _FALSEY):
                    return word, f"git's {t}"
            if prog == "conda" and low == "ssl_verify" and nxt in _FALSEY:
                return word, "`conda config --set ssl_verify false`"
            if prog in ("composer", "composer.phar") and ((low == "secure-http" and nxt in _FALSEY) or (low == "disable-tls" and nxt in ("true", "1"))):
                return word, f"`composer config {t} {nxt}`"
            if prog == "apt-get" or prog == "apt" or prog in ("echo", "printf", "tee", "sed") or not word.dynamic:
                if _TLS_TEXT.search(t) and (prog != "curl" and prog != "wget" or "=" in t):
                    if low.strip() == "insecure" and not any(r[1].endswith(".curlrc") for r in command.redirects):
                        continue
                    return word, f"`{_short(t.strip())}`"
        return None


_LOCAL_PACKAGE = re.compile(r"(?i)\.(?:rpm|apk|deb)$")


def _all_local(packages: list[Word]) -> bool:
    """Whether every package argument is a local file (checked by path, not fetched)."""
    if not packages:
        return False
    for p in packages:
        t = p.text
        if "://" in t:
            return False
        if not (t.startswith(("/", "./", "../", "~")) or _LOCAL_PACKAGE.search(t) or ("/" in t and not t.startswith("@"))):
            return False
    return True


_GPGCHECK_OFF = re.compile(r"(?i)\b(?:repo_)?gpgcheck\s*=\s*(?:0|false|no|off)\b")
_APT_UNAUTH = re.compile(r"(?i)(?:allowunauthenticated|allowinsecurerepositories|allowdowngradetoinsecurerepositories)\s*[= ]\s*\"?(?:1|true|yes)")


class SignatureCheckDisabled(Rule):
    """Package signature checks turned off (`yum --nogpgcheck`, `apk --allow-untrusted`...).

    Why: signatures are what proves that a package comes from the distribution (or vendor)
    and not from whoever answered the download; mirrors are plain HTTP more often than not.
    Import the repository's signing key instead.

    Catches, in every stage: `yum`/`dnf`/`microdnf`/`tdnf` `--nogpgcheck` and
    `--setopt=gpgcheck=0`; `gpgcheck=0` written into repo files (`echo`, `sed`); `rpm
    --nosignature`/`--nodigest`; `apk --allow-untrusted`; `apt-get --allow-unauthenticated`,
    `--allow-insecure-repositories`, `--force-yes` and their `-o APT::...=true` forms;
    `[trusted=yes]` in an apt sources line; `zypper --no-gpg-checks` and `zypper addrepo -G`;
    `GOSUMDB=off`, `GONOSUMCHECK=1` (ENV, ARG or command prefix).

    Leaves alone: installs whose packages are all local files (`apk add --allow-untrusted
    /tmp/pkg.apk`, `yum localinstall --nogpgcheck ./x.rpm`): those are typically built in an
    earlier stage, and their download, if any, is where verification belongs. TLS checks are
    SL009's.
    """

    id = "SL010"
    name = "signature-check-disabled"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        escape = ctx.doc.escape
        for ins in _all_instructions(ctx):
            if (ins.onbuild or ins).keyword not in ("ENV", "ARG"):
                continue
            for pair in _pairs(ins, escape):
                what = _sig_env(pair.name, pair.value)
                if what:
                    yield _pair_finding(self, ctx, pair, f"{pair.name}={pair.value} turns off {what}; use GONOSUMDB/GOPRIVATE for private modules only")
        yield from _dedupe(self._check_runs(ctx))

    def _check_runs(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.runs:
            ops = {id(op.command): op for op in run.ops}
            for command in run.commands:
                for name, value in command.assignments:
                    what = _sig_env(name, value)
                    if what:
                        yield self.at_command(ctx, command, f"{name}={value} turns off {what}; use GONOSUMDB/GOPRIVATE for private modules only")
                hit = self._unsigned_word(command, ops.get(id(command)))
                if hit is not None:
                    word, what = hit
                    yield self.at_command(ctx, command, f"{what} turns off package signature checks; import the repository's signing key instead", word=word)

    @staticmethod
    def _unsigned_word(command: Command, op: object) -> tuple[Word, str] | None:
        from slimline.dockerfile.pkgmgr import PackageOp

        words = command.unwrapped()
        if not words:
            return None
        prog = posixpath.basename(words[0].text)
        packages = op.packages if isinstance(op, PackageOp) else [w for w in words[1:] if not w.text.startswith("-")]
        manager = op.manager if isinstance(op, PackageOp) else ""
        action = op.action if isinstance(op, PackageOp) else ""
        local = _all_local(packages[1:] if not isinstance(op, PackageOp) else packages) or action == "localinstall"
        for i, word in enumerate(words[1:], start=1):
            t = word.text
            low = t.lower()
            nxt = words[i + 1].text.lower() if i + 1 < len(words) else ""
            if manager == "dnf" and (low == "--nogpgcheck" or (low.startswith("--setopt") and _GPGCHECK_OFF.search(low + " " + nxt))):
                if not local:
                    return word, f"`{prog} {t}`"
            elif manager == "apk" and low == "--allow-untrusted":
                if not local:
                    return word, "`apk --allow-untrusted`"
            elif manager == "apt" and (low in ("--allow-unauthenticated", "--allow-insecure-repositories", "--force-yes") or _APT_UNAUTH.search(low + " " + nxt if low == "-o" else low)):
                if not local:
                    return word, f"`{prog} {t}{' ' + nxt if low == '-o' else ''}`"
            elif manager == "zypper" and (low in ("--no-gpg-checks", "--no-gpgcheck") or (low == "-g" and action in ("ar", "addrepo"))):
                if not local:
                    return word, f"`zypper {t}`"
            elif prog == "rpm" and low in ("--nosignature", "--nodigest", "--nosig"):
                rpm_pkgs = [w for w in words[1:] if not w.text.startswith("-")]
                if any("://" in w.text for w in rpm_pkgs):
                    return word, f"`rpm {t}`"
            elif _GPGCHECK_OFF.search(t) and (prog in ("echo", "printf", "sed", "tee", "cat", "crudini") or "[" in t):
                return word, f"`{_short(t.strip())}`"
            elif ("trusted=yes" in low or "allow-insecure=yes" in low) and ("deb " in low or "deb-src " in low or "deb [" in low):
                return word, "`[trusted=yes]` in an apt source"
            elif low.startswith("gosumdb=off") or low.startswith("gonosumcheck=1"):
                return word, f"`{t}`"
        return None


# ---------------------------------------------------------------------------------------------
# Whole-system upgrades.

_UPGRADE_ACTIONS: dict[str, frozenset[str]] = {
    "apt": frozenset({"upgrade", "dist-upgrade"}),
    "apk": frozenset({"upgrade"}),
    "dnf": frozenset({"upgrade", "update", "distro-sync", "upgrade-minimal", "update-minimal", "dist-upgrade"}),
    "zypper": frozenset({"update", "patch", "dist-upgrade"}),
}


class PackageUpgrade(Rule):
    """`apt-get upgrade`, `apk upgrade`, `yum update` and the like upgrade every package at build time.

    Why: what gets installed then depends on the day of the build, so two builds of the same
    Dockerfile differ, and the upgrade hides how stale the base image is while doubling the
    bytes of every upgraded package (old copy in the base layer, new one in this layer).
    Rebuild on a current base image (a newer tag or digest) instead; official images are
    rebuilt for security updates.

    Catches, in every stage: `apt-get`/`apt`/`aptitude` `upgrade`, `dist-upgrade`,
    `full-upgrade`; `apk upgrade`; `yum`/`dnf`/`microdnf`/`tdnf` `update`, `upgrade`,
    `distro-sync`; `zypper update`/`patch`/`dist-upgrade`, with no package named.

    Leaves alone: `apt-get update` and `apk update` (index refreshes); targeted upgrades that
    name their packages (`apk upgrade openssl`, `yum update -y curl`): a deliberate fix for a
    known vulnerability.
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
                if not actions or op.action not in actions or op.packages:
                    continue
                if op.manager == "apt" and op.tool not in ("apt-get", "apt", "aptitude"):
                    continue
                yield self.at_command(
                    ctx,
                    op.command,
                    f"`{op.tool} {op.raw_action}` upgrades every package at build time: builds stop being reproducible and a stale base image goes unnoticed; use a current base image instead",
                )


# ---------------------------------------------------------------------------------------------
# World-writable files.

_SYMBOLIC_CLAUSE = re.compile(r"^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$")


def _world_writable(mode: str) -> bool:
    """Whether a chmod mode gives write access to others without the sticky bit."""
    if re.fullmatch(r"[0-7]{1,5}", mode):
        digits = mode.lstrip("0") or "0"
        bits = int(digits, 8)
        return bool(bits & 0o002) and not bits & 0o1000
    writable = False
    sticky = False
    for clause in mode.split(","):
        m = _SYMBOLIC_CLAUSE.match(clause)
        if m is None:
            return False
        who = m.group(1)
        for op_m in re.finditer(r"([-+=])([rwxXstugo]*)", m.group(2)):
            op, perms = op_m.group(1), op_m.group(2)
            if op == "-":
                continue
            if "t" in perms:
                sticky = True
            if ("o" in who or "a" in who) and "w" in perms:
                writable = True
    return writable and not sticky


class WorldWritable(Rule):
    """Files or directories made world-writable (`chmod 777`, `chmod -R a+rwx`, `--chmod=777`).

    Why: any process in the container, whatever its user, can then replace the files:
    a compromised low-privilege process can rewrite code that a more privileged one runs. Give
    the files to the runtime user instead (`COPY --chown=app`, `chown`), with 755/644 modes;
    for platforms that run images under an arbitrary UID (OpenShift), use group 0 and
    `chmod g=u`.

    Catches, in the stages of the final image: `chmod` with a numeric mode whose last digit
    has the write bit (`777`, `0777`, `666`, `-R 777`) or a symbolic mode adding `w` for
    `o` or `a` (`a+rwx`, `o+w`, `ugo=rwx`); `mkdir -m`/`install -m` with such a mode; `COPY`
    or `ADD` `--chmod` with such a mode.

    Leaves alone: modes with the sticky bit (`1777`, `a+rwxt`: the shared /tmp idiom);
    `chmod +w` without a who (the umask keeps others out); `/dev/*`; build stages whose
    files do not reach the final image.
    """

    id = "SL012"
    name = "world-writable"
    practice = Practice.SECURITY
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        msg = "makes {what} world-writable: any user in the container can change it; chown it to the runtime user (or use `chmod g=u` with group 0) and keep modes at 755/644"
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if ins.keyword in ("COPY", "ADD"):
                    for flag in ins.flags:
                        if flag.name == "chmod" and flag.value and _world_writable(flag.value):
                            yield self.at_offsets(ctx, flag.span.offset, flag.span.end_offset, f"`--chmod={flag.value}` " + msg.format(what="the copied files"))
            for run in ctx.runs_in(stage):
                yield from _dedupe(self._check_run(ctx, run, msg))

    def _check_run(self, ctx: CheckContext, run: RunStep, msg: str) -> Iterator[Finding]:
        for command in run.commands:
            words = command.unwrapped()
            if not words:
                continue
            prog = posixpath.basename(words[0].text)
            if prog == "busybox" and len(words) > 1:
                words = words[1:]
                prog = posixpath.basename(words[0].text)
            mode_word: Word | None = None
            targets: list[str] = []
            if prog == "chmod":
                for w in words[1:]:
                    t = w.text
                    if mode_word is None and (t.startswith("--") or (t.startswith("-") and re.fullmatch(r"-[RfvcH]+", t))):
                        continue
                    if mode_word is None:
                        mode_word = w
                    else:
                        targets.append(t)
                mode = mode_word.text if mode_word is not None else ""
            elif prog in ("mkdir", "install"):
                mode = ""
                args = words[1:]
                for i, w in enumerate(args):
                    t = w.text
                    if t in ("-m", "--mode") and i + 1 < len(args):
                        mode_word, mode = args[i + 1], args[i + 1].text
                    elif t.startswith("--mode="):
                        mode_word, mode = w, t[7:]
                    elif t.startswith("-m") and len(t) > 2 and not t.startswith("--"):
                        mode_word, mode = w, t[2:]
                    elif not t.startswith("-") and w is not mode_word:
                        targets.append(t)
            else:
                continue
            if mode_word is None or mode_word.dynamic or not _world_writable(mode):
                continue
            if targets and all(t.startswith("/dev/") for t in targets):
                continue
            what = " ".join(targets[:2]) + (" ..." if len(targets) > 2 else "") if targets else "the target"
            yield self.at_command(ctx, command, f"`{prog} {mode}` " + msg.format(what=what), word=mode_word)


# ---------------------------------------------------------------------------------------------
# Root user.

# Images whose default USER is not root, or whose entrypoint starts the service as a service
# user (gosu/su-exec in docker-library's docker-entrypoint.sh). Repository paths, normalised
# (no docker.io/ or library/ prefix).
_NONROOT_IMAGES = frozenset(
    {
        # entrypoint drops to the service user
        "postgres", "mysql", "mariadb", "mongo", "redis", "rabbitmq", "cassandra", "couchdb",
        "couchbase", "ghost", "neo4j", "percona", "elasticsearch", "kibana", "logstash",
        "zookeeper", "eclipse-mosquitto", "hashicorp/vault", "hashicorp/consul", "vault",
        "consul", "clickhouse/clickhouse-server", "clickhouse", "influxdb", "mongo-express",
        # USER set to a service user in the image
        "memcached", "solr", "haproxy", "odoo", "sonarqube", "jenkins/jenkins",
        "jenkins/inbound-agent", "jenkins/agent", "grafana/grafana", "grafana/grafana-oss",
        "grafana/loki", "grafana/tempo", "nginxinc/nginx-unprivileged", "apache/airflow",
        "apache/superset", "quay.io/keycloak/keycloak", "keycloak/keycloak", "n8nio/n8n",
        "nodered/node-red", "sonatype/nexus3", "docker.elastic.co/elasticsearch/elasticsearch",
        "docker.elastic.co/kibana/kibana", "docker.elastic.co/logstash/logstash",
        "docker.elastic.co/beats/filebeat", "selenium/standalone-chrome",
        "selenium/standalone-firefox", "selenium/node-chrome", "mcr.microsoft.com/mssql/server",
        "gitea/gitea", "bitnami/minideb",
    }
)  # fmt: skip
_NONROOT_PREFIXES = (
    "bitnami/", "cgr.dev/chainguard/", "prom/", "quay.io/prometheus/", "jupyter/",
    "quay.io/jupyter/", "confluentinc/", "docker.io/bitnami/", "public.ecr.aws/bitnami/",
    "selenium/", "otel/", "quay.io/minio/", "cgr.dev/",
)  # fmt: skip
# Chainguard images that do run as root.
_ROOT_EXCEPTIONS = frozenset({"cgr.dev/chainguard/wolfi-base", "cgr.dev/chainguard/chainguard-base", "bitnami/minideb"})
# Red Hat's language images run as UID 1001 (ubi8/python-311, ubi9/nodejs-20...).
_RH_LANGUAGE = re.compile(r"^registry\.(?:access\.)?redhat\.(?:com|io)/(?:ubi\d+|rhel\d+)/(?:python|nodejs|php|ruby|perl|openjdk|go-toolset|dotnet|nginx|httpd)-")
# Servers whose master process stays root but serves requests from unprivileged workers.
_PRIVSEP_SERVERS = frozenset({"nginx", "httpd", "php", "wordpress", "drupal", "joomla", "nextcloud", "matomo", "mediawiki"})
_DROP_PRIVILEGES = re.compile(r"\b(?:gosu|su-exec|setpriv|runuser|s6-setuidgid|chpst|setuidgid|su\s+-\S*\s*-?c|chroot\s+--userspec)\b")
_WINDOWS = re.compile(r"(?i)windows|nanoserver|servercore|ltsc20\d\d|:\d+\.\d+\.\d+\.\d+")


def _image_repo(ref: str) -> tuple[str, str]:
    """(repository path, tag) of an image reference, lower-cased, Docker Hub prefixes removed."""
    ref = ref.lower().split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    tag = ""
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1 :]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/", "registry.hub.docker.com/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    if ref.startswith("library/"):
        ref = ref[len("library/") :]
    return ref, tag


def _base_runs_nonroot(repo: str, tag: str) -> bool:
    if repo in _ROOT_EXCEPTIONS:
        return False
    if repo.startswith(("gcr.io/distroless/", "gcr.io/distroless-")) or "/distroless/" in repo:
        return "nonroot" in tag
    if repo.startswith("mcr.microsoft.com/dotnet/"):
        return "chiseled" in tag or "distroless" in tag
    if repo in _NONROOT_IMAGES or repo.startswith(_NONROOT_PREFIXES):
        return True
    return _RH_LANGUAGE.match(repo) is not None


def _user_suggestion(repo: str) -> str:
    if repo == "node" or repo.endswith("/node"):
        return "add `USER node` (the node image's built-in user)"
    if "distroless" in repo:
        return "use the `:nonroot` variant of the distroless image"
    if repo.startswith("mcr.microsoft.com/dotnet/"):
        return "add `USER $APP_UID` (.NET 8+ images ship an `app` user) or use a chiseled image"
    return "create a user and add `USER <uid>` after the steps that need root"


class RootUser(Rule):
    """The final image runs as root: no USER, or USER root as the last one.

    Why: a process running as root in the container is root on the host's kernel, so a
    container escape or a writable host mount becomes a host compromise; it can also rewrite
    everything in the image. Switch to an unprivileged user for runtime.

    Catches: the last USER of the final stage (or of a stage it is built FROM) being `root`,
    `0`, `root:<group>` or `0:<gid>` (also through an ARG/ENV default); a final stage with no
    USER at all, reported at its FROM line. `FROM scratch` with no USER is reported as info:
    a lone static binary has little to abuse, but it still runs as UID 0. Servers that keep
    a root master process and serve requests from unprivileged workers (nginx, httpd,
    php-apache, wordpress) are reported as info too, with the unprivileged variant to use.

    Leaves alone: base images that already run as a non-root user (distroless `:nonroot`,
    Chainguard, Bitnami, .NET chiseled, Red Hat language images, Jenkins, Grafana, Prometheus,
    ...) or whose entrypoint starts the service as a service user (docker-library's postgres,
    mysql, redis, mongo, rabbitmq ... with their entrypoint kept); files that drop privileges
    themselves: gosu, su-exec, setpriv, runuser, s6-setuidgid or chpst installed or used in the
    final image or in ENTRYPOINT/CMD (the docker-library pattern: start as root to fix volume
    ownership, then exec the service as its user); a USER from a variable that cannot be
    resolved; a base that is a variable with no default; Windows images, whose users work
    differently.
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
        if any(d.name == "escape" and d.value == "`" for d in ctx.doc.directives) or _WINDOWS.search(base):
            return
        last_user: Instruction | None = None
        for stage in chain:
            for ins in stage.instructions:
                if ins.keyword == "USER" and ins.values:
                    last_user = ins
        if self._drops_privileges(chain):
            return
        repo, tag = _image_repo(base)
        if last_user is not None:
            value = _resolve(ctx, last_user, last_user.values[0].strip())
            if value is None:
                return
            user = value.split(":", 1)[0].strip().strip("'\"").lower()
            if user not in ("root", "0"):
                return
            yield self.at_instruction(
                ctx,
                last_user,
                f"the image runs as root (`USER {last_user.values[0]}` is the last USER); switch back to an unprivileged user after the steps that need root",
            )
            return
        if not root_stage.resolved:
            return
        target_from = ctx.target.from_instruction
        if root_stage.is_scratch:
            yield self.at_instruction(
                ctx,
                target_from,
                "no USER: the binary runs as UID 0; add `USER 65532:65532` (any non-zero UID works in scratch)",
                severity=Severity.INFO,
            )
            return
        if _base_runs_nonroot(repo, tag) and not self._entrypoint_overridden(chain):
            return
        if repo in _PRIVSEP_SERVERS or repo.rsplit("/", 1)[-1] in ("nginx", "httpd") and "unprivileged" not in repo:
            hint = "use nginxinc/nginx-unprivileged" if "nginx" in repo else "run it as its service user with `USER` and an unprivileged port"
            yield self.at_instruction(
                ctx,
                target_from,
                f"no USER: the {repo} master process runs as root (its workers do not); {hint}",
                severity=Severity.INFO,
            )
            return
        yield self.at_instruction(
            ctx,
            target_from,
            f"no USER in the final stage: the container runs as root unless {base or 'the base image'} sets a user; {_user_suggestion(repo)}",
        )

    @staticmethod
    def _entrypoint_overridden(chain: list[Stage]) -> bool:
        return any(ins.keyword == "ENTRYPOINT" for stage in chain for ins in stage.instructions)

    @staticmethod
    def _drops_privileges(chain: list[Stage]) -> bool:
        for stage in chain:
            for ins in stage.instructions:
                if ins.keyword in ("RUN", "COPY", "ADD", "ENTRYPOINT", "CMD"):
                    text = ins.original
                    if ("gosu" in text or "su-exec" in text or "setpriv" in text or "runuser" in text
                            or "setuidgid" in text or "chpst" in text or "su " in text or "--userspec" in text):  # fmt: skip
                        if _DROP_PRIVILEGES.search(text):
                            return True
        return False


Callable_str = "Callable[[str, str], str | None]"
