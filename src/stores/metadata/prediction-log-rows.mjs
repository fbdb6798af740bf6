// A logged request (see prediction-log-rows.d.mts for its shape) → the predictions table's column
// values, one row per instance. Plain JavaScript: the log writer's worker thread runs it as it is,
// from src/ (tests, tsx) and dist/ (copied as an asset), and the in-process path imports it too, so
// both build the same text.
//
// Why columns: a 64-row request used to become 64 row objects, 64 feature objects and 128 JSON
// strings on the event loop, and 768 values cloned to the worker: a third of a serving process's
// main-thread time and most of its garbage. Now the event loop hands over one object per request
// (feature values in a Float64Array, the outputs as the request's one JSON text) and the rows are
// made here, on the writer's thread.

/** `{"name":` prefixes per feature list (the same list object arrives once per message, so per batch). */
const prefixCache = new WeakMap();

function prefixesOf(names) {
  let prefixes = prefixCache.get(names);
  if (!prefixes) {
    prefixes = names.map((name, i) => `${i === 0 ? "{" : ","}${JSON.stringify(name)}:`);
    prefixCache.set(names, prefixes);
  }
  return prefixes;
}

/**
 * The features of each row as JSON text, keyed by feature name in signature order. A value that
 * is a plain number is in `values`; anything else (null, a boolean, a category's string) is NaN
 * there and found in `others` by its index. JSON input never holds NaN, so the mark is unambiguous,
 * and String(n) is JSON.stringify(n) for every finite number.
 */
export function featureTexts(request) {
  if (request.featureJson) return request.featureJson;
  const { names, values, others } = request;
  const rows = request.ids.length;
  const width = names.length;
  const texts = new Array(rows);
  if (width === 0) return texts.fill("{}");
  const prefixes = prefixesOf(names);
  let other = null;
  if (others && others.length) {
    other = new Map();
    for (let i = 0; i < others.length; i += 2) other.set(others[i], others[i + 1]);
  }
  for (let r = 0; r < rows; r++) {
    let text = "";
    const offset = r * width;
    for (let c = 0; c < width; c++) {
      const v = values[offset + c];
      text += prefixes[c] + (v === v ? String(v) : JSON.stringify(other?.get(offset + c) ?? null));
    }
    texts[r] = `${text}}`;
  }
  return texts;
}

/** Each row's output as JSON text, null for a failed request (the outputs arrive as one JSON array). */
export function outputTexts(request) {
  const rows = request.ids.length;
  if (request.outputs === null) return new Array(rows).fill(null);
  const outputs = JSON.parse(request.outputs);
  const texts = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = outputs[r];
    texts[r] = o === null || o === undefined ? null : JSON.stringify(o);
  }
  return texts;
}

export const PREDICTION_COLUMNS = [
  "id",
  "project",
  "endpoint",
  "model",
  "version",
  "slot",
  "request_id",
  "at",
  "latency_ms",
  "features",
  "output",
  "error",
];

/** Calls `row(values)` with each row's column values in PREDICTION_COLUMNS order (one array, reused). */
export function forEachRow(request, row) {
  const features = featureTexts(request);
  const outputs = outputTexts(request);
  const values = [
    null,
    request.project,
    request.endpoint,
    request.model,
    request.version,
    request.slot,
    request.requestId,
    request.at,
    request.latencyMs,
    null,
    null,
    request.error,
  ];
  for (let r = 0; r < request.ids.length; r++) {
    values[0] = request.ids[r];
    values[9] = features[r];
    values[10] = outputs[r];
    row(values);
  }
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One value in PostgreSQL's COPY text format: \N for null, backslash escapes for the four specials. */
export function copyValue(value) {
  if (value === null || value === undefined) return "\\N";
  const text = typeof value === "string" ? value : String(value);
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : text;
}

/** The requests' rows as COPY text (tab-separated columns, one line per row). */
export function copyText(requests) {
  const lines = [];
  for (const request of requests) {
    forEachRow(request, (values) => {
      let line = copyValue(values[0]);
      for (let i = 1; i < values.length; i++) line += `\t${copyValue(values[i])}`;
      lines.push(line);
    });
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}
