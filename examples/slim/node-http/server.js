// A Node HTTP service on the standard modules: http, fs, crypto, zlib.
//
// GET /health             -> {"status":"ok"}
// GET /digest?text=...    -> hashes, an HMAC and the deflated size of the text, and of the
//                            quotes file read at start
//
// Listens on 127.0.0.1:8103 (PORT overrides); stops at once on SIGTERM.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const path = require("path");
const zlib = require("zlib");

const quotes = fs.readFileSync(path.join(__dirname, "quotes.txt"));
const KEY = "not-a-secret";

function digest(text) {
  const data = Buffer.from(text, "utf8");
  const deflated = zlib.deflateSync(Buffer.concat([data, quotes]), { level: 9 });
  return {
    text,
    sha256: crypto.createHash("sha256").update(data).digest("hex"),
    sha3_256: crypto.createHash("sha3-256").update(data).digest("hex"),
    hmac: crypto.createHmac("sha256", KEY).update(data).digest("base64"),
    md5_prefix: crypto.createHash("md5").update(data).digest("hex").slice(0, 12),
    deflated_bytes: deflated.length,
    roundtrip: zlib.inflateSync(deflated).length === data.length + quotes.length,
    gzip_bytes: zlib.gzipSync(quotes, { level: 9 }).length,
  };
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  let body;
  if (url.pathname === "/health") {
    body = { status: "ok" };
  } else if (url.pathname === "/digest") {
    body = digest(url.searchParams.get("text") || "");
  } else {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
});

// PID 1 in a container gets no default SIGTERM action: without a handler it is ignored.
process.on("SIGTERM", () => process.exit(0));

const port = Number(process.env.PORT) || 8103;
server.listen(port, "127.0.0.1", () => console.log(`serving on 127.0.0.1:${port}`));
