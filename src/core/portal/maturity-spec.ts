/** Reads a stored tandem.yaml into the facts the maturity grader needs (steps, triggers, policies). */
import { loadSpec } from "../pipelines/spec/load.js";
import { stepDependencies } from "../pipelines/spec/references.js";
import type { PipelineSpec, TandemSpec } from "../pipelines/spec/schema.js";
import type { PipelineFacts, SpecFacts, StepFacts } from "./maturity-model.js";

function upstreamClosure(direct: Map<string, string[]>, name: string): string[] {
  const seen = new Set<string>();
  const stack = [...(direct.get(name) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(direct.get(next) ?? []));
  }
  return [...seen].sort();
}

export function pipelineFacts(name: string, p: PipelineSpec): PipelineFacts {
  const direct = new Map(Object.entries(p.steps).map(([n, s]) => [n, stepDependencies(s)]));
  const steps: StepFacts[] = Object.entries(p.steps).map(([n, s]) => ({
    name: n,
    uses: s.uses ?? null,
    upstream: upstreamClosure(direct, n),
    command: s.run ?? null,
  }));
  const triggers = (p.triggers ?? []).flatMap((t) =>
    (["schedule", "git", "data", "alert"] as const).filter((k) => t[k] !== undefined),
  );
  return { name, triggers: [...new Set(triggers)], steps };
}

export function specFacts(version: number, spec: TandemSpec): SpecFacts {
  const comparing = Object.entries(spec.policies ?? {})
    .filter(([, policy]) => JSON.stringify(policy).includes('"beats"'))
    .map(([n]) => n);
  return {
    version,
    pipelines: Object.entries(spec.pipelines ?? {}).map(([n, p]) => pipelineFacts(n, p)),
    comparingPolicies: comparing,
  };
}

/** The facts of a stored spec's source, or null when it no longer loads (an older schema). */
export function specFactsOf(version: number, source: string, file: string): SpecFacts | null {
  try {
    return specFacts(version, loadSpec(source, file).spec);
  } catch {
    return null;
  }
}
