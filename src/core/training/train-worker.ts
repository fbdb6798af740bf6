/**
 * Worker-thread side of {@link trainModelInWorker}: trains, then posts the result (the ONNX bytes are
 * transferred, not copied) or the error's name, message and details.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { TrainModelOptions } from "./train.js";
import { trainModel } from "./train.js";

try {
  const result = trainModel(workerData as TrainModelOptions);
  parentPort!.postMessage({ ok: true, result }, [result.onnxBytes.buffer as ArrayBuffer]);
} catch (error) {
  const e = error as { name?: string; message?: string; details?: unknown };
  parentPort!.postMessage({
    ok: false,
    name: e.name ?? "Error",
    message: e.message ?? String(error),
    details: e.details,
  });
}
