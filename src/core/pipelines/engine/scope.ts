/**
 * What a step's expressions mean at run time. One scope per step attempt: it answers `params.x`,
 * `inputs.x`, `steps.train.best('auc').outputs.model`… In `key` mode paths become stable
 * placeholders (the step directory differs per attempt, the cache key must not), so the key covers
 * what a command does, not where it ran.
 */
import { InvalidInputError } from "../../errors.js";
import { renderDeep, renderPlain, renderShell, stringify, type Resolver, type Value } from "../expr/evaluate.js";
import type { PipelineRun, StepRun } from "../model.js";
import { stepReferences, type Ref } from "../spec/references.js";
import { formatPath, type SpecPath } from "../spec/positions.js";
import { durationMs } from "../spec/names.js";
import type { RunEnvironment } from "./environment.js";
import type { PipelineSpec, StepSpec } from "../spec/schema.js";

export interface ScopePaths {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  /** By reference text (`steps.prepare.outputs.table`). */
  refs: Record<string, string>;
}

export interface StepScope {
  run: PipelineRun;
  pipeline: PipelineSpec;
  spec: StepSpec;
  inst: StepRun;
  /** Spec step name → its instances, current state. */
  byStep: Map<string, StepRun[]>;
  /** Absolute paths, or null in key mode. */
  paths: ScopePaths | null;
  /** `tandem.yaml:12:9: pipelines.p.steps.s.with.dataset` for a path in the spec (errors name it). */
  locate?: (path: SpecPath) => string;
  /** The run's environment (lockfiles read and interpreters probed once per run). */
  environment?: RunEnvironment;
  /**
   * The step's attempt goes on under its own number instead of a new one: a driver counted it, sent
   * it to a remote executor and died before the job's id was stored (default false).
   */
  resumeAttempt?: boolean;
}

/** `tandem.yaml:12:9: pipelines.p.steps.s.with.dataset` for a path inside the step's spec. */
export function whereInStep(scope: StepScope, path: SpecPath): string {
  const full: SpecPath = ["pipelines", scope.run.pipeline, "steps", scope.inst.step, ...path];
  return scope.locate ? scope.locate(full) : formatPath(full);
}

/**
 * The longest a run may take if each of its step instances ran one after another to its timeout on
 * every attempt, with the retry backoff (at most 60 s) between attempts and a minute to spare; null
 * when a step has no timeout (the run has no bound). The run's token never outlives it.
 */
export function runBoundMs(scope: Pick<StepScope, "pipeline" | "byStep">): number | null {
  let total = 60_000;
  for (const [step, instances] of scope.byStep) {
    const spec = scope.pipeline.steps[step];
    if (!spec || spec.timeout === undefined) return null;
    const attempts = 1 + (spec.retries ?? 0);
    total += instances.length * (attempts * durationMs(spec.timeout) + (attempts - 1) * 60_000);
  }
  return total;
}

/** The instance of a matrix step with the best metric (max unless `min`); the only one otherwise. */
export function pickInstance(
  scope: StepScope,
  step: string,
  best?: { metric: string; direction: "max" | "min" },
): StepRun {
  const all = scope.byStep.get(step) ?? [];
  if (!best) {
    if (all.length !== 1)
      throw new InvalidInputError(`steps.${step} has ${all.length} runs; pick one with best('metric')`);
    return all[0]!;
  }
  let chosen: StepRun | undefined;
  for (const s of all) {
    const v = s.metrics[best.metric];
    if (s.status !== "succeeded" || typeof v !== "number" || Number.isNaN(v)) continue;
    const cur = chosen?.metrics[best.metric];
    if (chosen === undefined || (best.direction === "max" ? v > cur! : v < cur!)) chosen = s;
  }
  if (!chosen) throw new InvalidInputError(`no successful run of step ${step} logged metric "${best.metric}"`);
  return chosen;
}

