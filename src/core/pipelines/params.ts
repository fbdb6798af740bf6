/**
 * Params: declared in the spec with a default (type inferred from it, or given), overridden per run
 * with `-p key=value`. An override is checked against the declared type, so `-p epochs=ten` fails
 * before anything runs instead of inside a training script an hour later.
 */
import { InvalidInputError } from "../errors.js";
import type { Scalar } from "./spec/names.js";
import type { ParamSpec, ParamType, PipelineSpec } from "./spec/schema.js";

export interface ParamDecl {
  type: ParamType;
  default: Scalar;
  choices?: Scalar[];
  description?: string;
}

export function paramDecl(spec: ParamSpec): ParamDecl {
  if (typeof spec === "object") {
    const type = spec.type ?? inferType(spec.default);
    return { type, default: spec.default, choices: spec.choices, description: spec.description };
  }
  return { type: inferType(spec), default: spec };
}

function inferType(v: Scalar): ParamType {
  // A numeric default declares "number", not "integer": `lr: 1` must still accept `-p lr=0.5`.
  return typeof v === "number" ? "number" : typeof v === "boolean" ? "boolean" : "string";
}

/** Converts a value to a param's type, or says why it cannot. */
export function coerceParam(name: string, decl: ParamDecl, raw: unknown): Scalar {
  const bad = (what: string) =>
    new InvalidInputError(`param ${name}: expected ${what}, got ${JSON.stringify(raw)}`, { param: name });
  let value: Scalar;
  switch (decl.type) {
    case "string":
      if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") throw bad("a string");
      value = String(raw);
      break;
    case "number":
    case "integer": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw bad(decl.type === "integer" ? "an integer" : "a number");
      if (decl.type === "integer" && !Number.isInteger(n)) throw bad("an integer");
      value = n;
      break;
    }
    case "boolean":
      if (raw === true || raw === "true") value = true;
      else if (raw === false || raw === "false") value = false;
      else throw bad("true or false");
      break;
  }
  if (decl.choices && !decl.choices.some((c) => c === value)) {
    throw new InvalidInputError(
      `param ${name}: ${JSON.stringify(value)} is not one of ${decl.choices.map((c) => JSON.stringify(c)).join(", ")}`,
      {
        param: name,
      },
    );
  }
  return value;
}

/** The run's params: defaults, then overrides (each checked). */
export function resolveParams(
  pipeline: PipelineSpec,
  overrides: Record<string, unknown> = {},
  pipelineName = "pipeline",
): Record<string, Scalar> {
  // A Map: `-p toString=1` must be an undeclared param like any other, not find Object.prototype's.
  const declared = new Map(Object.entries(pipeline.params ?? {}).map(([k, v]) => [k, paramDecl(v)]));
  const out: Record<string, Scalar> = {};
  for (const [k, d] of declared) out[k] = d.default;
  for (const [k, raw] of Object.entries(overrides)) {
    const decl = declared.get(k);
    if (!decl) {
      const known = [...declared.keys()];
      throw new InvalidInputError(
        `param ${k}: ${pipelineName} declares no such param (params: ${known.length ? known.join(", ") : "none"})`,
        { param: k },
      );
    }
    out[k] = coerceParam(k, decl, raw);
  }
  return out;
}

/** `["lr=0.1", "name=a=b"]` → `{lr: "0.1", name: "a=b"}` (split at the first "="). */
export function parseParamArgs(args: string[]): Record<string, string> {
  // No prototype: `-p __proto__=1` is a key like any other (refused as undeclared), not dropped.
  const out = Object.create(null) as Record<string, string>;
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new InvalidInputError(`-p ${a}: expected key=value`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}
