/**
 * Every `${{ … }}` in a step, where it sits, and what it refers to. Validation checks these
 * references; the engine uses the same walk to find a step's implicit dependencies and the params
 * its cache key covers.
 */
import { parseCondition } from "../expr/evaluate.js";
import { ExpressionSyntaxError, parseTemplate, refsOf, type Expr } from "../expr/parse.js";
import type { SpecPath } from "./positions.js";
import type { StepSpec } from "./schema.js";

export type Ref = Extract<Expr, { kind: "ref" }>;

/** Where in a step an expression sits; decides which contexts it may use. */
export type RefPlace = "run" | "inputs" | "with" | "env" | "if";

export interface FoundRef {
  ref: Ref;
  place: RefPlace;
  /** Path of the string holding it, relative to the step. */
  path: SpecPath;
  /** The whole string, and the expression's offsets in it (for positions). */
  value: string;
  start: number;
  end: number;
}

export interface FoundSyntaxError {
  path: SpecPath;
  value: string;
  offset: number;
  message: string;
}

function walkWith(v: unknown, path: SpecPath, visit: (s: string, path: SpecPath) => void): void {
  if (typeof v === "string") visit(v, path);
  else if (Array.isArray(v)) v.forEach((x, i) => walkWith(x, [...path, i], visit));
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) walkWith(x, [...path, k], visit);
}

/** Every reference in a step (and every syntax error met on the way). */
export function stepReferences(step: StepSpec): { refs: FoundRef[]; errors: FoundSyntaxError[] } {
  const refs: FoundRef[] = [];
  const errors: FoundSyntaxError[] = [];
  const scan = (value: string, path: SpecPath, place: RefPlace) => {
    try {
      for (const part of parseTemplate(value)) {
        if (part.kind !== "expr") continue;
        for (const ref of refsOf(part.expr)) refs.push({ ref, place, path, value, start: part.start, end: part.end });
      }
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      errors.push({ path, value, offset: error.offset, message: error.message });
    }
  };
  if (step.run !== undefined) scan(step.run, ["run"], "run");
  for (const [k, v] of Object.entries(step.inputs ?? {})) scan(v, ["inputs", k], "inputs");
  for (const [k, v] of Object.entries(step.env ?? {})) if (typeof v === "string") scan(v, ["env", k], "env");
  walkWith(step.with, ["with"], (s, p) => scan(s, p, "with"));
  if (step.if !== undefined && typeof step.if === "string") {
    try {
      for (const ref of refsOf(parseCondition(step.if)))
        refs.push({ ref, place: "if", path: ["if"], value: step.if, start: 0, end: step.if.length });
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      errors.push({ path: ["if"], value: step.if, offset: error.offset, message: error.message });
    }
  }
  return { refs, errors };
}

/** The step a `steps.<name>…` reference names, if it is one. */
export function referencedStep(ref: Ref): string | null {
  if (ref.root !== "steps") return null;
  const first = ref.path[0];
  return first?.kind === "prop" ? first.name : null;
}

/** A step's dependencies: its `needs:` plus every step its expressions refer to. Sorted, unique. */
export function stepDependencies(step: StepSpec): string[] {
  const deps = new Set<string>(typeof step.needs === "string" ? [step.needs] : (step.needs ?? []));
  for (const f of stepReferences(step).refs) {
    const s = referencedStep(f.ref);
    if (s) deps.add(s);
  }
  return [...deps].sort();
}

export function needsOf(step: StepSpec): string[] {
  return typeof step.needs === "string" ? [step.needs] : (step.needs ?? []);
}
