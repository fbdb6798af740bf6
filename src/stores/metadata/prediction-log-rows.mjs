// A logged request (see prediction-log-rows.d.mts for its shape) → prediction_batches rows (one per
// request, migration 0503), and a stored batch → each prediction's features and output texts, made
// exactly as the per-row log stored them. Plain JavaScript: the log writer's worker thread runs it
// as it is, from src/ (tests, tsx) and dist/ (copied as an asset), and the in-process path and the
// store's readers import it too.
//
// Why columns: a 64-row request used to become 64 row objects, 64 feature objects and 128 JSON
// strings on the event loop, and 768 values cloned to the worker: a third of a serving process's
// main-thread time and most of its garbage. Now the event loop hands over one object per request
// (feature values in a Float64Array, the outputs as the request's one JSON text), and the writer
// stores it as it came; rows' texts are made only when a reader asks for them.

import { outputsJson } from "../../core/serving/output-rows.mjs";

/**
 * `{"name":` prefixes per feature list (the same list object arrives once per message, so per
 * batch), and whether any of them holds a backslash (a name with a quote or a tab), which COPY text
 * must escape.
 */
const prefixCache = new WeakMap();

/** A request's row count: its ids, or its id run's length. */
export function rowCount(request) {
  return request.ids ? request.ids.length : request.rows;
}

/** A request's outputs as one JSON array text (made here from output columns), or null. */
function outputsText(request) {
  const { outputs } = request;
  return outputs !== null && typeof outputs === "object" ? outputsJson(outputs) : outputs;
}

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
 * What making one row's features text needs, worked out once per request (or stored batch): a
 * row maker for plain numeric lists, else the `{"name":` prefixes and the NaN-marked values.
 */
function featureContext(request) {
  const { names, values, others } = request;
  const width = names.length;
  const hasOthers = others !== null && others !== undefined && others.length > 0;
  const maker = hasOthers || width === 0 ? null : rowMakerOf(names);
  let other = null;
  if (hasOthers) {
    other = new Map();
    for (let i = 0; i < others.length; i += 2) other.set(others[i], others[i + 1]);
  }
  return { values, width, maker, prefixes: maker || width === 0 ? null : prefixesOf(names).prefixes, other };
}

/** Row `r`'s features as JSON text (see featureTexts). */
function featureRowText(context, r) {
  const { values, width, maker, prefixes, other } = context;
  if (width === 0) return "{}";
  if (maker) return JSON.stringify(maker(values, r * width));
  let text = "";
  const offset = r * width;
  for (let c = 0; c < width; c++) {
    const v = values[offset + c];
    text += prefixes[c] + (v === v ? String(v) : JSON.stringify(other?.get(offset + c) ?? null));
  }
  return `${text}}`;
}

/**
 * The features of each row as JSON text, keyed by feature name in signature order. A value that
 * is a plain number is in `values`; anything else (null, a boolean, a category's string) is NaN
 * there and found in `others` by its index. JSON input never holds NaN, so the mark is unambiguous,
 * and String(n) is JSON.stringify(n) for every finite number.
 */
export function featureTexts(request) {
  if (request.featureJson) return request.featureJson;
  const rows = rowCount(request);
  const texts = new Array(rows);
  const context = featureContext(request);
  for (let r = 0; r < rows; r++) texts[r] = featureRowText(context, r);
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
  const rows = rowCount(request);
  if (request.outputs === null) return new Array(rows).fill(null);
  return arrayElementTexts(outputsText(request), rows);
}

// ---------------------------------------------------------------------------------------------
// Packed batches (migration 0503): the log keeps one row per run of a request's predictions whose
// ids follow each other, not one row per prediction. A 64-row request is one insert of one row
// (and two index entries) where it was 64 rows with three b-tree entries each: ~10 µs of the writer
// thread's CPU per prediction, most of it SQLite's per-row work and each row's features JSON.

/** The columns of prediction_batches in the order batchesOf() gives them. */
export const BATCH_COLUMNS = [
  "id_head",
  "id_first",
  "rows",
  "project",
  "endpoint",
  "model",
  "version",
  "slot",
  "request_id",
  "at",
  "latency_ms",
  "error",
  "feature_names",
  "feature_values",
  "feature_others",
  "features",
  "outputs",
];

const HEX_ID = /^[0-9a-f]{32}$/;

/**
 * Where an id sits in the batches' key: a 32-hex id (what newId() and fastId() make) is its first
 * 24 characters and the number its last 8 spell; any other id is itself with -1, a batch of one.
 */
export function idKey(id) {
  return HEX_ID.test(id) ? [id.slice(0, 24), Number.parseInt(id.slice(24), 16)] : [id, -1];
}

/** The id of row `index` of a batch keyed (head, first). */
export function idAt(head, first, index) {
  return first < 0 ? head : head + (first + index).toString(16).padStart(8, "0");
}

/**
 * A request's ids as runs [start, end) of ids that follow each other (fastId makes a request's ids
 * one after the other, so a request is one run; the counter's wrap, once in 2^32 ids, or ids made
 * otherwise start a new one).
 */
export function idRuns(ids) {
  const runs = [];
  let start = 0;
  while (start < ids.length) {
    const [head, first] = idKey(ids[start]);
    let end = start + 1;
    if (first >= 0)
      while (end < ids.length && first + (end - start) <= 0xffffffff && ids[end] === idAt(head, first, end - start))
        end++;
    runs.push({ start, end, head, first });
    start = end;
  }
  return runs;
}

