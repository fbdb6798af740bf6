/**
 * The small grammar policies share: metric thresholds (`roc_auc >= 0.70`), which direction of a
 * metric is better, and `applies_to` name patterns. Pure; no imports from the rest of the registry,
 * so the spec schema can use it without a cycle.
 */

const OPS = [">=", "<=", "==", "!=", ">", "<"] as const;
export type Op = (typeof OPS)[number];

export interface MetricThreshold {
  metric: string;
  op: Op;
  threshold: number;
}

/** Parses `roc_auc >= 0.70`; returns an error message instead of throwing, for decision records. */
export function parseMetricThreshold(text: string): MetricThreshold | string {
  const m = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/.exec(text);
  if (!m)
    return `cannot read ${JSON.stringify(text)}: expected "<metric> <op> <number>" with op one of ${OPS.join(" ")}`;
  return { metric: m[1]!, op: m[2] as Op, threshold: Number(m[3]) };
}

export function compare(value: number, op: Op, threshold: number): boolean {
  switch (op) {
    case ">=":
      return value >= threshold;
    case ">":
      return value > threshold;
    case "<=":
      return value <= threshold;
    case "<":
      return value < threshold;
    case "==":
      return value === threshold;
    case "!=":
      return value !== threshold;
  }
}

const LOWER_IS_BETTER = new Set(["rmse", "mae", "mse", "log_loss", "calibration_error"]);

export function lowerIsBetter(metric: string): boolean {
  return LOWER_IS_BETTER.has(metric) || metric.endsWith("_difference");
}

/** `applies_to` names: exact, or `*` for any run of characters (`*` alone matches everything). */
export function matchesPattern(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
  return re.test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
