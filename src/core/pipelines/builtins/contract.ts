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
 * It declares what its `with:` fields refer to (`references`): a dataset version, a project file, a
 * model version or alias, an endpoint, a policy. Before the step runs, the engine resolves each one
 * to a digest for the cache key (`rows@latest` → `rows@3`, its manifest digest), records it on the
 * step run, and hands the builtin the pinned value instead (`rows@3`, the materialised file), so the
 * step runs on exactly what it was keyed on; `pinned[field]` is null for an optional reference that
 * named nothing (`compare: [champion]` before there is a champion). Fields not declared stay
 * literal. `writes` names the datasets and model aliases it creates, so `tandem validate` does not
 * warn when a later step of the pipeline reads them.
 *
 * Adding one: a small file exporting a `BuiltinStep`, plus one line in builtins/index.ts.
 */
import type { z } from "zod";
import type { ReferenceKind } from "../model.js";
import type { OutputKind } from "../spec/schema.js";

/** A `with:` field that refers to something outside the step (see the contract above). */
export interface WithReference {
  /** Where in `with:`, e.g. `["dataset"]`, `["compare", 0]`. */
  path: Array<string | number>;
  kind: ReferenceKind;
  /** The reference as substituted: `rows@latest`, `expectations/rows.yaml`, `m@champion`. */
  ref: string;
  /** Keyed as `none` (and `pinned` null) when it names nothing yet, instead of failing the step. */
  optional?: boolean;
  /**
   * Keyed, but handed to the builtin as written: a deploy of `m@champion` makes the endpoint follow
   * the alias, so pinning it to `m@5` would change what the step does (default false).
   */
  keyOnly?: boolean;
  /**
   * For a file: the references its content makes (an expectations file's `drift: { against:
   * rows@golden }`), each path inside the parsed document. They are resolved and keyed like the
   * field's own (`with.expect → drift.against`), and `pinned` gives each one's resolved value
   * under that name; the file itself reaches the builtin as it was hashed.
   */
  within?: (text: string) => WithReference[];
}

/** Something a builtin creates: a dataset's next version, or a model alias it requests. */
export interface WrittenReference {
  kind: "dataset" | "model";
  /** A dataset name, or `model@alias`. */
  ref: string;
}

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
  /**
   * The declared references as the cache key resolved them, by field (`dataset`, `compare[0]`):
   * the pinned value already substituted into `with`, or null for an optional one that named nothing.
   */
  pinned: Record<string, string | null>;
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
  /**
   * What `with:` refers to. `w` is `with:` with its expressions substituted; a value that came from
   * an input or a step output holds a placeholder (`<inputs.x>`, `<sha256:…>`), see isPlaceholder.
   */
  references?(w: Record<string, unknown>): WithReference[];
  /** What it creates (default: nothing). */
  writes?(w: Record<string, unknown>): WrittenReference[];
  run(ctx: BuiltinContext<W>): Promise<BuiltinResult | void>;
}

/** Identity helper that infers W from the schema. */
export function defineBuiltin<W>(def: BuiltinStep<W>): BuiltinStep<W> {
  return def;
}
