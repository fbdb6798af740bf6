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

/**
 * `{"name":` prefixes per feature list (the same list object arrives once per message, so per
 * batch), and whether any of them holds a backslash (a name with a quote or a tab), which COPY text
 * must escape.
 */
const prefixCache = new WeakMap();

function prefixesOf(names) {
  let cached = prefixCache.get(names);
  if (!cached) {
    const prefixes = names.map((name, i) => `${i === 0 ? "{" : ","}${JSON.stringify(name)}:`);
    cached = { prefixes, plain: prefixes.every((p) => !p.includes("\\")) };
    prefixCache.set(names, cached);
  }
  return cached;
}

/**
 * Per feature list, a function that makes one row's object from `values` at an offset: an object
 * literal with the names as its keys, in signature order. JSON.stringify writes such an object in
 * about half the time of the per-value concatenation below (2.5 against 4.9 µs per row of 20
 * numbers, same run): it formats each number straight into its output, where String(n) makes a
 * string per number, and the text it gives is flat, so SQLite's binding does not flatten a rope.
 * Lists it cannot stand for are null: a name that is an array index (an object puts those first)
 * or `__proto__` (a literal sets the prototype instead), and duplicate names.
 */
const rowMakers = new Map();
const rowMakerOfList = new WeakMap();

function rowMakerOf(names) {
  let maker = rowMakerOfList.get(names);
  if (maker !== undefined) return maker;
  const key = names.join("\u0000");
  maker = rowMakers.get(key);
  if (maker === undefined) {
    const plain =
      names.length > 0 &&
      new Set(names).size === names.length &&
      names.every((name) => name !== "__proto__" && !/^\d+$/.test(name));
    // The names enter the code as JSON string literals, which JavaScript reads back as the same
    // strings: a name cannot become code.
    maker = plain
      ? new Function("v", "o", `return {${names.map((name, i) => `${JSON.stringify(name)}: v[o + ${i}]`).join(", ")}};`)
      : null;
    // Feature lists are few (one per deployed model version); the bound only guards a long-lived writer.
    if (rowMakers.size >= 1000) rowMakers.clear();
    rowMakers.set(key, maker);
  }
  rowMakerOfList.set(names, maker);
  return maker;
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
  const maker = others && others.length ? null : rowMakerOf(names);
  if (maker) {
    for (let r = 0; r < rows; r++) texts[r] = JSON.stringify(maker(values, r * width));
    return texts;
  }
  const { prefixes } = prefixesOf(names);
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

/**
 * The elements of a JSON array's text, each as its own JSON text (null for a `null` element), found
 * by scanning the text once instead of parsing and re-serialising it: JSON.stringify(array) writes
 * each element exactly as JSON.stringify(element) would, so the slices are the rows' texts. Parsing
 * and re-serialising cost about 0.9 µs per 64-row request's row on the writer's thread; the scan
 * about a tenth of that.
 */
export function arrayElementTexts(text, count) {
  const texts = new Array(count);
  let n = 0;
  let depth = 0;
  let start = 1;
  let inString = false;
  const end = (i) => {
    const element = text.slice(start, i);
    if (n < count) texts[n] = element === "null" ? null : element;
    n++;
    start = i + 1;
  };
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) depth++;
    else if (c === 93 || c === 125) {
      if (depth === 0) {
        if (i > start) end(i); // the closing bracket of a non-empty array
        break;
      }
      depth--;
    } else if (c === 44 && depth === 0) end(i);
  }
  for (; n < count; n++) texts[n] = null;
  return texts;
}

/** Each row's output as JSON text, null for a failed request (the outputs arrive as one JSON array). */
export function outputTexts(request) {
  const rows = request.ids.length;
  if (request.outputs === null) return new Array(rows).fill(null);
  return arrayElementTexts(request.outputs, rows);
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

/**
 * One request's rows as COPY text lines. What the rows share (project … latency, the error) is
 * escaped once per request, not once per row. Texts that cannot hold a COPY special character are
 * not scanned: feature texts built from numbers alone (no `others`), and output texts when the
 * request's JSON has no backslash (JSON writes tab, newline and carriage return as backslash
 * escapes, so without a backslash there is none of the four).
 */
export function copyLines(request) {
  const rows = request.ids.length;
  const features = featureTexts(request);
  const outputs = outputTexts(request);
  // Numbers alone under names without a backslash: nothing to escape.
  const featuresPlain =
    request.featureJson === null &&
    !(request.others && request.others.length) &&
    (request.names === null || request.names.length === 0 || prefixesOf(request.names).plain);
  const outputsPlain = request.outputs === null || request.outputs.indexOf("\\") < 0;
  const shared =
    `\t${copyValue(request.project)}\t${copyValue(request.endpoint)}\t${copyValue(request.model)}` +
    `\t${copyValue(request.version)}\t${copyValue(request.slot)}\t${copyValue(request.requestId)}` +
    `\t${copyValue(request.at)}\t${copyValue(request.latencyMs)}\t`;
  const error = `\t${copyValue(request.error)}\n`;
  let text = "";
  for (let r = 0; r < rows; r++) {
    const f = features[r];
    const o = outputs[r];
    text +=
      copyValue(request.ids[r]) +
      shared +
      (featuresPlain ? f : copyValue(f)) +
      "\t" +
      (o === null ? "\\N" : outputsPlain ? o : copyValue(o)) +
      error;
  }
  return text;
}

/**
 * The requests' rows as COPY text in chunks of about `chunkChars` characters, made as the COPY
 * stream asks for them: PostgreSQL parses one chunk while this thread makes the next, and a
 * 200 000-row batch never becomes one 90 MB string. With copyLines, 3.5 µs of this thread's CPU per
 * row of 64-row requests (20 numeric features), where one string per batch with every value
 * escaped took 7.7 µs (same machine, same run): most of what is left is writing the feature numbers
 * as text (String(number), ~0.1 µs each).
 */
export function* copyChunks(requests, chunkChars = 65_536) {
  let chunk = "";
  for (const request of requests) {
    chunk += copyLines(request);
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}
