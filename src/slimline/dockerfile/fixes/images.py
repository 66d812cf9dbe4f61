"""Concrete tags and digests for base images: from the variants data file, from a registry
(the distribution API's tags list and manifests, with anonymous bearer tokens), or from the
local engine's copy of the image.

Nothing here runs unless asked: the data file is always consulted, a registry only with
``online``, the engine only for digests.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from slimline.dockerfile.base_images import ImageRef, classify, latest_known_tag, parse_image_ref

if TYPE_CHECKING:
    import httpx

_DOCKER_HUB = "registry-1.docker.io"
_MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_VERSION_TAG = re.compile(r"v?(\d+(?:\.\d+)*)")
_MAX_PAGES = 20
_MAX_PROBES = 20  # manifests fetched to find the version tag that `latest` points at
_LOOPBACK = re.compile(r"(localhost|127(?:\.\d+){3}|\[::1\])(:\d+)?")


class RegistryError(Exception):
    pass


def data_file_tag(ref: ImageRef) -> str | None:
    """The concrete tag the variants data file suggests for this image's default variant."""
    info = classify(ImageRef(ref.registry, ref.repository, None, None))
    family = info.family if info is not None else ref.repository
    return latest_known_tag(family)


def version_key(tag: str) -> tuple[int, ...] | None:
    match = _VERSION_TAG.fullmatch(tag)
    if match is None:
        return None
    return tuple(int(p) for p in match.group(1).split("."))


class RegistryClient:
    """The few distribution-API calls a fix needs, over httpx."""

    def __init__(self, client: httpx.Client | None = None, timeout: float = 15.0):
        import httpx

        self._client = client or httpx.Client(timeout=timeout, follow_redirects=True)
        self._tokens: dict[str, str] = {}

    @staticmethod
    def endpoint(ref: ImageRef) -> tuple[str, str]:
        """(base URL, repository path) of a reference: Docker Hub official images live under
        ``library/``; loopback registries speak plain HTTP, as the engine assumes."""
        if ref.registry is None:
            repository = ref.repository if "/" in ref.repository else f"library/{ref.repository}"
            return f"https://{_DOCKER_HUB}", repository
        scheme = "http" if _LOOPBACK.fullmatch(ref.registry) else "https"
        return f"{scheme}://{ref.registry}", ref.repository

    def _request(self, method: str, url: str, scope_key: str, **headers: str) -> httpx.Response:
        token = self._tokens.get(scope_key)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = self._client.request(method, url, headers=headers)
        if (
            response.status_code == 401
            and "bearer" in response.headers.get("www-authenticate", "").lower()
            and not token
        ):
            self._tokens[scope_key] = self._token(response.headers["www-authenticate"])
            return self._request(method, url, scope_key, **headers)
        return response

    def _token(self, challenge: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if realm is None:
            raise RegistryError("the registry asks for a token without saying where to get it")
        response = self._client.get(realm, params=params)
        if response.status_code != 200:
            raise RegistryError(f"token request failed: HTTP {response.status_code}")
        data: Any = response.json()
        token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str):
            raise RegistryError("the registry's token response has no token")
        return token

    def tags(self, ref: ImageRef) -> list[str]:
        base, repository = self.endpoint(ref)
        url: str | None = f"{base}/v2/{repository}/tags/list?n=1000"
        out: list[str] = []
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            response = self._request("GET", url, repository)
            if response.status_code != 200:
                raise RegistryError(f"listing tags of {ref.name}: HTTP {response.status_code}")
            data: Any = response.json()
            out += [t for t in (data.get("tags") or []) if isinstance(t, str)]
            url = _next_link(base, response.headers.get("link"))
        return out

    def digest(self, ref: ImageRef, reference: str) -> str | None:
        """The digest the registry serves for a tag (the index digest for multi-platform
        images, which is what ``FROM image@digest`` should pin)."""
        base, repository = self.endpoint(ref)
        url = f"{base}/v2/{repository}/manifests/{reference}"
        response = self._request("HEAD", url, repository, Accept=_MANIFEST_TYPES)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RegistryError(f"{ref.name}:{reference}: HTTP {response.status_code}")
        digest = response.headers.get("docker-content-digest")
        if isinstance(digest, str) and digest:
            return digest
        import hashlib

        body = self._request("GET", url, repository, Accept=_MANIFEST_TYPES)
        return "sha256:" + hashlib.sha256(body.content).hexdigest()


