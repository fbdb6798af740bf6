/**
 * The checks a monitor runs on one window, each returning pass/fail with its evidence.
 */
import { assertNever } from "../../errors.js";
import { classificationMetrics, fairnessReport, regressionMetrics, type Label } from "../../evaluation/index.js";
import type { Table } from "../columns.js";
import { computeDrift, driftReportToWire, type DriftOptions, type DriftReport } from "../drift.js";
import type { CheckConfig, CheckResult, MonitorDefinition } from "./model.js";
import { runLlmCheck } from "./llm-checks.js";
import { driftFeatures, PREDICTION, PREDICTION_SCORE, TARGET, rowCount, type WindowData } from "./window.js";

/** The drift report's wire shape (as `tandem monitors drift --json`), plus what a monitor result keeps. */
export function driftDetails(report: DriftReport): Record<string, unknown> {
  const wire = driftReportToWire(report);
  return {
    ...wire,
    drift_share: report.driftShare,
    reference_rows: report.referenceRows,
    current_rows: report.currentRows,
    columns: wire.columns.map((c, i) => ({ ...c, histogram: report.columns[i]!.histogram })),
    skipped: report.skipped,
  };
}

/** Feedback labels and predictions may arrive as 1, "1" or true: compare them as strings. */
function labels(values: ArrayLike<unknown>): Label[] {
  return Array.from(values, (v) => (v === true ? "1" : v === false ? "0" : String(v)));
}

function isRegression(window: WindowData): boolean {
  const predictions = window.labelled[PREDICTION] ?? window.table[PREDICTION] ?? [];
  const scores = window.labelled[PREDICTION_SCORE] ?? [];
  return scores.every((s) => s === null) && predictions.some((p) => typeof p === "number" && !Number.isInteger(p));
}

function metricsOf(table: Record<string, ArrayLike<unknown>>, regression: boolean): Record<string, number | null> {
  const yTrue = table[TARGET] ?? [];
  const yPred = table[PREDICTION] ?? [];
  if (regression) {
    return {
      ...regressionMetrics(
        Float64Array.from(yTrue as ArrayLike<number>, Number),
        Float64Array.from(yPred as ArrayLike<number>, Number),
      ),
    };
  }
  const scores = table[PREDICTION_SCORE];
  const probability =
    scores && Array.from(scores).every((s) => typeof s === "number")
      ? Float64Array.from(scores as ArrayLike<number>)
      : undefined;
  const yt = labels(yTrue);
  const posLabel = yt.includes("1") ? "1" : undefined;
  return { ...classificationMetrics({ yTrue: yt, yPred: labels(yPred), probability, posLabel }) };
}

function pick(table: Record<string, ArrayLike<unknown>>, columns: string[]): Table {
  // Own columns into a map without a prototype: a column `__proto__` is kept, `toString` not invented.
  const out = Object.create(null) as Record<string, ArrayLike<unknown>>;
  for (const c of columns) if (Object.hasOwn(table, c)) out[c] = table[c]!;
  return out;
}

function singleColumnDrift(
  ref: ArrayLike<unknown> | undefined,
  cur: ArrayLike<unknown> | undefined,
  check: { test?: DriftOptions["test"]; threshold?: number },
  what: string,
): CheckResult | string {
  if (!ref || rowCount({ x: ref }) === 0) return `the reference has no ${what} column`;
  if (!cur || cur.length === 0) return `the window has no ${what} values`;
  const report = computeDrift(
    { [what]: ref },
    { [what]: cur },
    {
      test: check.test,
      perColumn: check.threshold !== undefined ? { [what]: { threshold: check.threshold } } : undefined,
      histograms: true,
    },
  );
  const col = report.columns[0];
  if (!col) return report.skipped[0]?.reason ?? `${what} could not be tested`;
  return {
    check: what === TARGET ? "target_drift" : "prediction_drift",
    passed: !col.drift,
    summary: `${what}: ${col.test} ${col.statistic.toPrecision(4)}${col.pValue !== null ? ` (p=${col.pValue.toExponential(2)})` : ""} vs threshold ${col.threshold}${col.drift ? " — drift" : ""}`,
    details: driftDetails(report),
  };
}

function skippedCheck(check: CheckConfig["kind"], reason: string): CheckResult {
  return { check, passed: true, summary: `skipped: ${reason}`, details: { skipped: reason } };
}

