/**
 * Everything a step's cache key covers, gathered before it runs: its inputs (content hashes), the
 * step outputs it names, its builtin's `with:` references, its `cache: { files }` globs (else, for a
 * `run:` step, the project folder), its secrets' fingerprints, its executor or its builtin's code,
 * and its environment. What is gathered here is also what the step then runs on.
 */
import { InvalidInputError } from "../../errors.js";
import type { StepEnvironment } from "../model.js";
import { stepKey, type KeyMaterial, type StepKey } from "./cache-key.js";
import type { EngineDeps } from "./deps.js";
import { RunEnvironment } from "./environment.js";
import { resolveInputs, type ResolvedInput } from "./inputs.js";
import { resolveReferences, type PinnedReference } from "./references.js";
import { renderEnv, whereInStep, type StepScope } from "./scope.js";
import { stepExecution } from "../spec/executors.js";

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

/**
 * What a `run:` step's command may read from the checkout when it names no `cache: { files }`: the
 * whole project folder (a `python train.py` whose train.py changed must run again). A step that
 * names its files is keyed on those alone, as DVC keys a stage on its declared deps. Built-in steps
 * read only what their `with:` references name, which are keyed one by one.
 */
async function checkoutPart(scope: StepScope, runEnv: RunEnvironment): Promise<KeyMaterial["checkout"]> {
  const spec = scope.spec;
  if (spec.run === undefined || (typeof spec.cache === "object" && spec.cache.files.length)) return null;
  return (await runEnv.checkout()) ?? { digest: "none", value: "no project folder" };
}

export async function keyStep(deps: EngineDeps, scope: StepScope): Promise<KeyedStep> {
  const { spec, run } = scope;
  const { inputs, refs } = await resolveInputs(deps, scope);
  const pins = await resolveReferences(deps, scope);
  const files = await hashCacheFiles(deps, scope);
  const runEnv = scope.environment ?? new RunEnvironment(deps, run.workspace);
  const environment = await runEnv.forStep(spec, renderEnv({ ...scope, paths: null }), scope.pipeline);
  const secretNames = spec.secrets ?? [];
  const secrets =
    secretNames.length && deps.secretFingerprints ? await deps.secretFingerprints(run.project, secretNames) : {};
  const key = stepKey(scope, {
    inputs,
    refs: Object.fromEntries(Object.entries(refs).map(([k, v]) => [k, v.manifest])),
    references: pins.map((p) => p.resolved),
    files,
    environment,
    checkout: await checkoutPart(scope, runEnv),
    secrets: Object.fromEntries(secretNames.map((name) => [name, secrets[name] ?? "unset"])),
    // Where it runs: another executor is another machine, whose tools `environment` (probed here) does not describe.
    executor: spec.uses
      ? null
      : (stepExecution(spec, scope.pipeline).executor ?? deps.executors?.defaultExecutor ?? "local"),
    builtin: spec.uses ? { uses: spec.uses, code: await (deps.tandemCode?.() ?? "unknown") } : null,
  });
  return { ...key, inputs, refs, pins, environment };
}
