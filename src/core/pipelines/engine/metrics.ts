/**
 * A step's `metrics:` file: `{"roc_auc": 0.91, "loss": 0.2}` or
 * `[{"name": "loss", "value": 0.3, "step": 1}, …]` (`key` is accepted for `name`, as MLflow writes it).
 */
import { InvalidInputError } from "../../errors.js";

export interface MetricValue {
  key: string;
  value: number;
  step: number;
}

export function parseMetrics(text: string, file: string): MetricValue[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`metrics file ${file} is not JSON: ${(error as Error).message}`);
  }
  const out: MetricValue[] = [];
  if (Array.isArray(data)) {
    for (const [i, item] of data.entries()) {
      const o = item as { name?: unknown; key?: unknown; value?: unknown; step?: unknown };
      const key = o?.name ?? o?.key;
      if (typeof key !== "string" || typeof o.value !== "number") {
        throw new InvalidInputError(`metrics file ${file}: item ${i} needs "name" (string) and "value" (number)`);
      }
      out.push({ key, value: o.value, step: typeof o.step === "number" ? o.step : 0 });
    }
    return out;
  }
  if (data && typeof data === "object") {
    for (const [key, value] of Object.entries(data)) {
      if (typeof value !== "number") throw new InvalidInputError(`metrics file ${file}: "${key}" is not a number`);
      out.push({ key, value, step: 0 });
    }
    return out;
  }
  throw new InvalidInputError(`metrics file ${file}: expected {name: number} or [{name, value, step}]`);
}

/** The latest value of each metric (highest step; later lines win ties). */
export function latestMetrics(points: MetricValue[]): Record<string, number> {
  const best = new Map<string, MetricValue>();
  for (const p of points) {
    const cur = best.get(p.key);
    if (!cur || p.step >= cur.step) best.set(p.key, p);
  }
  return Object.fromEntries([...best].map(([k, p]) => [k, p.value]));
}
