/**
 * The built-in steps, by name (`uses: tandem/<name>`). Add yours with one line below; see
 * contract.ts for what a builtin receives and returns.
 */
import { addDatasetBuiltin } from "./add-dataset.js";
import type { BuiltinStep } from "./contract.js";
import { deployBuiltin } from "./deploy.js";
import { echoBuiltin } from "./echo.js";
import { evalBuiltin } from "./eval.js";
import { evaluateBuiltin } from "./evaluate.js";
import { exportTrafficBuiltin } from "./export-traffic.js";
import { fairnessBuiltin } from "./fairness.js";
import { registerModelBuiltin } from "./register.js";
import { trainBuiltin } from "./train.js";
import { validateBuiltin } from "./validate.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of builtins with different `with` types
export type AnyBuiltin = BuiltinStep<any>;

const BUILTINS: AnyBuiltin[] = [
  echoBuiltin,
  evaluateBuiltin,
  fairnessBuiltin,
  registerModelBuiltin,
  exportTrafficBuiltin,
  validateBuiltin,
  deployBuiltin,
  trainBuiltin,
  evalBuiltin,
  addDatasetBuiltin,
];

/** Builtins added at run time (tests, plugins); the table above is the normal place. */
const extra = new Map<string, AnyBuiltin>();

export function registerBuiltin(step: AnyBuiltin): void {
  extra.set(step.name, step);
}

export function findBuiltin(name: string): AnyBuiltin | undefined {
  return extra.get(name) ?? BUILTINS.find((b) => b.name === name);
}

export function builtinNames(): string[] {
  return [...new Set([...BUILTINS.map((b) => b.name), ...extra.keys()])].sort();
}
