/**
 * Calling a built-in step in-process, in its prepared directory: `with:` checked by the builtin's
 * schema after its references are pinned (the versions and files the cache key covered), then the
 * context of builtins/contract.ts.
 */
import type { AnyBuiltin } from "../builtins/index.js";
import type { Value } from "../expr/evaluate.js";
import type { EngineDeps } from "./deps.js";
import { inputPath, type ResolvedInput } from "./inputs.js";
import { pinWith, type PinnedReference } from "./references.js";
import type { StepScope } from "./scope.js";

export interface BuiltinCall {
  builtin: AnyBuiltin;
  /** `with:` substituted for this attempt (paths of inputs and outputs filled in). */
  rendered: Value | null;
  pins: PinnedReference[];
  inputs: Record<string, ResolvedInput>;
  refs: Record<string, ResolvedInput>;
  outputs: Record<string, string>;
  trackingRunId: string | null;
  log(line: string): void;
}

/** The with: a builtin will see: its references pinned in the step directory `workdir`. */
export function pinnedWith(call: Pick<BuiltinCall, "rendered" | "pins">, workdir: string) {
  return pinWith(call.rendered ?? {}, call.pins, workdir);
}

/** Runs the builtin; resolves to its metrics. */
export async function callBuiltin(
  deps: EngineDeps,
  scope: StepScope,
  call: BuiltinCall,
  dir: string,
  signal: AbortSignal,
): Promise<Record<string, number> | undefined> {
  const { run, inst } = scope;
  const pinned = pinnedWith(call, dir);
  const parsed = call.builtin.with.safeParse(pinned.with);
  if (!parsed.success) {
    throw new Error(
      `with: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`,
    );
  }
  const artifacts: Record<string, string> = {};
  for (const i of [...Object.values(call.inputs), ...Object.values(call.refs)])
    artifacts[inputPath(dir, i)] = i.manifest;
  for (const p of call.pins) if (p.file) artifacts[inputPath(dir, p.file)] = p.file.manifest;
  const res = await call.builtin.run({
    project: run.project,
    pipeline: run.pipeline,
    step: inst.name,
    runId: run.id,
    stepRunId: inst.id,
    trackingRunId: call.trackingRunId,
    actor: run.createdBy,
    with: parsed.data,
    inputs: Object.fromEntries(
      Object.entries(call.inputs).map(([k, v]) => [k, { path: inputPath(dir, v), manifest: v.manifest, kind: v.kind }]),
    ),
    outputs: call.outputs,
    artifacts,
    pinned: pinned.pinned,
    workdir: dir,
    workspace: run.workspace,
    log: call.log,
    signal,
    services: deps.builtinServices,
  });
  return res?.metrics ?? undefined;
}