function p95(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

export function runCheck(
  def: MonitorDefinition,
  check: CheckConfig,
  window: WindowData,
  reference: Table | null,
): CheckResult {
  const targetCol = def.roles.target ?? TARGET;
  const predictionCol = def.roles.prediction ?? PREDICTION;
  switch (check.kind) {
    case "data_drift": {
      if (!reference) return skippedCheck(check.kind, "no reference data yet");
      const features = driftFeatures(def.roles, Object.keys(reference), (c) => window.table[c] !== undefined);
      if (features.length === 0)
        return skippedCheck(check.kind, "no feature columns in both the reference and the window");
      const perColumn: Record<string, { test?: DriftOptions["test"]; threshold?: number }> = {};
      for (const [name, c] of Object.entries(check.perColumn ?? {})) perColumn[name] = c;
      if (check.threshold !== undefined)
        for (const f of features) perColumn[f] = { threshold: check.threshold, ...perColumn[f] };
      const report = computeDrift(pick(reference, features), pick(window.table, features), {
        test: check.test,
        perColumn,
        driftShare: check.driftShare,
        histograms: true,
      });
      const drifted = report.columns.filter((c) => c.drift).map((c) => c.name);
      return {
        check: check.kind,
        passed: !report.datasetDrift,
        summary: `${drifted.length} of ${report.columns.length} features drifted (share ${report.shareDrifted.toFixed(2)}, dataset drift at ${report.driftShare})${drifted.length ? `: ${drifted.join(", ")}` : ""}`,
        details: driftDetails(report),
      };
    }
    case "prediction_drift": {
      // The reference's own predictions when it has them; else its true labels — a model that is right
      // about as often as before predicts about the same mix.
      const ref = reference ? (reference[predictionCol] ?? reference[targetCol]) : undefined;
      const r = singleColumnDrift(ref, window.table[PREDICTION], check, PREDICTION);
      return typeof r === "string" ? skippedCheck(check.kind, r) : r;
    }
    case "target_drift": {
      const r = singleColumnDrift(reference?.[targetCol], window.labelled[TARGET], check, TARGET);
      return typeof r === "string" ? skippedCheck(check.kind, r) : r;
    }
    case "performance": {
      const n = rowCount(window.labelled);
      if (n < def.minRows) return skippedCheck(check.kind, `${n} labelled rows, fewer than min_rows ${def.minRows}`);
      const regression = isRegression(window);
      const current = metricsOf(window.labelled, regression);
      const value = current[check.metric];
      if (value === undefined || value === null)
        return skippedCheck(check.kind, `metric ${check.metric} is not available for this model`);
      let baseline: number | null = null;
      if (check.maxDrop !== undefined && reference?.[targetCol] && reference[predictionCol]) {
        baseline =
          metricsOf({ [TARGET]: reference[targetCol], [PREDICTION]: reference[predictionCol] }, regression)[
            check.metric
          ] ?? null;
      }
      const failures: string[] = [];
      if (check.min !== undefined && value < check.min)
        failures.push(`${check.metric} ${value.toFixed(4)} < min ${check.min}`);
      if (check.max !== undefined && value > check.max)
        failures.push(`${check.metric} ${value.toFixed(4)} > max ${check.max}`);
      if (check.maxDrop !== undefined && baseline !== null && baseline - value > check.maxDrop) {
        failures.push(
          `${check.metric} dropped ${(baseline - value).toFixed(4)} from ${baseline.toFixed(4)} (max_drop ${check.maxDrop})`,
        );
      }
      return {
        check: check.kind,
        passed: failures.length === 0,
        summary: failures.length ? failures.join("; ") : `${check.metric} ${value.toFixed(4)} on ${n} labelled rows`,
        details: {
          metric: check.metric,
          value,
          baseline,
          min: check.min ?? null,
          max: check.max ?? null,
          max_drop: check.maxDrop ?? null,
          labelled_rows: n,
          metrics: current,
        },
      };
    }
    case "fairness": {
      const n = rowCount(window.labelled);
      const groups = window.labelled[check.attribute];
      if (n < def.minRows || !groups)
        return skippedCheck(
          check.kind,
          groups
            ? `${n} labelled rows, fewer than min_rows ${def.minRows}`
            : `no ${check.attribute} column in the traffic`,
        );
      const yt = labels(window.labelled[TARGET]!);
      const report = fairnessReport(yt, labels(window.labelled[PREDICTION]!), groups, {
        posLabel: yt.includes("1") ? "1" : undefined,
      });
      const byMetric: Record<string, number> = {
        demographic_parity_difference: report.demographicParityDifference,
        demographic_parity_ratio: report.demographicParityRatio,
        equalized_odds_difference: report.equalizedOddsDifference,
        equal_opportunity_difference: report.equalOpportunityDifference,
      };
      const value = byMetric[check.metric];
      if (value === undefined)
        return skippedCheck(
          check.kind,
          `unknown fairness metric ${check.metric}; known: ${Object.keys(byMetric).join(", ")}`,
        );
      const failed = (check.max !== undefined && value > check.max) || (check.min !== undefined && value < check.min);
      return {
        check: check.kind,
        passed: !failed,
        summary: `${check.metric} by ${check.attribute}: ${value.toFixed(4)}${check.max !== undefined ? ` (max ${check.max})` : ""}${check.min !== undefined ? ` (min ${check.min})` : ""}`,
        details: {
          attribute: check.attribute,
          metric: check.metric,
          value,
          max: check.max ?? null,
          min: check.min ?? null,
          groups: report.groups,
          four_fifths: report.passesFourFifths,
        },
      };
    }
    case "latency": {
      if (window.latenciesMs.length === 0) return skippedCheck(check.kind, "no requests in the window");
      const value = p95(window.latenciesMs);
      return {
        check: check.kind,
        passed: value <= check.p95Ms,
        summary: `p95 latency ${value.toFixed(1)} ms (SLO ${check.p95Ms} ms)`,
        details: { p95_ms: value, slo_ms: check.p95Ms, requests: window.rows },
      };
    }
    case "error_rate": {
      if (window.rows === 0) return skippedCheck(check.kind, "no requests in the window");
      const rate = window.errors / window.rows;
      return {
        check: check.kind,
        passed: rate <= check.max,
        summary: `error rate ${(rate * 100).toFixed(2)}% (SLO ${(check.max * 100).toFixed(2)}%)`,
        details: { error_rate: rate, max: check.max, errors: window.errors, requests: window.rows },
      };
    }
    case "tokens":
    case "cost":
    case "feedback":
      return runLlmCheck(check, window);
    case "sampled_eval":
      // Asynchronous (scorers call out): the monitor service runs it before the other checks.
      return skippedCheck(check.kind, "scored by the monitor service");
    default:
      return assertNever(check, "check");
  }
}
