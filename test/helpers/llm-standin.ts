/**
 * A STAND-IN for an OpenAI-compatible LLM upstream (no LLM can run or be downloaded here). It answers
 * `POST /v1/chat/completions` deterministically — the answer is a function of the messages — with
 * token counts (words), plain or streamed (server-sent events with a final usage chunk and
 * `[DONE]`), and can be told to be slow, to fail a share of calls with 500, to answer non-JSON, or
 * to hang. Its answers follow the OpenAI chat.completion / chat.completion.chunk schemas, which the
 * tests also check through the official `openai` client.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandinOptions {
  /** The answer to a conversation (default: "Echo: " + the last user message). */
  answer?: (messages: Array<{ role: string; content: string }>, model: string) => string;
  /** Delay before answering, ms (default 0). */
  latencyMs?: number;
  /** Delay for these messages instead of `latencyMs` (e.g. a slow prompt version), ms. */
  latencyFor?: (messages: Array<{ role: string; content: string }>) => number;
  /** Every Nth call fails with HTTP 500 (default 0: none); deterministic, by call count. */
  failEvery?: number;
  /** Calls whose messages make this true fail with HTTP 500 (e.g. a broken prompt version). */
  failWhen?: (messages: Array<{ role: string; content: string }>) => boolean;
  /** `ok` (default), `500` (always), `nonjson`, `hang` (never answers), `nochoices`. */
  mode?: "ok" | "500" | "nonjson" | "hang" | "nochoices";
}

export interface Standin {
  url: string;
  /** Every request body received, in order. */
  requests: Array<Record<string, unknown>>;
  options: StandinOptions;
  close(): Promise<void>;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  const requests: Array<Record<string, unknown>> = [];
  let calls = 0;
  const state: Standin = { url: "", requests, options, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
          res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        requests.push({ ...body, authorization: req.headers.authorization ?? null });
        calls++;
        const o = state.options;
        if (o.mode === "hang") return;
        const sent = (body.messages ?? []) as Array<{ role: string; content: string }>;
        const delay = o.latencyFor?.(sent) ?? o.latencyMs ?? 0;
        if (delay) await new Promise((r) => setTimeout(r, delay));
        if (o.mode === "500" || (o.failEvery && calls % o.failEvery === 0) || o.failWhen?.(sent)) {
          res.writeHead(500, { "content-type": "application/json" }).end('{"error":{"message":"stand-in failure"}}');
          return;
        }
        if (o.mode === "nonjson") {
          res.writeHead(200, { "content-type": "text/html" }).end("<html>gateway says hello</html>");
          return;
        }
        const messages = (body.messages ?? []) as Array<{ role: string; content: string }>;
        const model = String(body.model ?? "standin");
        const lastUser = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
        const answer = o.answer ? o.answer(messages, model) : `Echo: ${lastUser}`;
        const usage = {
          prompt_tokens: messages.reduce((n, m) => n + words(m.content), 0),
          completion_tokens: words(answer),
          total_tokens: 0,
        };
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
        const id = `chatcmpl-standin-${calls}`;
        const created = Math.floor(Date.now() / 1000);
        if (o.mode === "nochoices") {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, usage }));
          return;
        }
        if (!body.stream) {
          res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
              id,
              object: "chat.completion",
              created,
              model,
              choices: [
                { index: 0, message: { role: "assistant", content: answer }, finish_reason: "stop", logprobs: null },
              ],
              usage,
            }),
          );
          return;
        }
        res.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;
        res.write(chunk({ role: "assistant", content: "" }, null));
        const parts = answer.split(/(?<= )/);
        for (const part of parts) res.write(chunk({ content: part }, null));
        res.write(chunk({}, "stop"));
        const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
        if (wantsUsage)
          res.write(
            `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`,
          );
        res.end("data: [DONE]\n\n");
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
