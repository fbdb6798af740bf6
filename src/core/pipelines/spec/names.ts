/**
 * Name rules shared by every part of a spec. Names become URL segments, file names and (for outputs)
 * environment variable suffixes, so they stay within a small alphabet.
 */
import { z } from "zod";
import { NAME_PATTERN } from "./name-pattern.js";

export { NAME_PATTERN };

export const nameSchema = z
  .string()
  .regex(NAME_PATTERN, { error: "must start with a letter and use only letters, digits, '_' and '-' (at most 100)" });

/** An input, output, param or matrix key: these appear inside `${{ … }}`, so no '-' (it would read as minus). */
export const IDENT_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

export const identSchema = z
  .string()
  .regex(IDENT_PATTERN, { error: "must start with a letter or '_' and use only letters, digits and '_'" });

/**
 * A project secret's name, as `tandem secrets set` takes it: an environment variable name, but not
 * `__proto__`, which no plain object can hold as a key (the step's secret map dropped it, so the step
 * ran without it and without a word).
 */
export const secretNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "a secret name is an environment variable name" })
  .refine((name) => name !== "__proto__", {
    error: 'the secret name "__proto__" is reserved (every JavaScript object has it): rename it',
  });

/** `TANDEM_OUTPUT_<NAME>`: the environment variable a step reads to find output `name`'s path. */
export function outputEnvName(output: string): string {
  return `TANDEM_OUTPUT_${output.toUpperCase()}`;
}

/** A scalar a param, matrix value or `with:` leaf may hold. */
export const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);
export type Scalar = z.infer<typeof scalarSchema>;

/** "90s", "30m", "1h30m", "2h", "500ms", or a number of seconds. */
export const durationSchema = z.union([
  z.number().positive(),
  z
    .string()
    .regex(/^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)\s*)+$/, { error: 'expected a duration such as "90s", "30m" or "1h30m"' }),
]);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(value: number | string): number {
  if (typeof value === "number") return value * 1000;
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}
