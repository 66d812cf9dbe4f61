"""`registry:HOST[:PORT]/REPO[:TAG|@DIGEST]`: images pulled over the distribution API (v2).

A reference without a host (`registry:python:3.12`, `registry:team/app`) means Docker Hub, as
with `docker pull`. HTTPS is used by default; `registry:https://...` insists on it. Plain HTTP
is allowed only to the machine itself (localhost, 127.0.0.0/8, ::1): asked for with
`registry:http://...`, or taken when such a registry does not speak TLS. Every request, redirects
included, is checked against that rule before it is sent.

Authentication is anonymous, basic or bearer token (the `WWW-Authenticate: Bearer realm=...`
flow, sending basic credentials to the token service when there are any). Credentials come from
`configure(username=..., password=...)` (the command line's flags), else from the
SLIMLINE_REGISTRY_USERNAME and SLIMLINE_REGISTRY_PASSWORD environment variables, else from the
`auths` of the Docker client's config.json ($DOCKER_CONFIG or ~/.docker; credential helpers are
not run).

Everything is verified: the manifest's digest (against the reference when pulled by digest,
against Docker-Content-Digest otherwise), the config's, and every layer's digest and diff_id as
it streams. Layers are streamed from the HTTP response into the layer reader, never stored.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import ipaddress
import json
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from slimline.image.sources.base import (
    MAX_JSON_BYTES,
    Image,
    ImageConfig,
    ImageError,
    LayerRef,
    NoSuchImage,
    _list,
    _object,
    _string,
    check_digest,
    digest_of,
    history_for_layers,
    parse_json,
)
from slimline.image.sources.oci import (
    CONFIG_TYPES,
    INDEX_TYPES,
    LAYER_TYPES,
    MANIFEST_TYPES,
    _Candidate,
    _choose,
    _descriptor,
    _is_attestation,
    _matches,
    _platform_of,
)

if TYPE_CHECKING:
    import httpx

PREFIXES = ("registry:",)
DEFAULT_TIMEOUT = 30.0
USERNAME_VARIABLE = "SLIMLINE_REGISTRY_USERNAME"
PASSWORD_VARIABLE = "SLIMLINE_REGISTRY_PASSWORD"
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
# the names Docker's config.json may file Docker Hub credentials under
_DOCKER_HUB_KEYS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_SCHEMA1_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    }
)
# what registries send for a manifest whose type they do not record
_GENERIC_TYPES = frozenset({"", "application/json", "text/plain", "application/octet-stream"})
_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_MAX_INDEX_DEPTH = 4
_MAX_ERROR_BYTES = 4096
_CHUNK = 1 << 20

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_HOST = re.compile(
    r"^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]{1,5})?$"
)
_CHALLENGE_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True, slots=True)
class Settings:
    """How to talk to registries. None credentials mean: from the environment or config.json."""

    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT


_settings = Settings()


def configure(
    *, username: str | None = None, password: str | None = None, timeout: float | None = None
) -> Settings:
    """Set what the command line's --username, --password and --timeout say; returns the result.

    Arguments left None keep their current value. The credentials are used for whichever
    registry an image is opened from, ahead of the environment and config.json.
    """
    global _settings
    changes: dict[str, Any] = {}
    if username is not None:
        changes["username"] = username
    if password is not None:
        changes["password"] = password
    if timeout is not None:
        if timeout <= 0:
            raise ValueError("the registry timeout must be a positive number of seconds")
        changes["timeout"] = float(timeout)
    _settings = replace(_settings, **changes)
    return _settings


def reset() -> None:
    """Forget what configure() set: anonymous or environment credentials, default timeout."""
    global _settings
    _settings = Settings()


def current_settings() -> Settings:
    return _settings


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed `registry:` argument. `host` is as written (`docker.io` for Docker Hub)."""

    host: str
    repository: str
    tag: str | None
    digest: str | None
    scheme: str | None = None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.api_host)

    @property
    def base_url(self) -> str:
        """Where the API is asked first: HTTPS unless plain HTTP was asked for."""
        return f"{self.scheme or 'https'}://{self.api_host}"

    @property
    def familiar_name(self) -> str:
        """The repository as `docker images` shows it: Docker Hub's without host or library/."""
        if self.host != DOCKER_HUB:
            return f"{self.host}/{self.repository}"
        return self.repository.removeprefix("library/")

    def __str__(self) -> str:
        scheme = f"{self.scheme}://" if self.scheme else ""
        text = f"{scheme}{self.host}/{self.repository}"
        text += f":{self.tag}" if self.tag else ""
        return text + (f"@{self.digest}" if self.digest else "")


