/**
 * A worker thread running one of Tandem's own modules, from the built dist/ or from the TypeScript
 * sources (tsx, vitest) alike.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * Source of an eval worker that registers tsx's ESM hooks in its own thread, then imports the worker
 * module: Node 20 does not carry the parent's `--import tsx` loader into worker threads.
 */
function tsxBootstrap(url: URL): string {
  const api = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm/api")).href.replace(/\.cjs$/, ".mjs");
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
}

/**
 * A worker running the module `name` (without extension) beside `from` (the caller's import.meta.url):
 * `name`.js from dist/, `name`.ts through tsx's loader from the sources.
 */
export function moduleWorker(from: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = from.endsWith(".ts");
  const url = new URL(`${name}${fromSource ? ".ts" : ".js"}`, from);
  return fromSource ? new Worker(tsxBootstrap(url), { ...options, eval: true }) : new Worker(url, options);
}
