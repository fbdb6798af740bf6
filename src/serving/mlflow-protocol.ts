/**
 * Tandem's prediction shapes ↔ MLflow's scoring server (`POST /invocations`, MLflow 2.x).
 *
 * Requests: instances become `{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`. With a
 * signature, the columns are its features in order (an object instance is read by name, an array
 * instance in that order); without one, the keys of the object instances in order of appearance, or
 * no columns for array instances (MLflow then numbers them).
 *
 * Answers: `{"predictions": P}` where P is one value per row (a Series or 1-D array), one record per
 * row (a DataFrame), a list per row (a 2-D array), or columns of values (a dict of lists). A scalar
 * becomes `{"label": x}` for a classifier (label-typed output: integers, strings, booleans) and
 * `{"value": x}` for a regressor; without a signature, numbers are values and anything else a label.
 * A 400 from MLflow is the caller's input (a 422 here with MLflow's message); anything else is the
 * model's failure.
 */
import { UnprocessableError } from "../core/errors.js";
import type { ModelSignature } from "../core/training/signature.js";
import type { PredictProtocol } from "./command-runner.js";

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function columnsOf(instances: unknown[], signature: ModelSignature | null): string[] | null {
  if (signature?.features.length) return signature.features.map((f) => f.name);
  const seen = new Set<string>();
  for (const i of instances) if (isRecord(i)) for (const k of Object.keys(i)) seen.add(k);
  return seen.size ? [...seen] : null;
}

/** Tandem instances → MLflow's `dataframe_split`, and each instance keyed by column for the log. */
export function toDataframeSplit(
  instances: unknown[],
  signature: ModelSignature | null,
): { body: { dataframe_split: { columns?: string[]; data: unknown[][] } }; features: Array<Record<string, unknown>> } {
  const columns = columnsOf(instances, signature);
  const data: unknown[][] = [];
  const features: Array<Record<string, unknown>> = [];
  instances.forEach((instance, row) => {
    if (Array.isArray(instance)) {
      if (columns && instance.length !== columns.length)
        throw new UnprocessableError(
          `instances[${row}]: expected ${columns.length} values in signature order (${columns.join(", ")}), got ${instance.length}`,
        );
      data.push(instance);
      const names = columns ?? instance.map((_, i) => `f${i}`);
      features.push(Object.fromEntries(names.map((n, i) => [n, instance[i]])));
    } else if (isRecord(instance)) {
      const names = columns ?? [];
      // Own keys only, as the ONNX path reads them (a feature may be named constructor).
      const missing = signature?.features.length ? names.find((n) => !Object.hasOwn(instance, n)) : undefined;
      if (missing !== undefined)
        throw new UnprocessableError(`instances[${row}]: missing feature ${JSON.stringify(missing)}`, {
          instance: row,
          feature: missing,
        });
      const values = names.map((n) => (Object.hasOwn(instance, n) ? (instance[n] ?? null) : null));
      data.push(values);
      features.push(Object.fromEntries(names.map((n, i) => [n, values[i]])));
    } else {
      throw new UnprocessableError(
        `instances[${row}]: expected an object keyed by feature name or an array of values, got ${instance === null ? "null" : typeof instance}`,
      );
    }
  });
  return { body: { dataframe_split: { ...(columns ? { columns } : {}), data } }, features };
}

function scalarAnswer(value: unknown, signature: ModelSignature | null): unknown {
  const classifier = signature ? signature.task !== "regression" : typeof value !== "number";
  return classifier ? { label: value } : { value };
}

/** MLflow's `predictions` → one Tandem prediction per row. */
export function fromMlflowPredictions(predictions: unknown, rows: number, signature: ModelSignature | null): unknown[] {
  let perRow: unknown[];
  if (Array.isArray(predictions)) perRow = predictions;
  else if (isRecord(predictions) && Object.values(predictions).every(Array.isArray)) {
    // Columns of values (a dict of arrays): one record per row.
    const entries = Object.entries(predictions as Record<string, unknown[]>);
    const n = entries[0]?.[1].length ?? 0;
    perRow = Array.from({ length: n }, (_, r) => Object.fromEntries(entries.map(([k, v]) => [k, v[r]])));
  } else throw new Error(`MLflow's scoring server answered predictions of an unexpected shape`);
  if (perRow.length !== rows)
    throw new Error(`MLflow's scoring server answered ${perRow.length} predictions for ${rows} instances`);
  return perRow.map((p) => {
    if (isRecord(p)) {
      // A one-column DataFrame (e.g. `{"prediction": 1}`) is one value per row.
      const values = Object.values(p);
      return values.length === 1 && !isRecord(values[0]) && !Array.isArray(values[0])
        ? scalarAnswer(values[0], signature)
        : p;
    }
    return Array.isArray(p) ? { value: p } : scalarAnswer(p, signature);
  });
}

/** The message of an MLflow error body (`{"error_code", "message", "stack_trace"}`), else the text. */
function mlflowMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === "string") return body.message.split("\n").find((l) => l.trim()) ?? body.message;
  } catch {
    // not JSON: the raw text below
  }
  return text.slice(0, 300);
}

export function mlflowProtocol(signature: ModelSignature | null): PredictProtocol {
  return {
    request: (instances) => toDataframeSplit(instances, signature),
    response(status, text, rows) {
      if (status === 400) throw new UnprocessableError(`the MLflow model refused the input: ${mlflowMessage(text)}`);
      if (status < 200 || status >= 300)
        throw new Error(`MLflow's scoring server answered HTTP ${status}: ${mlflowMessage(text)}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`MLflow's scoring server answered something other than JSON: ${text.slice(0, 200)}`);
      }
      if (!isRecord(body) || !("predictions" in body))
        throw new Error(`MLflow's scoring server must answer {"predictions": …}`);
      return fromMlflowPredictions(body.predictions, rows, signature);
    },
  };
}