def is_loopback_host(host: str) -> bool:
    """Whether HOST[:PORT] names this machine: localhost, 127.0.0.0/8 or ::1."""
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rpartition(":")[0] if host.count(":") == 1 else host
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_reference(text: str) -> Reference:
    """`[http[s]://][HOST[:PORT]/]REPO[:TAG][@DIGEST]`; ImageError when it is not one."""
    original = text
    scheme = None
    for candidate in ("https", "http"):
        if text.startswith(f"{candidate}://"):
            scheme, text = candidate, text[len(candidate) + 3 :]
    name, _, digest = text.partition("@")
    if digest:
        check_digest(digest, f"registry:{original}: the digest")
    last = name.rpartition("/")[2]
    tag = None
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG.match(tag):
            raise ImageError(f"registry:{original}: {tag!r} is not a valid tag")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        host, repository = first, rest
        if not _HOST.match(host):
            raise ImageError(f"registry:{original}: {host!r} is not a valid registry host")
    else:
        host, repository = DOCKER_HUB, name
    if host.lower() in _DOCKER_HUB_KEYS:
        host = DOCKER_HUB
    if host == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not repository or not all(_COMPONENT.match(c) for c in repository.split("/")):
        raise ImageError(
            f"registry:{original}: not an image reference like"
            " registry:HOST[:PORT]/REPO[:TAG|@DIGEST] (names are lowercase)"
        )
    reference = Reference(host, repository, tag or (None if digest else "latest"), digest or None)
    reference = replace(reference, scheme=scheme)
    if scheme == "http" and not reference.is_loopback:
        raise ImageError(
            f"registry:{original}: plain HTTP is allowed only to this machine (localhost,"
            " 127.0.0.0/8, ::1); use https://"
        )
    return reference


def detect(path: Path) -> bool:
    return False


def open_source(prefix: str | None, argument: str, platform: str | None) -> Image:
    return open_reference(argument, platform=platform)


def open_reference(
    text: str, *, platform: str | None = None, settings: Settings | None = None
) -> Image:
    """The image `text` (a `registry:` argument without the prefix) names; see the module doc."""
    reference = parse_reference(text)
    options = settings or _settings
    session = _Session(reference, credentials_for(reference, options), options.timeout)
    try:
        return _open(session, reference, platform)
    except BaseException:
        session.close()
        raise


def credentials_for(
    reference: Reference, settings: Settings | None = None
) -> tuple[str, str] | None:
    """(username, password) for the registry: settings, environment, then config.json."""
    options = settings or _settings
    explicit = _pair(options.username, options.password, "--username and --password")
    if explicit is not None:
        return explicit
    from_env = _pair(
        os.environ.get(USERNAME_VARIABLE),
        os.environ.get(PASSWORD_VARIABLE),
        f"{USERNAME_VARIABLE} and {PASSWORD_VARIABLE}",
    )
    if from_env is not None:
        return from_env
    return _docker_config_credentials(reference.host)


def _pair(username: str | None, password: str | None, what: str) -> tuple[str, str] | None:
    if username is None and password is None:
        return None
    if not username or password is None:
        raise ImageError(f"registry credentials need both {what}")
    return username, password


def _docker_config_credentials(host: str) -> tuple[str, str] | None:
    """The base64 `auth` that `docker login` stored for `host`, if any; a broken file is ignored."""
    folder = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    path = Path(folder) / "config.json"
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            return None
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if not isinstance(entry, dict) or _config_key_host(str(key)) != _config_key_host(host):
            continue
        encoded = entry.get("auth")
        if isinstance(encoded, str) and encoded:
            try:
                username, sep, password = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                continue
            if sep and username:
                return username, password
    return None


def _config_key_host(key: str) -> str:
    """`https://index.docker.io/v1/` and `docker.io` name the same registry."""
    host = re.sub(r"^[a-z]+://", "", key.strip().lower()).split("/", 1)[0]
    return DOCKER_HUB if host in _DOCKER_HUB_KEYS else host