const namesTexts = new WeakMap();

/** A feature list's JSON text, made once per list object (one per message and model version). */
function namesText(names) {
  let text = namesTexts.get(names);
  if (text === undefined) namesTexts.set(names, (text = JSON.stringify(names)));
  return text;
}

/** Whether this machine stores a double's bytes little-endian (the log's blobs are little-endian). */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** Feature values as a little-endian blob: a view on the same memory where the machine is little-endian. */
export function valuesBlob(values) {
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.alloc(values.byteLength);
  for (let i = 0; i < values.length; i++) out.writeDoubleLE(values[i], i * 8);
  return out;
}

/** A stored blob's values (copied when the blob's memory is not 8-byte aligned). */
export function blobValues(blob) {
  if (!LITTLE_ENDIAN) {
    const out = new Float64Array(blob.byteLength / 8);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
    return out;
  }
  if (blob.byteOffset % 8 === 0) return new Float64Array(blob.buffer, blob.byteOffset, blob.byteLength / 8);
  return new Float64Array(Uint8Array.prototype.slice.call(blob).buffer);
}

/**
 * One request's batches, each its BATCH_COLUMNS values (feature_values a Float64Array, made a blob
 * by the writer). Features stay as they came: columns (names once, the values, the NaN-marked
 * others) or, for runners that answer records, the rows' JSON texts as one JSON array; outputs stay
 * the request's one JSON array text. Nothing per row is made here but the ids' check.
 */
export function batchesOf(request) {
  const runs = request.idRun
    ? [{ start: 0, end: rowCount(request), head: request.idRun.head, first: request.idRun.first }]
    : idRuns(request.ids);
  const whole = runs.length === 1;
  const width = request.names ? request.names.length : 0;
  const text = outputsText(request);
  const outputs = text === null || whole ? null : arrayElementTexts(text, rowCount(request));
  return runs.map(({ start, end, head, first }) => {
    let names = null;
    let values = null;
    let others = null;
    let features = null;
    if (request.featureJson) {
      features = `[${request.featureJson.slice(start, end).join(",")}]`;
    } else {
      names = namesText(request.names);
      values = whole ? request.values : request.values.subarray(start * width, end * width);
      if (request.others && request.others.length) {
        const kept = [];
        const from = start * width;
        const to = end * width;
        for (let i = 0; i < request.others.length; i += 2) {
          const index = request.others[i];
          if (index >= from && index < to) kept.push(index - from, request.others[i + 1]);
        }
        if (kept.length) others = JSON.stringify(kept);
      }
    }
    let out = null;
    if (text !== null)
      out = whole
        ? text
        : `[${outputs
            .slice(start, end)
            .map((o) => o ?? "null")
            .join(",")}]`;
    return [
      head,
      first,
      end - start,
      request.project,
      request.endpoint,
      request.model,
      request.version,
      request.slot,
      request.requestId,
      request.at,
      request.latencyMs,
      request.error,
      names,
      values,
      others,
      features,
      out,
    ];
  });
}

/**
 * A stored batch's rows, each as the per-row layout stored it: features as JSON text (made exactly as
 * featureTexts made them when a row was written) and outputs as JSON text or null.
 */
export class StoredBatch {
  constructor(row) {
    this.row = row;
    this.rows = Number(row.rows);
    this.first = Number(row.id_first);
    this.context = null;
    this.featureList = null;
    this.outputList = undefined;
  }

  id(index) {
    return idAt(this.row.id_head, this.first, index);
  }

  featureText(index) {
    const row = this.row;
    if (row.features !== null && row.features !== undefined) {
      this.featureList ??= arrayElementTexts(row.features, this.rows);
      return this.featureList[index] ?? "null";
    }
    this.context ??= featureContext({
      names: JSON.parse(row.feature_names),
      values: blobValues(row.feature_values),
      others: row.feature_others ? JSON.parse(row.feature_others) : null,
    });
    return featureRowText(this.context, index);
  }

  outputText(index) {
    if (this.outputList === undefined)
      this.outputList = this.row.outputs === null ? null : arrayElementTexts(this.row.outputs, this.rows);
    return this.outputList === null ? null : this.outputList[index];
  }
}

/**
 * One batch as a line of PostgreSQL's COPY text format (BATCH_COLUMNS order): the blob as bytea's
 * hex form, every text escaped for COPY.
 */
export function copyLine(batch) {
  let line = "";
  for (let c = 0; c < batch.length; c++) {
    const value = batch[c];
    if (c > 0) line += "\t";
    line += value instanceof Float64Array ? `\\\\x${valuesBlob(value).toString("hex")}` : copyValue(value);
  }
  return `${line}\n`;
}

/** The requests' batches as COPY text in chunks of about `chunkChars` characters, made as the stream asks. */
export function* copyChunks(requests, chunkChars = 65_536) {
  let chunk = "";
  for (const request of requests) {
    if (rowCount(request) === 0) continue;
    for (const batch of batchesOf(request)) chunk += copyLine(batch);
    if (chunk.length >= chunkChars) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One value in PostgreSQL's COPY text format: \N for null, backslash escapes for the four specials. */
export function copyValue(value) {
  if (value === null || value === undefined) return "\\N";
  const text = typeof value === "string" ? value : String(value);
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : text;
}
