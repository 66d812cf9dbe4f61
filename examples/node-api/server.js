// A tiny HTTP API: GET /health and GET /sum?a=1&b=2, on $PORT (default 3000).
const http = require("http");

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  let body;
  if (url.pathname === "/health") {
    body = { status: "ok" };
  } else if (url.pathname === "/sum") {
    body = { sum: Number(url.searchParams.get("a")) + Number(url.searchParams.get("b")) };
  } else {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
});

server.listen(Number(process.env.PORT) || 3000, "0.0.0.0");