def _next_link(base: str, header: str | None) -> str | None:
    if not header:
        return None
    match = re.search(r"<([^>]+)>\s*;\s*rel=\"?next\"?", header)
    if match is None:
        return None
    target = match.group(1)
    return target if target.startswith("http") else base + target


class ImageResolver:
    """Answers "which concrete tag?" and "which digest?" for the pinning fixes."""

    def __init__(
        self, *, online: bool = False, engine: bool = False, registry: RegistryClient | None = None
    ):
        self.online = online
        self.engine = engine
        self._registry = registry
        # Several passes (and several FROM lines) ask about the same image: ask once.
        self._tags: dict[str, tuple[str | None, str]] = {}
        self._digests: dict[str, tuple[str | None, str]] = {}

    @property
    def registry(self) -> RegistryClient:
        if self._registry is None:
            self._registry = RegistryClient()
        return self._registry

    def concrete_tag(self, ref: ImageRef) -> tuple[str | None, str]:
        """(tag, where it comes from) for an untagged or ``latest`` reference; the tag is None
        when nothing knows one, and the second part then says why."""
        key = ref.name
        if key not in self._tags:
            self._tags[key] = self._concrete_tag(ref)
        return self._tags[key]

    def _concrete_tag(self, ref: ImageRef) -> tuple[str | None, str]:
        if self.online:
            try:
                tag = self._registry_tag(ref)
            except Exception as exc:  # network, HTTP or JSON trouble: fall back to the data
                note = f"the registry could not be asked ({_short(exc)})"
            else:
                if tag is not None:
                    return tag, "the registry"
                note = "no version tag in the registry points at the image `latest` names"
        else:
            note = "slimline's variants data does not know this image (try --online)"
        tag = data_file_tag(ref)
        if tag is not None:
            return tag, "slimline's variants data"
        return None, note

    def _registry_tag(self, ref: ImageRef) -> str | None:
        latest = self.registry.digest(ref, "latest")
        if latest is None:
            return None
        versions = [(key, t) for t in self.registry.tags(ref) if (key := version_key(t))]
        versions.sort(reverse=True)
        for _, tag in versions[:_MAX_PROBES]:
            if self.registry.digest(ref, tag) == latest:
                return tag
        return None

    def digest(self, ref: ImageRef) -> tuple[str | None, str]:
        """(digest, where it comes from) for a tagged reference."""
        key = str(ref)
        if key not in self._digests:
            self._digests[key] = self._digest(ref)
        return self._digests[key]

    def _digest(self, ref: ImageRef) -> tuple[str | None, str]:
        reasons: list[str] = []
        if self.engine:
            digest = _engine_digest(ref)
            if digest is not None:
                return digest, "the local engine"
            reasons.append("the image is not in the local engine")
        if self.online:
            try:
                found = self.registry.digest(ref, ref.tag or "latest")
            except Exception as exc:
                reasons.append(f"the registry could not be asked ({_short(exc)})")
            else:
                if found is not None:
                    return found, "the registry"
                reasons.append("the registry does not know this tag")
        else:
            reasons.append("use --online to ask the registry")
        return None, "; ".join(reasons)


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


@lru_cache(maxsize=1)
def _engine_client() -> Any:
    import docker

    client = docker.from_env(timeout=10)
    client.ping()
    return client


def _engine_digest(ref: ImageRef) -> str | None:
    """The repository digest the local engine recorded when it pulled the image."""
    try:
        image = _engine_client().images.get(str(ref))
    except Exception:
        return None
    for entry in image.attrs.get("RepoDigests") or []:
        try:
            pulled = parse_image_ref(entry)
        except ValueError:
            continue
        if pulled.name == ref.name and pulled.digest:
            return str(pulled.digest)
    return None
