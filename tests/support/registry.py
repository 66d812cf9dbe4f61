"""A real registry for integration tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1.

`start_registry` runs one server with filesystem storage in a directory of the caller's, in one
of three set-ups: anonymous, basic auth (an htpasswd file with bcrypt hashes) or bearer tokens
issued by `TokenServer`, a small token service signing RS256 JWTs with a self-signed
certificate that the registry trusts. Everything listens on 127.0.0.1; nothing leaves the machine.

Like the engine tests, a missing registry binary skips the tests, or fails them when
SLIMLINE_ENGINE=1 says the machine was set up for integration tests.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import http.server
import ipaddress
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from tests.support.engine import engine_required

BINARY = "docker-registry"
SERVICE = "slimline-test-registry"
ISSUER = "slimline-test-issuer"
USERNAME = "tester"
PASSWORD = "s3cret-pass"
_START_SECONDS = 30.0

Auth = Literal["none", "basic", "token"]


def registry_binary() -> str:
    """The registry server's path; skips, or fails under scripts/test, when it is missing."""
    path = shutil.which(BINARY)
    if path is None:
        message = f"no {BINARY} binary (Debian package docker-registry)"
        if engine_required():
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class SigningKey:
    """An RSA key and the self-signed certificate the registry is told to trust."""

    private_pem: bytes
    certificate_pem: bytes
    certificate_der: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "slimline test token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(
            private_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
            certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        )


class TokenServer:
    """The bearer-token service of a token-auth registry, on 127.0.0.1 in a thread.

    A request with the right basic credentials (GET, as `docker pull` sends them, or an OAuth2
    password grant by POST) gets a JWT granting what its `scope`s ask; anything else gets 401.
    The token carries the signing certificate in its `x5c` header, which distribution checks
    against its `rootcertbundle`; `iss` and `aud` must match the registry's issuer and service.
    """

    def __init__(self, key: SigningKey, users: Mapping[str, str], lifetime: int = 300) -> None:
        self.key = key
        self.users = dict(users)
        self.lifetime = lifetime
        # (method, query or form fields, user the request authenticated as) of every request
        self.requests: list[tuple[str, dict[str, list[str]], str | None]] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(self, subject: str, scopes: list[str]) -> str:
        import jwt

        now = int(time.time())
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + self.lifetime,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        header = {"x5c": [base64.b64encode(self.key.certificate_der).decode()]}
        return jwt.encode(claims, self.key.private_pem, algorithm="RS256", headers=header)

    def _grant(self, user: str | None, password: str | None) -> str | None:
        if user is not None and self.users.get(user) == password:
            return user
        return None

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fields = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                user, password = _basic_credentials(self.headers.get("Authorization", ""))
                self._answer("GET", fields, server._grant(user, password))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fields = urllib.parse.parse_qs(self.rfile.read(length).decode())
                user = fields.get("username", [None])[0]
                password = fields.get("password", [None])[0]
                self._answer("POST", fields, server._grant(user, password))

            def _answer(self, method: str, fields: dict[str, list[str]], user: str | None) -> None:
                server.requests.append((method, fields, user))
                if user is None:
                    self._send(401, {"details": "wrong or missing credentials"})
                    return
                token = server.token(user, fields.get("scope", []))
                self._send(200, {"token": token, "access_token": token, "expires_in": 300})

            def _send(self, status: int, document: object) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None, None
    return user, password


@dataclass
class Registry:
    """One running registry server. `address` is HOST:PORT as image references spell it."""

    address: str
    storage: Path
    auth: Auth
    process: subprocess.Popen[bytes]
    log: Path
    token_server: TokenServer | None = None
    credentials: tuple[str, str] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def blob_data(self, digest: str) -> Path:
        """Where filesystem storage keeps a blob's bytes."""
        algorithm, _, value = digest.partition(":")
        return self.storage / "docker/registry/v2/blobs" / algorithm / value[:2] / value / "data"

    def client(self) -> httpx.Client:
        """An HTTP client with whatever authorization pushing needs on this registry."""
        headers = {}
        if self.auth == "basic" and self.credentials:
            raw = ":".join(self.credentials).encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, trust_env=False)

    def push_token(self, repository: str) -> str:
        assert self.token_server is not None
        return self.token_server.token(USERNAME, [f"repository:{repository}:pull,push"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.token_server is not None:
            self.token_server.stop()


def start_registry(workdir: Path, auth: Auth = "none") -> Registry:
    """Start a registry storing under `workdir`; returns once it answers on /v2/."""
    binary = registry_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    storage = workdir / "storage"
    storage.mkdir(exist_ok=True)
    auth_section: dict[str, Any] = {}
    token_server = None
    credentials = None
    if auth == "basic":
        import bcrypt

        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
        (workdir / "htpasswd").write_text(f"{USERNAME}:{hashed}\n")
        auth_section = {"htpasswd": {"realm": SERVICE, "path": str(workdir / "htpasswd")}}
        credentials = (USERNAME, PASSWORD)
    elif auth == "token":
        key = SigningKey.generate()
        (workdir / "token-root.pem").write_bytes(key.certificate_pem)
        token_server = TokenServer(key, {USERNAME: PASSWORD}).start()
        auth_section = {
            "token": {
                "realm": token_server.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(workdir / "token-root.pem"),
            }
        }
        credentials = (USERNAME, PASSWORD)
    last_log = ""
    for _ in range(3):
        port = free_port()
        config = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
            **({"auth": auth_section} if auth_section else {}),
        }
        # JSON is YAML, and needs no YAML library
        (workdir / "config.yml").write_text(json.dumps(config, indent=2))
        log = workdir / "registry.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [binary, "serve", str(workdir / "config.yml")],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        registry = Registry(
            f"127.0.0.1:{port}", storage, auth, process, log, token_server, credentials
        )
        if _wait_until_up(registry):
            return registry
        registry.process.kill()
        registry.process.wait()
        last_log = log.read_text(errors="replace")[-2000:]
    if token_server is not None:
        token_server.stop()
    pytest.fail(f"{BINARY} did not start; its log:\n{last_log}")


