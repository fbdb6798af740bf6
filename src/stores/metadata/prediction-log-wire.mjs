// A batch of logged requests (WireRequest, see prediction-log-rows.d.mts) packed into a few flat
// columns for the trip to the log writer's thread, and unpacked there into the same objects.
// Plain JavaScript for the same reason as prediction-log-rows.mjs: the worker runs it as it is.
//
// Why: postMessage clones an object graph property by property on the sending thread, and one object
// per request (15 fields, a Float64Array of its own, an array of ids) cost ~5% of a 1-row serving
// process's event loop (CPU profile under load). Packed, a batch is three numeric buffers that move
// without a copy (transferred), one string (a single copy) and two short lists; the per-object work
// happens on the writer's thread, which unpacks.

/** Numbers per request in `meta`, in this order. */
const VERSION = 0;
const AT = 1;
const LATENCY_MS = 2;
const ROWS = 3;
const PROJECT = 4;
const ENDPOINT = 5;
const MODEL = 6;
const SLOT = 7;
/** Index into `names` of the request's feature list, or -1 (features as JSON texts). */
const NAMES = 8;
/** Length of the request's values in `values`, or -1 when it has none. */
const VALUES = 9;
/** Index into `dict` of the request's id run's head, or -1 (its ids ride in `text`); then the run's first number. */
const ID_HEAD = 10;
const ID_FIRST = 11;
/** 0: outputs as text (or null) in `text`; 1: output columns of classes; 2: of values (output-rows.mjs). */
const OUT_KIND = 12;
/** Classes: index into `labelLists` of the class labels (-1: none), probabilities per row, and flags. */
const OUT_LABELS = 13;
const OUT_K = 14;
/** Bit 1: a label per row rides in `numbers`; bit 2: rows × k probabilities follow it. */
const OUT_FLAGS = 15;
const META = 16;

/**
 * `value`'s index in `list`, appending it the first time (by identity: a string, or the same feature
 * or label list object), so each distinct value crosses to the writer thread once per packet.
 */
function interner(list) {
  const index = new Map();
  return (value) => {
    let i = index.get(value);
    if (i === undefined) {
      i = list.push(value) - 1;
      index.set(value, i);
    }
    return i;
  };
}

/**
 * Packs requests: `packet` goes to postMessage with `transfer` as its transfer list.
 * Strings ride in `text`, cut by `lengths` (-1 for null), per request in this order: request id,
 * error, outputs (null when they are columns: their numbers ride in `numbers`, their class labels
 * once per list in `labelLists`), then its ids (none when they are one run: its head in `dict`, its
 * first number in `meta`). A 64-row request's outputs text and ids were ~7 KB of `text` each, one
 * string that postMessage had to flatten and copy twice on the event loop (~40 µs a request, CPU
 * profile under wrk at load 7); now its text is its request id. Repeated fields (project, endpoint, model, slot) are indices into
 * `dict`; each distinct feature list object is sent once, in `names`. Rare fields (non-numeric
 * feature values, features as JSON texts) ride as they are in `extras`.
 */
