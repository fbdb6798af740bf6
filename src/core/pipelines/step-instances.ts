/**
 * Naming one step of a run: its id, its instance name (`train[learning_rate=0.01]`), or that name
 * written loosely (spaces after commas, keys in another order). A step that fanned out (matrix,
 * sweep) named bare is ambiguous: the error lists its instance names so the next try works.
 */
import { InvalidInputError, NotFoundError } from "../errors.js";
import type { StepRun } from "./model.js";

/** `train[lr=0.1, depth=3]` → {step: "train", values: {lr: "0.1", depth: "3"}}; null without brackets. */
function parseInstance(text: string): { step: string; values: Map<string, string> } | null {
  const m = /^([^[\]]+)\[(.*)\]$/.exec(text.trim());
  if (!m) return null;
  const values = new Map<string, string>();
  for (const part of m[2]!.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return null;
    values.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return { step: m[1]!.trim(), values };
}

function sameInstance(s: StepRun, wanted: { step: string; values: Map<string, string> }): boolean {
  if (s.step !== wanted.step || !s.matrix) return false;
  const entries = Object.entries(s.matrix);
  return entries.length === wanted.values.size && entries.every(([k, v]) => wanted.values.get(k) === String(v));
}

export function findStepInstance(runId: string, steps: StepRun[], name: string): StepRun {
  const exact = steps.find((s) => s.name === name || s.id === name);
  if (exact) return exact;
  const parsed = parseInstance(name);
  const loose = parsed ? steps.find((s) => sameInstance(s, parsed)) : undefined;
  if (loose) return loose;
  const instances = steps.filter((s) => s.step === name);
  if (instances.length > 0)
    throw new InvalidInputError(
      `step ${name} of run ${runId} ran as ${instances.length} matrix instances; name one (quoted): ${instances
        .map((s) => `'${s.name}'`)
        .join(", ")}`,
      { instances: instances.map((s) => s.name) },
    );
  throw new NotFoundError(`run ${runId} has no step ${name} (steps: ${steps.map((x) => x.name).join(", ")})`);
}
