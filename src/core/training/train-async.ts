/**
 * {@link trainModel} off the calling thread. Training a few million rows takes tens of seconds of pure
 * CPU; run inline, that would freeze a server's event loop (health checks, other requests) for as long.
 * Here it runs in a worker thread and the caller awaits it; `signal` aborts by terminating the worker.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { InvalidInputError, TandemError } from "../errors.js";
import type { TrainModelOptions, TrainModelResult } from "./train.js";

type Reply = { ok: true; result: TrainModelResult } | { ok: false; name: string; message: string; details?: unknown };

/**
 * Source of an eval worker that registers tsx's ESM hooks in its own thread, then imports the worker
 * module: Node 20 does not carry the parent's `--import tsx` loader into worker threads.
 */
function tsxBootstrap(url: URL): string {
  const api = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href.replace(/\.cjs$/, ".mjs");
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
}

export function trainModelInWorker(
  options: TrainModelOptions,
  control: { signal?: AbortSignal } = {},
): Promise<TrainModelResult> {
  // From TypeScript sources (tsx, vitest) the worker needs tsx's loader; from the built dist/ it does not.
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./train-worker.ts" : "./train-worker.js", import.meta.url);
  return new Promise((resolve, reject) => {
    if (control.signal?.aborted) return reject(new Error("training aborted"));
    const worker = fromSource
      ? new Worker(tsxBootstrap(url), { eval: true, workerData: options })
      : new Worker(url, { workerData: options });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      control.signal?.removeEventListener("abort", onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = (): void => finish(() => reject(new Error("training aborted")));
    control.signal?.addEventListener("abort", onAbort, { once: true });
    worker.once("message", (reply: Reply) =>
      finish(() => {
        if (reply.ok) return resolve(reply.result);
        // Input errors keep their type so callers (and the HTTP error handler) report them as such.
        reject(
          reply.name === "InvalidInputError"
            ? new InvalidInputError(reply.message, reply.details)
            : new TandemError("INTERNAL", reply.message, reply.details),
        );
      }),
    );
    worker.once("error", (error) => finish(() => reject(error)));
    worker.once("exit", (code) => finish(() => reject(new Error(`training worker exited with code ${code}`))));
  });
}
