/**
 * What a call cost: tokens × the per-model price table (per million tokens). A project's table
 * (`llm: { prices: … }` in tandem.yaml) wins over the defaults below. The defaults are list prices
 * in US dollars as published by their providers in 2025; they go stale, which is why a project can
 * set its own, and why a model in neither table has no cost (null) rather than a guessed one.
 * A model matches its own name, else the longest table entry it starts with
 * (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).
 */
import type { ModelPrice } from "./model.js";

export const DEFAULT_PRICES: Record<string, ModelPrice> = {
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "o3-mini": { input: 1.1, output: 4.4 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },
  "claude-3-5-sonnet": { input: 3, output: 15 },
  "claude-sonnet-4": { input: 3, output: 15 },
};

export function priceOf(model: string | null, table: Record<string, ModelPrice>): ModelPrice | null {
  if (!model) return null;
  for (const t of [table, DEFAULT_PRICES]) {
    // Own keys only: the model name is the caller's (an OTLP span's attribute), and `constructor`
    // found Object here, priced the span NaN, and on Postgres summed its trace's cost to null.
    if (Object.hasOwn(t, model)) return t[model]!;
    let best: string | null = null;
    for (const key of Object.keys(t)) if (model.startsWith(key) && (!best || key.length > best.length)) best = key;
    if (best) return t[best]!;
  }
  return null;
}

export function costOf(
  model: string | null,
  inputTokens: number | null,
  outputTokens: number | null,
  table: Record<string, ModelPrice>,
): number | null {
  const price = priceOf(model, table);
  if (!price || (inputTokens === null && outputTokens === null)) return null;
  const cost = ((inputTokens ?? 0) * price.input + (outputTokens ?? 0) * price.output) / 1_000_000;
  // Micro-dollar precision: sums of many calls stay exact enough and rows stay readable.
  return Math.round(cost * 1e9) / 1e9;
}
