// greeter: a small HTTP service — GET /hello?name=… answers a greeting, GET /health answers ok.
import { createServer } from "node:http";

export const VERSION = "1.0.0";

export function greet(name) {
  const who = String(name ?? "").trim() || "world";
  if (who.length > 100) throw new RangeError("name: at most 100 characters");
  return `hello, ${who}`;
}

export function handler(req, res) {
  const url = new URL(req.url, "http://localhost");
  const send = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === "/health") return send(200, { status: "ok", version: VERSION });
  if (url.pathname === "/hello") {
    try {
      return send(200, { message: greet(url.searchParams.get("name")) });
    } catch (error) {
      return send(400, { error: error.message });
    }
  }
  return send(404, { error: `no route ${url.pathname}` });
}

// `node server.js [port]` serves; importing it (tests) does not.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const server = createServer(handler).listen(Number(process.argv[2] ?? 8080), "127.0.0.1", () => {
    console.log(`greeter ${VERSION} listening on http://127.0.0.1:${server.address().port}`);
  });
}
