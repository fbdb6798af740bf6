/**
 * From a `monitors:` entry of tandem.yaml (or the API) to a MonitorDefinition, with errors that
 * name the monitor and the field.
 */
import { Cron } from "croner";
import { InvalidInputError } from "../../errors.js";
import { DRIFT_TESTS, type DriftTest } from "../drift.js";
import type { CheckConfig, ColumnRoles, MonitorDefinition } from "./model.js";

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export function parseDuration(value: string, where: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new InvalidInputError(`${where}: expected a duration like 15m, 1h or 7d, got ${JSON.stringify(value)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

function num(o: Raw, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new InvalidInputError(`${where}.${key}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}

function str(o: Raw, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !v)
    throw new InvalidInputError(`${where}.${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function test(o: Raw, where: string): DriftTest | undefined {
  const t = str(o, "test", where);
  if (t !== undefined && !(DRIFT_TESTS as readonly string[]).includes(t)) {
    throw new InvalidInputError(`${where}.test: expected one of ${DRIFT_TESTS.join(", ")}, got ${JSON.stringify(t)}`);
  }
  return t as DriftTest | undefined;
}

const KNOWN_CHECKS = [
  "data_drift",
  "prediction_drift",
  "target_drift",
  "performance",
  "fairness",
  "latency",
  "error_rate",
  "tokens",
  "cost",
  "feedback",
  "sampled_eval",
];

function required(o: Raw, key: string, at: string, what: string): number {
  const v = num(o, key, at);
  if (v === undefined) throw new InvalidInputError(`${at}.${key}: required (${what})`);
  return v;
}

function parseCheck(entry: unknown, where: string, thresholds: Raw): CheckConfig {
  let kind: string;
  let o: Raw;
  if (typeof entry === "string") {
    kind = entry;
    o = isObject(thresholds[entry]) ? (thresholds[entry] as Raw) : {};
  } else if (isObject(entry) && Object.keys(entry).length === 1) {
    kind = Object.keys(entry)[0]!;
    const inner = entry[kind];
    o = isObject(inner) ? inner : {};
  } else {
    throw new InvalidInputError(`${where}: a check is a name (data_drift) or {name: {options}}`);
  }
  const at = `${where}.${kind}`;
  switch (kind) {
    case "data_drift": {
      const perColumn: Record<string, { test?: DriftTest; threshold?: number }> = {};
      const columns = o.columns;
      if (columns !== undefined) {
        if (!isObject(columns)) throw new InvalidInputError(`${at}.columns: expected {column: {test, threshold}}`);
        for (const [name, c] of Object.entries(columns)) {
          if (!isObject(c)) throw new InvalidInputError(`${at}.columns.${name}: expected {test, threshold}`);
          perColumn[name] = {
            test: test(c, `${at}.columns.${name}`),
            threshold: num(c, "threshold", `${at}.columns.${name}`),
          };
        }
      }
      return {
        kind,
        test: test(o, at),
        threshold: num(o, "threshold", at),
        driftShare: num(o, "drift_share", at),
        perColumn,
      };
    }
    case "prediction_drift":
    case "target_drift":
      return { kind, test: test(o, at), threshold: num(o, "threshold", at) };
    case "performance": {
      const metric = str(o, "metric", at) ?? "accuracy";
      const check = {
        kind,
        metric,
        min: num(o, "min", at),
        max: num(o, "max", at),
        maxDrop: num(o, "max_drop", at),
      } as const;
      if (check.min === undefined && check.max === undefined && check.maxDrop === undefined) {
        throw new InvalidInputError(`${at}: give min, max or max_drop for ${metric}`);
      }
      return check;
    }
    case "fairness": {
      const attribute = str(o, "attribute", at);
      if (!attribute) throw new InvalidInputError(`${at}.attribute: required (the sensitive column)`);
      return {
        kind,
        attribute,
        metric: str(o, "metric", at) ?? "demographic_parity_difference",
        max: num(o, "max", at),
        min: num(o, "min", at),
      };
    }
    case "latency": {
      const p95Ms = num(o, "p95_ms", at);
      if (p95Ms === undefined) throw new InvalidInputError(`${at}.p95_ms: required (the SLO, in milliseconds)`);
      return { kind, p95Ms };
    }
    case "error_rate": {
      const max = num(o, "max", at);
      if (max === undefined) throw new InvalidInputError(`${at}.max: required (the SLO, a fraction such as 0.01)`);
      return { kind, max };
    }
    case "tokens":
    case "cost":
      return { kind, maxPerCall: required(o, "max_per_call", at, `the largest mean ${kind} per call`) };
    case "feedback":
      return { kind, min: required(o, "min", at, "the lowest mean feedback score, e.g. 0.7") };
    case "sampled_eval": {
      const percent = num(o, "percent", at) ?? 10;
      if (percent <= 0 || percent > 100)
        throw new InvalidInputError(`${at}.percent: expected (0, 100], got ${percent}`);
      if (!Array.isArray(o.scorers) || o.scorers.length === 0)
        throw new InvalidInputError(`${at}.scorers: required (tandem/eval's scorers, e.g. [{regex: "^Order"}])`);
      return {
        kind,
        percent,
        scorers: o.scorers as unknown[],
        min: required(o, "min", at, "each scorer's lowest mean"),
      };
    }
    default:
      throw new InvalidInputError(`${where}: unknown check ${JSON.stringify(kind)}; known: ${KNOWN_CHECKS.join(", ")}`);
  }
}

