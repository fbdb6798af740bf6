/**
 * The worker thread of drift-parallel.ts: driftEach over the columns it is handed, once.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Table } from "./columns.js";
import { driftEach } from "./drift-parallel.js";
import type { DriftOptions } from "./drift.js";

const task = workerData as { reference: Table; current: Table; options: DriftOptions & { columns: string[] } };
parentPort!.postMessage(driftEach(task.reference, task.current, task.options, task.options.columns));
