/**
 * Live pipeline-run updates as server-sent events, for the web UI's DAG and log views. EventSource
 * cannot send an Authorization header, so the browser authenticates with its session cookie.
 *
 * Events: `run` (the run with its steps, whenever anything in it changed), `log` (new log lines, as
 * the logs route returns them), `end` (the run finished and every line was sent; the stream closes).
 * The stream reads the database, not in-process state, so any server process can serve it whichever
 * process drives the run.
 */
import { z } from "zod";
import type { FastifyReply } from "fastify";
import { isTerminalRun } from "../../core/pipelines/model.js";
import type { Services } from "../services.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import { logToWire, runToWire } from "./pipelines-wire.js";

/** How often the stream looks for changes: fast enough to feel live, 2 light queries per tick. */
const POLL_MS = 400;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stream(services: Services, project: string, id: string, after: number, reply: FastifyReply) {
  // Fails with the usual JSON error (404) before any event is written.
  await services.pipelines.getRun(project, id);
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  let closed = false;
  // The response's close: the client went away (a request's own close only says its body was read).
  out.on("close", () => (closed = true));
  const send = (event: string, data: unknown) => {
    if (!closed) out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  let lastRun = "";
  let afterSeq = after;
  let lastBeat = Date.now();
  try {
    while (!closed) {
      const run = await services.pipelines.getRun(project, id);
      const wire = JSON.stringify(runToWire(run));
      if (wire !== lastRun) {
        lastRun = wire;
        send("run", JSON.parse(wire));
      }
      const { chunks } = await services.pipelines.logs(project, id, { afterSeq, limit: 1000 });
      if (chunks.length) {
        afterSeq = chunks[chunks.length - 1]!.seq;
        send("log", { lines: chunks.map(logToWire), next_after: afterSeq });
      }
      if (isTerminalRun(run.status) && chunks.length === 0) {
        send("end", { status: run.status });
        break;
      }
      if (Date.now() - lastBeat > HEARTBEAT_MS) {
        out.write(": keep-alive\n\n");
        lastBeat = Date.now();
      }
      await sleep(POLL_MS);
    }
  } catch (error) {
    send("error", { message: error instanceof Error ? error.message : String(error) });
  } finally {
    out.end();
  }
}

export const pipelineEventRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/pipeline-runs/:id/events",
    summary: "Server-sent events of a pipeline run: `run` on every change, `log` for new lines, `end` when it is over.",
    description:
      "Resume after a reconnect with `after` (the last log seq received). Authenticated by the session cookie or a token.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    raw: true,
    params: z.object({ project: z.string(), id: z.string() }),
    query: z.object({ after: z.coerce.number().int().min(0).default(0) }),
    handler: async ({ services, project, params, query, reply }) => {
      await stream(services, project, params.id, query.after, reply);
    },
  }),
];