export function packRequests(requests) {
  const count = requests.length;
  const meta = new Float64Array(count * META);
  let pieces = 0;
  let valueCount = 0;
  let numberCount = 0;
  for (const r of requests) {
    pieces += 3 + (r.idRun ? 0 : r.ids.length);
    if (r.values) valueCount += r.values.length;
    const out = columnsOf(r.outputs);
    if (out)
      numberCount +=
        out.kind === "values" ? out.values.length : (out.labels?.length ?? 0) + (out.probabilities?.length ?? 0);
  }
  const lengths = new Int32Array(pieces);
  const values = new Float64Array(valueCount);
  const numbers = new Float64Array(numberCount);
  let numberAt = 0;
  const putNumbers = (array) => {
    numbers.set(array, numberAt);
    numberAt += array.length;
  };
  const labelLists = [];
  const labelListOf = interner(labelLists);
  const dict = [];
  const indexOf = interner(dict);
  const names = [];
  const nameListOf = interner(names);
  let extras = null;
  let text = "";
  let piece = 0;
  let valueAt = 0;
  const put = (s) => {
    if (s === null || s === undefined) lengths[piece++] = -1;
    else {
      lengths[piece++] = s.length;
      text += s;
    }
  };
  for (let i = 0; i < count; i++) {
    const r = requests[i];
    const m = i * META;
    meta[m + VERSION] = r.version;
    meta[m + AT] = r.at;
    meta[m + LATENCY_MS] = r.latencyMs;
    meta[m + ROWS] = r.rows ?? r.ids.length;
    meta[m + PROJECT] = indexOf(r.project);
    meta[m + ENDPOINT] = indexOf(r.endpoint);
    meta[m + MODEL] = indexOf(r.model);
    meta[m + SLOT] = indexOf(r.slot);
    meta[m + NAMES] = r.names ? nameListOf(r.names) : -1;
    if (r.values) {
      values.set(r.values, valueAt);
      valueAt += r.values.length;
      meta[m + VALUES] = r.values.length;
    } else meta[m + VALUES] = -1;
    if (r.others || r.featureJson) (extras ??= []).push(i, r.others, r.featureJson);
    meta[m + ID_HEAD] = r.idRun ? indexOf(r.idRun.head) : -1;
    meta[m + ID_FIRST] = r.idRun ? r.idRun.first : 0;
    const out = columnsOf(r.outputs);
    if (!out) meta[m + OUT_KIND] = 0;
    else if (out.kind === "values") {
      meta[m + OUT_KIND] = 2;
      putNumbers(out.values);
    } else {
      meta[m + OUT_KIND] = 1;
      meta[m + OUT_LABELS] = out.classLabels ? labelListOf(out.classLabels) : -1;
      meta[m + OUT_K] = out.k;
      meta[m + OUT_FLAGS] = (out.labels ? 1 : 0) | (out.probabilities ? 2 : 0);
      if (out.labels) putNumbers(out.labels);
      if (out.probabilities) putNumbers(out.probabilities);
    }
    put(r.requestId);
    put(r.error);
    put(out ? null : r.outputs);
    if (!r.idRun) for (const id of r.ids) put(id);
  }
  const packet = { count, meta, lengths, text, dict, names, values, numbers, labelLists, extras };
  return { packet, transfer: [meta.buffer, lengths.buffer, values.buffer, numbers.buffer] };
}

/** A request's output columns, or null when its outputs are text (or null). */
function columnsOf(outputs) {
  return outputs !== null && typeof outputs === "object" ? outputs : null;
}

/** The requests a packet holds, as packRequests was given them (values as views on one buffer). */
export function unpackRequests(packet) {
  const { count, meta, lengths, text, dict, names, values, numbers, labelLists, extras } = packet;
  const rare = new Map();
  for (let e = 0; extras && e < extras.length; e += 3) rare.set(extras[e], [extras[e + 1], extras[e + 2]]);
  const requests = new Array(count);
  let piece = 0;
  let at = 0;
  let valueAt = 0;
  let numberAt = 0;
  const takeNumbers = (n) => {
    const view = numbers.subarray(numberAt, numberAt + n);
    numberAt += n;
    return view;
  };
  const take = () => {
    const length = lengths[piece++];
    if (length < 0) return null;
    const s = text.slice(at, at + length);
    at += length;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const m = i * META;
    const rows = meta[m + ROWS];
    const requestId = take();
    const error = take();
    let outputs = take();
    const kind = meta[m + OUT_KIND];
    if (kind === 2) outputs = { kind: "values", rows, values: takeNumbers(rows) };
    else if (kind === 1) {
      const k = meta[m + OUT_K];
      const flags = meta[m + OUT_FLAGS];
      const labels = flags & 1 ? takeNumbers(rows) : null;
      const probabilities = flags & 2 ? takeNumbers(rows * k) : null;
      const l = meta[m + OUT_LABELS];
      outputs = { kind: "classes", rows, classLabels: l >= 0 ? labelLists[l] : null, k, labels, probabilities };
    }
    const head = meta[m + ID_HEAD];
    let ids = null;
    let idRun = null;
    if (head >= 0) idRun = { head: dict[head], first: meta[m + ID_FIRST] };
    else {
      ids = new Array(rows);
      for (let r = 0; r < rows; r++) ids[r] = take();
    }
    const valueLength = meta[m + VALUES];
    let requestValues = null;
    if (valueLength >= 0) {
      requestValues = values.subarray(valueAt, valueAt + valueLength);
      valueAt += valueLength;
    }
    const [others, featureJson] = rare.get(i) ?? [null, null];
    requests[i] = {
      project: dict[meta[m + PROJECT]],
      endpoint: dict[meta[m + ENDPOINT]],
      model: dict[meta[m + MODEL]],
      version: meta[m + VERSION],
      slot: dict[meta[m + SLOT]],
      requestId,
      at: meta[m + AT],
      latencyMs: meta[m + LATENCY_MS],
      error,
      ids,
      idRun,
      rows,
      names: meta[m + NAMES] >= 0 ? names[meta[m + NAMES]] : null,
      values: requestValues,
      others: others ?? null,
      featureJson: featureJson ?? null,
      outputs,
    };
  }
  return requests;
}
