/**
 * Everything a step's cache key covers, gathered before it runs: its inputs (content hashes), the
 * step outputs it names, its builtin's `with:` references, its `cache: { files }` globs and its
 * environment. What is gathered here is also what the step then runs on.
 */
import { InvalidInputError } from "../../errors.js";
import type { StepEnvironment } from "../model.js";
import { stepKey, type StepKey } from "./cache-key.js";
import type { EngineDeps } from "./deps.js";
import { RunEnvironment } from "./environment.js";
import { resolveInputs, type ResolvedInput } from "./inputs.js";
import { resolveReferences, type PinnedReference } from "./references.js";
import { renderEnv, whereInStep, type StepScope } from "./scope.js";

export interface KeyedStep extends StepKey {
  inputs: Record<string, ResolvedInput>;
  refs: Record<string, ResolvedInput>;
  pins: PinnedReference[];
  environment: StepEnvironment;
}

/** `cache: { files: [globs] }` of a step, each glob hashed over the files it matches now. */
async function hashCacheFiles(
  deps: EngineDeps,
  scope: StepScope,
): Promise<Record<string, { digest: string; files: string[] }>> {
  const cache = scope.spec.cache;
  if (typeof cache !== "object" || !cache.files.length) return {};
  if (!scope.run.workspace) {
    throw new InvalidInputError(
      `${whereInStep(scope, ["cache", "files"])}: cache files need a workspace, and this run has none`,
    );
  }
  const out: Record<string, { digest: string; files: string[] }> = {};
  for (const glob of cache.files) out[glob] = await deps.workspace.hashGlob(scope.run.workspace, glob);
  return out;
}

export async function keyStep(deps: EngineDeps, scope: StepScope): Promise<KeyedStep> {
  const { inputs, refs } = await resolveInputs(deps, scope);
  const pins = await resolveReferences(deps, scope);
  const files = await hashCacheFiles(deps, scope);
  const runEnv = scope.environment ?? new RunEnvironment(deps, scope.run.workspace);
  const environment = await runEnv.forStep(scope.spec, renderEnv({ ...scope, paths: null }), scope.pipeline);
  const key = stepKey(scope, {
    inputs,
    refs: Object.fromEntries(Object.entries(refs).map(([k, v]) => [k, v.manifest])),
    references: pins.map((p) => p.resolved),
    files,
    environment,
  });
  return { ...key, inputs, refs, pins, environment };
}
