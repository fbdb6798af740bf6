/**
 * A run's plan: one step run per step, or per matrix combination of a fan-out step, each waiting for
 * every instance of the steps it depends on. Made once when the run is created and stored, so the
 * plan a resumed run follows is the one it started with.
 */
import { newId } from "../../ids.js";
import type { StepRun } from "../model.js";
import type { Scalar } from "../spec/names.js";
import { stepDependencies } from "../spec/references.js";
import type { PipelineSpec } from "../spec/schema.js";

/** Every combination of a matrix, in declaration order (the first key varies slowest). */
export function matrixCombinations(matrix: Record<string, Scalar[]>): Array<Record<string, Scalar>> {
  let combos: Array<Record<string, Scalar>> = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  }
  return combos;
}

/** `train[lr=0.1,depth=3]`: readable, unique within a run. */
export function instanceName(step: string, combo: Record<string, Scalar> | null): string {
  if (!combo) return step;
  return `${step}[${Object.entries(combo)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(",")}]`;
}

/** Step names in an order where every step comes after what it depends on (the spec is acyclic). */
export function topologicalOrder(pipeline: PipelineSpec): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (name: string) => {
    if (done.has(name)) return;
    done.add(name);
    for (const dep of stepDependencies(pipeline.steps[name]!)) if (pipeline.steps[dep]) visit(dep);
    order.push(name);
  };
  for (const name of Object.keys(pipeline.steps)) visit(name);
  return order;
}

export function planRun(runId: string, pipeline: PipelineSpec): StepRun[] {
  const instancesOf = new Map<string, string[]>();
  const out: StepRun[] = [];
  for (const step of topologicalOrder(pipeline)) {
    const spec = pipeline.steps[step]!;
    const combos = spec.matrix ? matrixCombinations(spec.matrix) : [null];
    const needs = stepDependencies(spec).flatMap((d) => instancesOf.get(d) ?? []);
    const names: string[] = [];
    for (const combo of combos) {
      const name = instanceName(step, combo);
      names.push(name);
      out.push({
        id: newId(),
        runId,
        name,
        step,
        matrix: combo,
        needs,
        status: "pending",
        cached: false,
        cacheKey: null,
        attempt: 0,
        startedAt: null,
        finishedAt: null,
        exitCode: null,
        error: null,
        command: null,
        inputs: {},
        references: [],
        cacheInfo: null,
        environment: null,
        outputs: {},
        metrics: {},
        leaseOwner: null,
        leaseExpiresAt: null,
        pid: null,
        host: null,
        pidStart: null,
        executor: null,
        remoteJob: null,
        waiting: null,
        trackingRunId: null,
        seq: out.length,
      });
    }
    instancesOf.set(step, names);
  }
  return out;
}