function stringList(v: unknown, where: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new InvalidInputError(`${where}: expected a column name or a list of them`);
}

function parseRoles(v: unknown, where: string): ColumnRoles {
  if (v === undefined) return {};
  if (!isObject(v))
    throw new InvalidInputError(`${where}: expected {features, target, prediction, datetime, sensitive}`);
  return {
    features: stringList(v.features, `${where}.features`),
    target: str(v, "target", where),
    prediction: str(v, "prediction", where),
    datetime: str(v, "datetime", where),
    sensitive: stringList(v.sensitive, `${where}.sensitive`),
  };
}

/** Turns one `monitors:` entry into a definition; `raw` follows the tandem.yaml monitor schema. */
export function monitorDefinition(project: string, name: string, raw: unknown): MonitorDefinition {
  const where = `monitors.${name}`;
  if (!isObject(raw)) throw new InvalidInputError(`${where}: expected a mapping`);
  const endpoint = str(raw, "endpoint", where) ?? null;
  const dataset = str(raw, "dataset", where) ?? null;
  const traces = traceStream(raw.traces, `${where}.traces`);
  if ([endpoint, dataset, traces].filter((x) => x !== null).length !== 1)
    throw new InvalidInputError(`${where}: a monitor watches one endpoint, dataset or trace stream (traces:)`);
  const schedule = str(raw, "schedule", where) ?? null;
  const timezone = str(raw, "timezone", where) ?? "UTC";
  if (schedule) {
    try {
      new Cron(schedule, { timezone, paused: true });
    } catch (error) {
      throw new InvalidInputError(`${where}.schedule: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const window = str(raw, "window", where);
  const thresholds = isObject(raw.thresholds) ? raw.thresholds : {};
  const checksRaw = raw.checks ?? ["data_drift"];
  if (!Array.isArray(checksRaw) || checksRaw.length === 0)
    throw new InvalidInputError(`${where}.checks: expected a non-empty list`);
  const reference = str(raw, "reference", where) ?? null;
  if (reference && !reference.startsWith("dataset://") && !reference.startsWith("window:")) {
    throw new InvalidInputError(
      `${where}.reference: expected dataset://NAME@VERSION or window:-DURATION, got ${JSON.stringify(reference)}`,
    );
  }
  if (reference?.startsWith("window:"))
    parseDuration(reference.slice("window:".length).replace(/^-/, ""), `${where}.reference`);
  return {
    project,
    name,
    endpoint,
    dataset,
    traces,
    schedule,
    timezone,
    windowMs: window ? parseDuration(window, `${where}.window`) : null,
    reference,
    roles: parseRoles(raw.columns, `${where}.columns`),
    checks: checksRaw.map((c, i) => parseCheck(c, `${where}.checks[${i}]`, thresholds)),
    minRows: num(raw, "min_rows", where) ?? 30,
    maxRows: maxRows(raw, where),
    rawWindowMaxMs:
      raw.raw_window_max === undefined
        ? 24 * 3_600_000
        : parseDuration(str(raw, "raw_window_max", where)!, `${where}.raw_window_max`),
  };
}

/** `traces: true` (every trace of the project) or `traces: {model: NAME}`. */
function traceStream(v: unknown, where: string): { model: string | null } | null {
  if (v === undefined || v === false) return null;
  if (v === true) return { model: null };
  if (isObject(v)) return { model: str(v, "model", where) ?? null };
  throw new InvalidInputError(`${where}: expected true or {model: NAME}`);
}

/** Rows read from one window at most before sampling (raw-row checks); longer windows should use profiles. */
export const MAX_WINDOW_ROWS = 1_000_000;

function maxRows(raw: Raw, where: string): number {
  const n = num(raw, "max_rows", where);
  if (n === undefined) return MAX_WINDOW_ROWS;
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidInputError(`${where}.max_rows: expected a positive integer, got ${n}`);
  return n;
}

/** The next time a schedule fires after `after`, or null without a schedule. */
export function nextRunAfter(def: MonitorDefinition, after: number): number | null {
  if (!def.schedule) return null;
  const next = new Cron(def.schedule, { timezone: def.timezone, paused: true }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}