def _wait_until_up(registry: Registry) -> bool:
    deadline = time.monotonic() + _START_SECONDS
    with httpx.Client(timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline:
            if registry.process.poll() is not None:
                return False
            try:
                if client.get(f"{registry.url}/v2/").status_code in (200, 401):
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    return False


def upload_blob(registry: Registry, repository: str, data: bytes) -> dict[str, Any]:
    """Upload `data` through the distribution API in one request; returns its descriptor."""
    digest = sha256(data)
    with _pushing_client(registry, repository) as client:
        started = client.post(f"/v2/{repository}/blobs/uploads/")
        started.raise_for_status()
        location = started.headers["Location"]
        separator = "&" if "?" in location else "?"
        done = client.put(
            f"{location}{separator}digest={digest}",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        done.raise_for_status()
    return {"digest": digest, "size": len(data)}


def put_manifest(
    registry: Registry, repository: str, reference: str, body: bytes, media_type: str
) -> str:
    """Store a manifest or index under `reference` (a tag or its digest); returns its digest."""
    with _pushing_client(registry, repository) as client:
        response = client.put(
            f"/v2/{repository}/manifests/{reference}",
            content=body,
            headers={"Content-Type": media_type},
        )
        if response.status_code >= 400:
            raise AssertionError(f"manifest upload failed: {response.status_code} {response.text}")
    return sha256(body)


def _pushing_client(registry: Registry, repository: str) -> httpx.Client:
    client = registry.client()
    if registry.auth == "token":
        client.headers["Authorization"] = f"Bearer {registry.push_token(repository)}"
    return client


def push_image(docker_client: Any, tag: str, registry: Registry, repository: str, name: str) -> str:
    """Push the engine image `tag` as REGISTRY/repository:name; returns the manifest digest.

    The engine treats registries on 127.0.0.0/8 as insecure, so it speaks plain HTTP to them.
    The temporary tag is removed again, so the engine keeps no trace of the session's ports.
    """
    target = f"{registry.address}/{repository}"
    docker_client.images.get(tag).tag(target, name)
    auth_config = None
    if registry.credentials:
        auth_config = {"username": registry.credentials[0], "password": registry.credentials[1]}
    try:
        digest = None
        for line in docker_client.images.push(
            target, tag=name, auth_config=auth_config, stream=True, decode=True
        ):
            if "error" in line:
                raise AssertionError(f"pushing {tag} to {target}:{name} failed: {line['error']}")
            digest = line.get("aux", {}).get("Digest") or digest
    finally:
        docker_client.images.remove(f"{target}:{name}")
    assert digest is not None, f"pushing {tag} reported no digest"
    return str(digest)


Route = tuple[int, dict[str, str], bytes]


class StaticServer:
    """A plain HTTP server on 127.0.0.1 answering GETs from a table of path -> (status, headers,
    body): for the faults no real registry produces (unknown media types, wrong bytes, 5xx)."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)
        self.paths: list[str] = []
        # every request line received, whatever its method (a proxy would see CONNECT)
        self.request_lines: list[str] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StaticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def parse_request(self) -> bool:
                parsed = super().parse_request()
                server.request_lines.append(self.requestline)
                return parsed

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                server.paths.append(path)
                status, headers, body = server.routes.get(path, (404, {}, b""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@contextlib.contextmanager
def silent_listener() -> Iterator[str]:
    """HOST:PORT of a socket that takes connections (the kernel completes them) and never
    answers: a registry that hangs."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


def guard_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any TCP connection to an address beyond this machine fail the test before a packet
    is sent: the tests of the plain-HTTP rule must not depend on that rule to stay on 127/8."""
    original = socket.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host = str(address[0])
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"a test tried to connect to {host}")
        return original(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