/** Splits a `steps.*` reference into the instance it names and the field it reads. */
export function stepTarget(scope: StepScope, ref: Ref): { inst: StepRun; kind: string; field: string | null } {
  const [stepSeg, ...rest] = ref.path;
  const step = stepSeg?.kind === "prop" ? stepSeg.name : "";
  let tail = rest;
  let best: { metric: string; direction: "max" | "min" } | undefined;
  if (tail[0]?.kind === "call") {
    const args = tail[0].args;
    best = { metric: String(args[0]), direction: args[1] === "min" ? "min" : "max" };
    tail = tail.slice(1);
  }
  const kind = tail[0]?.kind === "prop" ? tail[0].name : "";
  const field = tail[1]?.kind === "prop" ? tail[1].name : null;
  return { inst: pickInstance(scope, step, best), kind, field };
}

/**
 * `record[key]` when the record has it itself: reference names are the user's (a trigger's fields, a
 * step's logged metrics), and `trigger.constructor` or `metrics.valueOf` must not find Object.prototype.
 */
function own<T>(record: Record<string, T> | null | undefined, key: string): T | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

export function resolverFor(scope: StepScope, env: Record<string, string> = {}): Resolver {
  const { run, inst, paths } = scope;
  return (ref) => {
    const first = ref.path[0];
    const name = first?.kind === "prop" ? first.name : "";
    switch (ref.root) {
      case "params": {
        const v = own(inst.matrix, name) ?? own(run.params, name);
        if (v === undefined) throw new InvalidInputError(`\${{ ${ref.text} }}: no such param`);
        return v;
      }
      case "matrix": {
        const v = own(inst.matrix, name);
        if (v === undefined) throw new InvalidInputError(`\${{ ${ref.text} }}: this step has no matrix value ${name}`);
        return v;
      }
      case "env": {
        const v = own(env, name);
        if (v === undefined) throw new InvalidInputError(`\${{ ${ref.text} }}: no such env`);
        return v;
      }
      case "inputs":
        return paths ? (own(paths.inputs, name) ?? null) : `<inputs.${name}>`;
      case "outputs":
        return paths ? (own(paths.outputs, name) ?? null) : `<outputs.${name}>`;
      case "trigger":
        return (own(run.trigger, name) as Value | undefined) ?? null;
      case "steps": {
        const { inst: target, kind, field } = stepTarget(scope, ref);
        if (kind === "status") return target.status;
        if (kind === "metrics") return field !== null ? (own(target.metrics, field) ?? null) : null;
        if (kind === "outputs" && field !== null) {
          const manifest = own(target.outputs, field);
          if (!manifest)
            throw new InvalidInputError(
              `\${{ ${ref.text} }}: step ${target.name} has no output ${field} (status ${target.status})`,
            );
          return paths ? (own(paths.refs, ref.text) ?? null) : `<sha256:${manifest}>`;
        }
        throw new InvalidInputError(`\${{ ${ref.text} }}: unknown reference`);
      }
      default:
        throw new InvalidInputError(`\${{ ${ref.text} }} refers to nothing`);
    }
  };
}

/** The step's environment from `env:` (pipeline, then step), values substituted as plain text. */
export function renderEnv(scope: StepScope): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = { ...(scope.pipeline.env ?? {}), ...(scope.spec.env ?? {}) };
  const plain: Record<string, string> = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
  const resolve = resolverFor(scope, plain);
  for (const [k, v] of Object.entries(raw))
    out[k] = typeof v === "string" ? stringify(renderPlain(v, resolve)) : String(v);
  return out;
}

export interface Rendered {
  env: Record<string, string>;
  script: string | null;
  with: Value | null;
}

export function renderStep(scope: StepScope): Rendered {
  const env = renderEnv(scope);
  const resolve = resolverFor(scope, env);
  return {
    env,
    script: scope.spec.run !== undefined ? renderShell(scope.spec.run, resolve) : null,
    with: scope.spec.uses !== undefined ? renderDeep(scope.spec.with ?? {}, resolve) : null,
  };
}

/** The params a step references (directly or through its matrix), with their values. */
export function referencedParams(scope: StepScope): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const f of stepReferences(scope.spec).refs) {
    const first = f.ref.path[0];
    if ((f.ref.root === "params" || f.ref.root === "matrix") && first?.kind === "prop") {
      out[first.name] = scope.inst.matrix?.[first.name] ?? scope.run.params[first.name] ?? null;
    }
  }
  for (const [k, v] of Object.entries(scope.inst.matrix ?? {})) out[k] = v;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
