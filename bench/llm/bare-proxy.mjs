#!/usr/bin/env node
/**
 * The least any LLM gateway written in Node must do per call, as a baseline for Tandem's endpoint:
 * parse the caller's JSON, render the two prompt messages, call the upstream over a keep-alive pool,
 * parse its answer (a gateway reads the usage to count tokens) and send it back. No auth, no log, no
 * trace, no policy. On a CPU-bound machine this bounds what a gateway can reach against calling the
 * upstream directly: it does the upstream's work plus a second HTTP server and an HTTP client.
 *
 *   node bare-proxy.mjs UPSTREAM_URL [port]     (prints its URL)
 */
import { Agent, createServer, request } from "node:http";

const upstream = new URL(`${process.argv[2].replace(/\/$/, "")}/chat/completions`);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function callUpstream(body) {
  return new Promise((resolve, reject) => {
    const req = request(
      upstream,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    try {
      const call = JSON.parse(Buffer.concat(chunks).toString());
      const product = call.metadata?.variables?.product ?? "";
      const input = call.messages.at(-1).content;
      const body = JSON.stringify({
        model: "standin-1",
        messages: [
          { role: "system", content: `You answer questions about ${product}.` },
          { role: "user", content: input },
        ],
      });
      const answer = await callUpstream(body);
      const usage = JSON.parse(answer.text).usage;
      if (!usage) throw new Error("the upstream sent no usage");
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.text);
    } catch (error) {
      res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: String(error) }));
    }
  });
});

server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => {
  console.log(`bare proxy listening on http://127.0.0.1:${server.address().port}`);
});
