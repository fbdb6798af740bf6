/**
 * Replays HTTP exchanges recorded from the real MLflow Python client (test/fixtures/mlflow/*.json)
 * against a live server and compares each answer's normalised shape with the recorded one. Ids and
 * times differ from run to run, so they are normalised; recorded ids in later requests are mapped to
 * the ids this server handed out.
 */
const HEX32 = /[0-9a-f]{32}/g;
const TIME_KEYS = new Set([
  "start_time",
  "end_time",
  "creation_time",
  "last_update_time",
  "creation_timestamp",
  "last_updated_timestamp",
  "timestamp",
]);

export interface Exchange {
  /** Ids found in the raw answer, in the order `normalize` walks it (to map them on replay). */
  ids?: string[];
  method: string;
  url: string;
  content_type: string | null;
  request: unknown;
  status: number;
  /** The answer, normalised by `normalize`. */
  response: unknown;
}

export interface Recording {
  recorded_with: string;
  script: string;
  exchanges: Exchange[];
}

export function normalize(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, normalize(v, k)]),
    );
  }
  if (key && TIME_KEYS.has(key)) return "<time>";
  if (typeof value === "number" && value > 1e12) return "<time>";
  if (typeof value === "string") return value.replace(HEX32, "<id>");
  return value;
}

export function substitute(text: string, ids: Map<string, string>): string {
  return text.replace(HEX32, (id) => ids.get(id) ?? id);
}

/** Query values are percent-encoded (`%27<id>%27`), so ids are replaced in the decoded parts. */
function substituteUrl(url: string, ids: Map<string, string>): string {
  const u = new URL(url, "http://replay.invalid");
  const params = new URLSearchParams();
  for (const [k, v] of u.searchParams) params.append(k, substitute(v, ids));
  const qs = params.toString();
  return substitute(u.pathname, ids) + (qs ? `?${qs}` : "");
}

export interface ReplayResult {
  index: number;
  method: string;
  url: string;
  expected: { status: number; response: unknown };
  actual: { status: number; response: unknown };
}

/** Sends every exchange in order, mapping recorded ids to live ones as answers reveal them. */
export async function replay(baseUrl: string, token: string, recording: Recording): Promise<ReplayResult[]> {
  const ids = new Map<string, string>();
  const results: ReplayResult[] = [];
  for (const [index, ex] of recording.exchanges.entries()) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let body: string | Buffer | undefined;
    if (ex.request !== null && ex.request !== undefined) {
      const req = ex.request as { base64?: string };
      if (typeof req === "object" && typeof req.base64 === "string") {
        body = Buffer.from(req.base64, "base64");
        if (ex.content_type) headers["content-type"] = ex.content_type;
      } else {
        body = substitute(JSON.stringify(ex.request), ids);
        headers["content-type"] = "application/json";
      }
    }
    const res = await fetch(baseUrl + substituteUrl(ex.url, ids), { method: ex.method, headers, body });
    const buf = Buffer.from(await res.arrayBuffer());
    const ctype = res.headers.get("content-type") ?? "";
    let live: unknown = null;
    if (buf.length)
      live = ctype.includes("json") ? JSON.parse(buf.toString("utf8")) : { base64: buf.toString("base64") };
    learnIdsFromRecording(ex, live, ids);
    results.push({
      index,
      method: ex.method,
      url: ex.url,
      expected: { status: ex.status, response: ex.response },
      actual: { status: res.status, response: normalize(live) },
    });
  }
  return results;
}

function learnIdsFromRecording(ex: Exchange, live: unknown, ids: Map<string, string>): void {
  if (!ex.ids?.length) return;
  const liveIds = idsInOrder(live);
  ex.ids.forEach((id, i) => {
    if (liveIds[i] && !ids.has(id)) ids.set(id, liveIds[i]!);
  });
}

/** The recorded ids of a raw answer, in the order `normalize` meets them. */
export function idsInOrder(value: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key?: string) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x));
    else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
      ))
        walk(x, k);
    else if (typeof v === "string" && !(key && TIME_KEYS.has(key))) out.push(...(v.match(HEX32) ?? []));
  };
  walk(value);
  return out;
}

/**
 * What the replay compares between MLflow's recorded answer and Tandem's: the keys and JSON types all
 * the way down, MLflow's `error_code` and downloaded bytes exactly. Values (ids, times, version
 * numbers, messages) may differ. MLflow writes protobuf messages, which leave out empty repeated
 * fields, so an empty array counts as absent; arrays compare by the set of their elements' shapes.
 */
export function shapeOf(value: unknown, key?: string): unknown {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    const shapes = new Map(value.map((v) => shapeOf(v)).map((s) => [JSON.stringify(s), s]));
    return [...shapes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  }
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const s = shapeOf(v, k);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  if (key === "error_code" || key === "base64") return value;
  return typeof value;
}

/** A deliberate difference from MLflow 2.12: `path` (dotted, `[]` for array elements) left out of the comparison. */
export interface KnownDifference {
  /** Which exchanges: matched against "<script> <index> <METHOD> <url>". */
  where: RegExp;
  /** Key path, matched as a suffix, e.g. "model_version.user_id" or "latest_versions[].tags". */
  path: string;
  why: string;
}

/** The shape with every key a known difference names removed (for the exchanges it applies to). */
export function withoutKnown(shape: unknown, at: string, known: KnownDifference[], path = ""): unknown {
  const paths = known.filter((k) => k.where.test(at)).map((k) => k.path);
  if (!paths.length) return shape;
  const walk = (v: unknown, p: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, `${p}[]`));
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([k]) => !paths.some((s) => `${p}.${k}`.endsWith(`.${s}`) || `${p}.${k}` === s))
          .map(([k, x]) => [k, walk(x, `${p}.${k}`)]),
      );
    return v;
  };
  return walk(shape, path);
}
