/**
 * The built-in step contract: `uses: tandem/<name>` with `with:` arguments runs a function in the
 * process driving the run, in a prepared step directory, exactly where a `run:` script would run.
 *
 * It receives (BuiltinContext):
 *   - who and where: project, pipeline, step (instance name), run ids, its tracking run id;
 *   - `with`: the arguments, expressions substituted as plain values and checked by the builtin's
 *     zod schema (a `${{ steps.X.outputs.Y }}` becomes the materialised path of that output;
 *     `artifacts[path]` gives its manifest hash when the builtin needs to reference it, e.g. to
 *     register a model version);
 *   - `inputs`: name → {path, manifest, kind}, materialised and verified;
 *   - `outputs`: name → path to write (a directory, or a file path for `file` outputs); Tandem
 *     stores them content-addressed after the builtin returns;
 *   - `log(line)`: into the step's log (secrets masked);
 *   - `signal`: aborted on cancel or timeout;
 *   - `services`: the platform's services (each area adds its own by declaration merging on
 *     BuiltinServices, e.g. `registry`, `serving`, `data`).
 * It returns metrics (`{name: number}`) that land in the step's tracking run, usable in later
 * `if:` conditions and `best()`. Throwing fails the step (with retries, if declared).
 *
 * Adding one: a small file exporting a `BuiltinStep`, plus one line in builtins/index.ts.
 */
import type { z } from "zod";
import type { OutputKind } from "../spec/schema.js";

/** Services a builtin may call. Areas extend it: `declare module "…/builtins/contract.js" { interface BuiltinServices { registry: RegistryService } }`. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by declaration merging
export interface BuiltinServices {}

export interface BuiltinContext<W> {
  project: string;
  pipeline: string;
  step: string;
  runId: string;
  stepRunId: string;
  trackingRunId: string | null;
  /** The user the run acts as (`system` for automatic triggers). */
  actor: string;
  with: W;
  inputs: Record<string, { path: string; manifest: string; kind: OutputKind }>;
  outputs: Record<string, string>;
  /** Materialised path → manifest hash, for every artifact path substituted into `with`. */
  artifacts: Record<string, string>;
  workdir: string;
  workspace: string | null;
  log(line: string): void;
  signal: AbortSignal;
  services: BuiltinServices;
}

export interface BuiltinResult {
  metrics?: Record<string, number>;
}

export interface BuiltinStep<W = unknown> {
  /** `tandem/<name>` */
  name: string;
  description: string;
  /** Checks `with:` after substitution; its errors name the step and field. */
  with: z.ZodType<W>;
  run(ctx: BuiltinContext<W>): Promise<BuiltinResult | void>;
}

/** Identity helper that infers W from the schema. */
export function defineBuiltin<W>(def: BuiltinStep<W>): BuiltinStep<W> {
  return def;
}
