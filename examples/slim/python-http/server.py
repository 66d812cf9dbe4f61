"""An inventory service on the standard library: http.server, sqlite3, ssl, hashlib, uuid.

GET /health  -> {"status": "ok"}
GET /items   -> the items table of a SQLite database created in /tmp at start
GET /tls     -> facts about the default TLS client context and the CA bundle it loaded

Listens on 127.0.0.1:8101 (PORT overrides); stops at once on SIGTERM.
"""

import hashlib
import json
import os
import signal
import sqlite3
import ssl
import sys
import tempfile
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NAMESPACE = uuid.UUID("6f2b8a60-2c1e-4d0b-9b5e-3f1c2a7d9e10")
ITEMS = [("anvil", 3, "12.50"), ("bellows", 1, "80.00"), ("crucible", 12, "4.75")]


def create_database() -> Path:
    path = Path(tempfile.gettempdir()) / "inventory.db"
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE items (name TEXT PRIMARY KEY, stock INTEGER, price TEXT)")
        db.executemany("INSERT INTO items VALUES (?, ?, ?)", ITEMS)
    return path


def items(database: Path) -> list[dict[str, object]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT name, stock, price FROM items ORDER BY name").fetchall()
    return [
        {
            "name": name,
            "stock": stock,
            "price": price,
            "id": str(uuid.uuid5(NAMESPACE, name)),
            "sha256": hashlib.sha256(name.encode()).hexdigest()[:16],
        }
        for name, stock, price in rows
    ]


def tls_facts() -> dict[str, object]:
    # create_default_context() loads the system CA bundle (/usr/lib/ssl/cert.pem, a link to
    # /etc/ssl/certs/ca-certificates.crt on Debian): without it no CA is known.
    context = ssl.create_default_context()
    subjects = {
        value
        for cert in context.get_ca_certs()
        for rdn in cert["subject"]
        for key, value in rdn
        if key == "commonName"
    }
    return {
        "protocol": context.protocol.name,
        "verify_mode": context.verify_mode.name,
        "check_hostname": context.check_hostname,
        "ca_bundle_loaded": context.cert_store_stats()["x509_ca"] > 100,
        "knows_isrg_root_x1": "ISRG Root X1" in subjects,
        "tls13": ssl.HAS_TLSv1_3,
    }


class Handler(BaseHTTPRequestHandler):
    database: Path

    def do_GET(self) -> None:
        if self.path == "/health":
            body: object = {"status": "ok"}
        elif self.path == "/items":
            body = items(self.database)
        elif self.path == "/tls":
            body = tls_facts()
        else:
            self.send_error(404)
            return
        data = json.dumps(body, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    # PID 1 in a container gets no default SIGTERM action: without a handler it is ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Handler.database = create_database()
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8101"))), Handler)
    print(f"serving on {server.server_address[0]}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