class _Session:
    """One registry conversation: the HTTP client, the scheme that works, the authorization."""

    def __init__(
        self, reference: Reference, credentials: tuple[str, str] | None, timeout: float
    ) -> None:
        import httpx

        from slimline import __version__

        self.reference = reference
        self.label = f"registry:{reference}"
        self.credentials = credentials
        self.timeout = timeout
        self.base_url = reference.base_url
        # settled once a first request succeeds: a loopback registry may speak plain HTTP
        self._scheme_settled = reference.scheme is not None or not reference.is_loopback
        self._authorization: str | None = None
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            headers={"User-Agent": f"slimline/{__version__}"},
            verify=_tls_context(),
            # proxies from the environment do not reach this machine's own registry
            trust_env=not reference.is_loopback,
            event_hooks={"request": [_refuse_plain_http_off_machine]},
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, what: str, accept: str | None = None) -> httpx.Response:
        """A streamed response with status 200; ImageError, in one line, for anything else."""
        if self._client.is_closed:
            raise ImageError(f"{self.label}: the image was closed before {what} was read")
        response = self._send(path, accept, what)
        if response.status_code >= 400:
            try:
                self._raise_for_status(response, what)
            finally:
                response.close()
        return response

    def _send(self, path: str, accept: str | None, what: str) -> httpx.Response:
        response = self._send_once(path, accept, what)
        if response.status_code == 401:
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            if self._authenticate(challenge, what):
                response = self._send_once(path, accept, what)
        return response

    def _send_once(self, path: str, accept: str | None, what: str) -> httpx.Response:
        import httpx

        headers = {}
        if accept:
            headers["Accept"] = accept
        if self._authorization:
            headers["Authorization"] = self._authorization
        while True:
            request = self._client.build_request("GET", self.base_url + path, headers=headers)
            try:
                response = self._client.send(request, stream=True)
            except httpx.ConnectError as exc:
                if self._scheme_settled:
                    raise self._transport_error(exc, what) from None
                # no TLS on this machine's own registry: try plain HTTP, as docker does
                self._scheme_settled = True
                self.base_url = "http://" + self.reference.api_host
                continue
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, what) from None
            self._scheme_settled = True
            return response

    def _transport_error(self, exc: Exception, what: str, host: str | None = None) -> ImageError:
        return _unanswered(exc, self.label, host or self.reference.api_host, what, self.timeout)

    def _authenticate(self, challenge: str, what: str) -> bool:
        """Set the authorization a 401's challenge asks for; False when there is nothing to try."""
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if self.credentials is None or self._authorization is not None:
                return False
            raw = ":".join(self.credentials).encode()
            self._authorization = "Basic " + base64.b64encode(raw).decode()
            return True
        if scheme == "bearer" and params.get("realm"):
            self._authorization = "Bearer " + self._fetch_token(params, what)
            return True
        return False

    def _fetch_token(self, params: dict[str, str], what: str) -> str:
        import httpx

        query: dict[str, str] = {}
        if params.get("service"):
            query["service"] = params["service"]
        query["scope"] = params.get("scope") or f"repository:{self.reference.repository}:pull"
        headers = {}
        if self.credentials is not None:
            raw = ":".join(self.credentials).encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
            query["account"] = self.credentials[0]
        realm = params["realm"]
        by = f"the token service at {realm}"
        try:
            request = self._client.build_request("GET", realm, params=query, headers=headers)
            response = self._client.send(request, stream=True)
        except httpx.InvalidURL:
            raise ImageError(
                f"{self.label}: the registry named an invalid token service {realm!r}"
            ) from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, f"a token for {what}", realm) from None
        try:
            if response.status_code in (401, 403):
                raise ImageError(self._refused(response.status_code, by))
            if response.status_code >= 400:
                raise ImageError(f"{self.label}: {by} answered HTTP {response.status_code}")
            body = _read_capped(response, MAX_JSON_BYTES, self, f"a token for {what}")
        finally:
            response.close()
        if body is None:
            raise ImageError(f"{self.label}: {by} sent more than {MAX_JSON_BYTES} bytes")
        document = parse_json(body, f"{self.label}: the answer of {by}")
        token = None
        if isinstance(document, dict):
            token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise ImageError(f"{self.label}: {by} sent no token")
        return token

    def _refused(self, status: int, by: str) -> str:
        if self.credentials is None:
            return (
                f"{self.label}: {by} requires a login (HTTP {status}); set {USERNAME_VARIABLE}"
                f" and {PASSWORD_VARIABLE}, or log in with docker login"
            )
        return f"{self.label}: {by} refused the credentials for {self.credentials[0]!r} (HTTP {status})"

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        detail = _error_detail(response)
        if status == 401:
            raise ImageError(self._refused(status, "the registry"))
        if status == 403:
            raise ImageError(
                f"{self.label}: the registry denied access to {what} (HTTP 403{detail})"
            )
        if status == 404:
            raise NoSuchImage(f"{self.label}: the registry has no {what} (HTTP 404{detail})")
        if status == 429:
            raise ImageError(
                f"{self.label}: the registry limits requests; try later (HTTP 429{detail})"
            )
        if status >= 500:
            raise ImageError(f"{self.label}: the registry failed on {what} (HTTP {status}{detail})")
        raise ImageError(f"{self.label}: the registry refused {what} (HTTP {status}{detail})")

    def read_json(
        self, path: str, what: str, *, accept: str | None = None, size: int | None = None
    ) -> tuple[bytes, str, str | None]:
        """(body, content type, Docker-Content-Digest) of a small JSON document.

        `size` is what a descriptor says the document holds; without one, MAX_JSON_BYTES caps it.
        """
        if size is not None and size > MAX_JSON_BYTES:
            raise ImageError(f"{self.label}: {what} is {size} bytes, more than {MAX_JSON_BYTES}")
        response = self.get(path, what, accept)
        try:
            limit = MAX_JSON_BYTES if size is None else size
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise ImageError(self._too_long(what, size))
            body = _read_capped(response, limit, self, what)
            if body is None:
                raise ImageError(self._too_long(what, size))
        finally:
            response.close()
        if size is not None and len(body) != size:
            raise ImageError(
                f"{self.label}: size mismatch: {what} is {len(body)} bytes, the manifest says {size}"
            )
        content_type = response.headers.get("Content-Type", "").partition(";")[0].strip()
        return body, content_type, response.headers.get("Docker-Content-Digest")

    def _too_long(self, what: str, size: int | None) -> str:
        if size is None:
            return f"{self.label}: {what} is larger than {MAX_JSON_BYTES} bytes"
        return (
            f"{self.label}: size mismatch: {what} is longer than the {size} bytes the manifest says"
        )

    def open_blob(self, digest: str, size: int, what: str) -> IO[bytes]:
        """The blob's bytes as they arrive; a size mismatch is an error, the digest the reader's."""
        path = f"/v2/{self.reference.repository}/blobs/{digest}"
        response = self.get(path, what)
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) != size:
            response.close()
            raise ImageError(
                f"{self.label}: size mismatch: {what} is {declared} bytes, the manifest says {size}"
            )
        return cast(IO[bytes], _BlobStream(response, size, self, what))


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The certificates to trust (certifi's, or SSL_CERT_FILE and SSL_CERT_DIR when set), loaded
    once: loading them costs more than a whole pull from a registry on this machine."""
    import httpx

    return httpx.create_ssl_context(trust_env=True)


def _refuse_plain_http_off_machine(request: httpx.Request) -> None:
    """Checked before every request is sent, redirects too: no plain HTTP beyond this machine."""
    if request.url.scheme != "https" and not is_loopback_host(request.url.netloc.decode()):
        raise ImageError(
            f"refusing plain HTTP to {request.url.host}: only localhost, 127.0.0.0/8 and ::1"
            " may be reached without TLS"
        )


def _unanswered(exc: Exception, label: str, host: str, what: str, timeout: float) -> ImageError:
    """One line for a request that got no HTTP answer."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return ImageError(f"{label}: {host} did not answer within {timeout:g} s ({what})")
    if isinstance(exc, httpx.ConnectError):
        return ImageError(f"{label}: cannot connect to {host}: {_first_line(exc)}")
    return ImageError(f"{label}: reading {what} from {host} failed: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """(scheme, parameters) of a WWW-Authenticate header: ("bearer", {"realm": ...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for match in _CHALLENGE_PARAM.finditer(rest):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
    return scheme.lower(), params


def _error_detail(response: httpx.Response) -> str:
    """`: CODE: message` from a distribution error body, when there is one."""
    try:
        body = b""
        for chunk in response.iter_raw(_MAX_ERROR_BYTES):
            body = chunk[:_MAX_ERROR_BYTES]
            break
        document = json.loads(body)
        first = document["errors"][0]
        code, message = str(first.get("code", "")), str(first.get("message", ""))
    except Exception:
        return ""
    text = ": ".join(part for part in (code, message) if part)
    return f": {text[:200]}" if text else ""


def _raw_chunks(response: httpx.Response, session: _Session, what: str) -> Iterator[bytes]:
    import httpx

    try:
        yield from response.iter_raw(_CHUNK)
    except httpx.HTTPError as exc:
        raise session._transport_error(exc, what) from None


def _read_capped(
    response: httpx.Response, limit: int, session: _Session, what: str
) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` bytes."""
    body = bytearray()
    for chunk in _raw_chunks(response, session, what):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class _BlobStream(io.RawIOBase):
    """An HTTP response body as a file, stopping with ImageError when its size is wrong."""

    def __init__(self, response: httpx.Response, size: int, session: _Session, what: str) -> None:
        super().__init__()
        self._response = response
        self._chunks = _raw_chunks(response, session, what)
        self._pending = memoryview(b"")
        self._size = size
        self._received = 0
        self._label = session.label
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                if self._received != self._size:
                    raise ImageError(
                        f"{self._label}: size mismatch: {self._what} is {self._received} bytes,"
                        f" the manifest says {self._size}"
                    )
                return 0
            self._received += len(chunk)
            if self._received > self._size:
                raise ImageError(
                    f"{self._label}: size mismatch: {self._what} is longer than the"
                    f" {self._size} bytes the manifest says"
                )
            self._pending = memoryview(chunk)
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()


@dataclass(frozen=True, slots=True)
class _Manifest:
    document: dict[str, Any]
    media_type: str


def _open(session: _Session, reference: Reference, platform: str | None) -> Image:
    label = session.label
    top_digest, manifest = _resolve(session, reference, platform)
    config_descriptor = _descriptor(manifest.document.get("config"), f"{label}: manifest config")
    config_type = _string(config_descriptor.get("mediaType"), "config media type")
    if config_type not in CONFIG_TYPES:
        raise ImageError(f"{label}: unsupported config media type {config_type!r}")
    config_digest = config_descriptor["digest"]
    body = _blob_json(session, config_digest, config_descriptor["size"], "the image config")
    config = ImageConfig.from_json(parse_json(body, f"{label}: config"), f"{label}: config")
    if platform is not None and config.platform and not _matches(config.platform, platform):
        raise ImageError(f"{label}: the image is for {config.platform}, not {platform}")
    descriptors = [
        _descriptor(item, f"{label}: manifest layer")
        for item in _list(manifest.document.get("layers"), f"{label}: manifest layers")
    ]
    if len(descriptors) != len(config.diff_ids):
        raise ImageError(
            f"{label}: the manifest lists {len(descriptors)} layers"
            f" but the config has {len(config.diff_ids)} diff_ids"
        )
    histories = history_for_layers(config.history, len(descriptors))
    layers = []
    for index, (descriptor, diff_id) in enumerate(zip(descriptors, config.diff_ids, strict=True)):
        media_type = _string(descriptor.get("mediaType"), "layer media type")
        if media_type not in LAYER_TYPES:
            raise ImageError(f"{label}: layer {index} has unsupported media type {media_type!r}")
        digest = descriptor["digest"]
        what = f"layer {index} ({digest})"
        layers.append(
            LayerRef(
                index=index,
                digest=digest,
                diff_id=diff_id,
                media_type=media_type,
                size=descriptor["size"],
                history=histories[index],
                opener=partial(session.open_blob, digest, descriptor["size"], what),
                location=f"{label}: {what}",
            )
        )
    return Image(
        label,
        config,
        layers,
        session.close,
        image_id=config_digest,
        repo_digests=[f"{reference.familiar_name}@{top_digest}"],
        raw_config=body,
    )


def _resolve(
    session: _Session, reference: Reference, platform: str | None
) -> tuple[str, _Manifest]:
    """(digest of what the reference names, the image manifest chosen for `platform`)."""
    label = session.label
    wanted = reference.digest or reference.tag or "latest"
    what = f"manifest {reference.repository}{'@' if reference.digest else ':'}{wanted}"
    top_digest, top = _fetch_manifest(session, wanted, what, expected=reference.digest)
    if top.media_type in MANIFEST_TYPES:
        return top_digest, top
    candidates: list[_Candidate] = []
    _collect(session, top, 0, candidates)
    if not candidates:
        raise ImageError(f"{label}: the image index lists no image")
    chosen = _choose(candidates, platform, label)
    descriptor = chosen.descriptor
    digest = descriptor["digest"]
    what = f"manifest {digest} ({chosen.platform or 'unknown platform'})"
    _, manifest = _fetch_manifest(session, digest, what, expected=digest, size=descriptor["size"])
    if manifest.media_type not in MANIFEST_TYPES:
        raise ImageError(f"{label}: {what} is a {manifest.media_type}, not an image manifest")
    return top_digest, manifest


def _collect(session: _Session, index: _Manifest, depth: int, out: list[_Candidate]) -> None:
    """The images an index offers, nested indexes flattened; attestations left out."""
    label = session.label
    if depth > _MAX_INDEX_DEPTH:
        raise ImageError(f"{label}: image indexes nested more than {_MAX_INDEX_DEPTH} deep")
    entries = _list(index.document.get("manifests"), f"{label}: image index manifests")
    for item in entries:
        descriptor = _descriptor(item, f"{label}: image index entry")
        if _is_attestation(descriptor):
            continue
        media_type = _string(descriptor.get("mediaType"), "index entry media type")
        if media_type in INDEX_TYPES:
            digest = descriptor["digest"]
            _, nested = _fetch_manifest(
                session, digest, f"image index {digest}", expected=digest, size=descriptor["size"]
            )
            _collect(session, nested, depth + 1, out)
        elif media_type in MANIFEST_TYPES or not media_type:
            out.append(_Candidate(descriptor, _platform_of(descriptor)))
        else:
            raise ImageError(
                f"{label}: unsupported manifest media type {media_type!r} in the index"
            )


def _fetch_manifest(
    session: _Session, reference: str, what: str, *, expected: str | None, size: int | None = None
) -> tuple[str, _Manifest]:
    """(digest, manifest) of a manifest or index, its digest checked against `expected` and the
    registry's Docker-Content-Digest."""
    label = session.label
    path = f"/v2/{session.reference.repository}/manifests/{reference}"
    body, content_type, header_digest = session.read_json(path, what, accept=_ACCEPT, size=size)
    digest = digest_of(body, expected or "sha256:")
    if expected is not None and digest != expected:
        raise ImageError(f"{label}: {what} digest mismatch: expected {expected}, got {digest}")
    if header_digest:
        try:
            check_digest(header_digest, "Docker-Content-Digest")
        except ImageError:
            header_digest = None
    if header_digest and digest_of(body, header_digest) != header_digest:
        raise ImageError(
            f"{label}: {what} digest mismatch: the registry says {header_digest},"
            f" the content is {digest_of(body, header_digest)}"
        )
    document = _object(parse_json(body, f"{label}: {what}"), f"{label}: {what}")
    return digest, _Manifest(document, _manifest_type(document, content_type, label, what))


def _manifest_type(document: dict[str, Any], content_type: str, label: str, what: str) -> str:
    declared = document.get("mediaType")
    media_type = declared if isinstance(declared, str) and declared else content_type
    if media_type in MANIFEST_TYPES or media_type in INDEX_TYPES:
        return media_type
    if media_type in _SCHEMA1_TYPES or document.get("schemaVersion") == 1:
        raise ImageError(
            f"{label}: {what} is a Docker schema 1 manifest ({media_type or 'no media type'}),"
            " which slimline does not read; push the image again with a current client"
        )
    if media_type in _GENERIC_TYPES:
        # an OCI manifest may leave its type to the registry: tell them apart by shape
        if "manifests" in document:
            return "application/vnd.oci.image.index.v1+json"
        if "layers" in document and "config" in document:
            return "application/vnd.oci.image.manifest.v1+json"
    raise ImageError(f"{label}: unsupported manifest media type {media_type!r} ({what})")


def _blob_json(session: _Session, digest: str, size: int, what: str) -> bytes:
    if size > MAX_JSON_BYTES:
        raise ImageError(f"{session.label}: {what} is {size} bytes, more than {MAX_JSON_BYTES}")
    path = f"/v2/{session.reference.repository}/blobs/{digest}"
    body, _, _ = session.read_json(path, what, size=size)
    actual = digest_of(body, digest)
    if actual != digest:
        raise ImageError(
            f"{session.label}: {what} digest mismatch: expected {digest}, got {actual}"
        )
    return body
