#!/usr/bin/env node
/**
 * A STAND-IN for an OpenAI-compatible LLM (no model runs here): POST /v1/chat/completions answers
 * from a small table of support topics, deterministically, with token counts (words) — plain or
 * streamed. The system prompt matters, as with a real model: a prompt that asks for "one word"
 * gets only the topic's first word, which the example's scorers mark down.
 *
 *   node standin/server.mjs [port]     (default 8799; prints its URL)
 */
import { createServer } from "node:http";

const TOPICS = [
  [
    /parcel|package|where is|tracking|delivery|deliver/i,
    "Tracking: follow your parcel with the tracking link in your confirmation email.",
  ],
  [/refund|money back|return/i, "Refunds: returns are refunded within 5 business days of arrival."],
  [/address|move|relocat/i, "Address: change the delivery address in your account until the parcel ships."],
  [/password|log ?in|sign ?in|account locked/i, "Account: reset your password from the sign-in page."],
  [/hours|open|closed|weekend/i, "Hours: support is open 8:00-20:00, Monday to Saturday."],
  [/cancel/i, "Cancellation: cancel an order in your account before it ships."],
  [/damaged|broken|missing item/i, "Damage: report damaged or missing items within 14 days with a photo."],
  [/price|cost|fee|shipping/i, "Shipping: standard shipping costs 4.90 and is free above 50."],
];
const FALLBACK = "Other: a support agent will answer you by email.";
const words = (s) => s.split(/\s+/).filter(Boolean).length;

function answer(messages) {
  const question = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const found = TOPICS.find(([re]) => re.test(question))?.[1] ?? FALLBACK;
  const system = messages.find((m) => m.role === "system")?.content ?? "";
  return /one word/i.test(system) ? found.split(":")[0] : found;
}

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
      return;
    }
    let request;
    try {
      request = JSON.parse(body);
    } catch {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"message":"body is not JSON"}}');
      return;
    }
    const messages = request.messages ?? [];
    const text = answer(messages);
    const usage = { prompt_tokens: messages.reduce((n, m) => n + words(m.content), 0), completion_tokens: words(text) };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const base = { id: `chatcmpl-standin-${Date.now()}`, created: Math.floor(Date.now() / 1000), model: request.model };
    if (!request.stream) {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          ...base,
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta, finish, extra = {}) =>
      `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    for (const part of text.split(/(?<= )/)) res.write(chunk({ content: part }, null));
    res.write(chunk({}, "stop", { usage }));
    res.end("data: [DONE]\n\n");
  });
});

const port = Number(process.argv[2] ?? process.env.STANDIN_PORT ?? 8799);
server.listen(port, "127.0.0.1", () => {
  console.log(`stand-in LLM listening on http://127.0.0.1:${server.address().port}/v1`);
});
