/**
 * {@link trainModel} off the calling thread. Training a few million rows takes tens of seconds of pure
 * CPU; run inline, that would freeze a server's event loop (health checks, other requests) for as long.
 * Here it runs in a worker thread and the caller awaits it; `signal` aborts by terminating the worker.
 */
import { InvalidInputError, TandemError } from "../errors.js";
import { moduleWorker } from "../module-worker.js";
import type { TrainModelOptions, TrainModelResult } from "./train.js";

type Reply = { ok: true; result: TrainModelResult } | { ok: false; name: string; message: string; details?: unknown };

export function trainModelInWorker(
  options: TrainModelOptions,
  control: { signal?: AbortSignal } = {},
): Promise<TrainModelResult> {
  return new Promise((resolve, reject) => {
    if (control.signal?.aborted) return reject(new Error("training aborted"));
    // From TypeScript sources (tsx, vitest) the worker needs tsx's loader; from the built dist/ it does not.
    const worker = moduleWorker(import.meta.url, "./train-worker", { workerData: options });
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
