/**
 * Stable OpenAPI operationIds, derived from each route's method and URL so that every route any
 * area adds gets one without a hand-kept list. Generated clients turn them into function names, so
 * they read like calls:
 *
 *   GET    /api/v1/projects/{project}/runs                 listRuns
 *   POST   /api/v1/projects/{project}/runs                 createRun
 *   GET    /api/v1/projects/{project}/runs/{run}           getRun
 *   POST   /api/v1/projects/{project}/runs/{run}/restore   restoreRun
 *   POST   /api/2.0/mlflow/runs/log-metric                 mlflowLogRunMetric
 *   POST   /v2/models/{endpoint}/infer                     v2InferModel
 *
 * A route may set `operationId` itself; `assignOperationIds` makes any remaining clash unique by
 * appending the method, and the route test keeps them unique.
 */
import type { AnyRoute } from "./route-kit.js";

/** Prefixes that carry no meaning of their own, and the word a family of routes starts with. */
const PREFIXES: Array<[RegExp, string]> = [
  [/^\/api\/v1\/projects\/:project(?=\/|$)/, ""],
  [/^\/api\/v1(?=\/|$)/, ""],
  [/^\/api\/2\.0\/mlflow-artifacts(?=\/|$)/, "mlflowArtifacts"],
  [/^\/api\/2\.0\/mlflow(?=\/|$)/, "mlflow"],
  [/^\/v2(?=\/|$)/, "v2"],
  [/^\/v1(?=\/|$)/, "v1"],
];

/** Action words that read as the verb of the call when a URL ends with them. */
const VERBS = new Set([
  "ack",
  "approve",
  "cancel",
  "create",
  "delete",
  "export",
  "gc",
  "get",
  "infer",
  "list",
  "log",
  "predict",
  "promote",
  "reject",
  "rename",
  "restore",
  "resume",
  "retry",
  "rollback",
  "run",
  "search",
  "set",
  "transition",
  "update",
  "validate",
  "verify",
]);

function words(segment: string): string[] {
  return segment
    .split(/[-_.]/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

function pascal(parts: string[]): string {
  return parts.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

function singular(word: string): string {
  if (word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (/(ss|us|is|as)$/.test(word)) return word;
  if (/(sses|xes|ches|shes|ases)$/.test(word)) return word.slice(0, -2);
  return word.endsWith("s") ? word.slice(0, -1) : word;
}

const PLURAL_VERBS = new Set(["search", "list", "gc"]);

const isParam = (segment: string) => segment.startsWith(":") || segment === "*";

/** The operationId a route gets unless it names one. */
export function deriveOperationId(method: string, url: string): string {
  let rest = url;
  let family = "";
  for (const [pattern, word] of PREFIXES) {
    if (pattern.test(rest)) {
      rest = rest.replace(pattern, "");
      family = word;
      break;
    }
  }
  const segments = rest.split("/").filter(Boolean);
  // Nouns: each static segment; one followed by a parameter names one item, so it is singular.
  const nouns: string[][] = [];
  segments.forEach((segment, i) => {
    if (isParam(segment)) return;
    const w = words(segment);
    nouns.push(isParam(segments[i + 1] ?? "") ? [...w.slice(0, -1), singular(w.at(-1)!)] : w);
  });
  const last = segments.at(-1) ?? "";
  const lastWords = words(last);
  let verb: string;
  let object: string[];
  if (!last || isParam(last)) {
    verb = { GET: "get", PUT: "put", PATCH: "update", DELETE: "delete", POST: "post" }[method] ?? method.toLowerCase();
    object = nouns.flat();
  } else if (VERBS.has(lastWords[0]!)) {
    // `/runs/{run}/restore`, `/runs/log-metric`, `/experiments/get-by-name`: the action leads.
    verb = lastWords[0]!;
    const owner = nouns.slice(0, -1).flat();
    const rest2 = lastWords.slice(1);
    const ownerNoun =
      owner.length && !isParam(segments.at(-2) ?? "") ? [...owner.slice(0, -1), singular(owner.at(-1)!)] : owner;
    // `search`, `list` and `gc` read with the plural (searchRuns); others with one item (logRunMetric).
    const subject = PLURAL_VERBS.has(verb) ? owner : ownerNoun;
    object = rest2.some((w) => subject.includes(w) || subject.includes(singular(w))) ? rest2 : [...subject, ...rest2];
  } else if (method === "GET") {
    const plural = lastWords.at(-1)!.endsWith("s") && singular(lastWords.at(-1)!) !== lastWords.at(-1);
    verb = plural ? "list" : "get";
    object = nouns.flat();
  } else {
    const tail = lastWords.at(-1)!;
    const collection = singular(tail) !== tail;
    verb = { POST: collection ? "create" : "post", PUT: "put", PATCH: "update", DELETE: "delete" }[method] ?? "call";
    const all = nouns.flat();
    object = verb === "create" ? [...all.slice(0, -1), singular(all.at(-1)!)] : all;
  }
  if (family === "mlflow" && !VERBS.has(lastWords[0] ?? "") && !isParam(last)) {
    // MLflow's `/registered-models/alias`: one alias of one model, as MLflow names its calls
    // (SetRegisteredModelAlias, GetRegisteredModelAlias, DeleteRegisteredModelAlias).
    verb = { POST: "set", GET: "get", DELETE: "delete" }[method] ?? verb;
    object = nouns.flatMap((n, i) => (i === nouns.length - 2 ? [...n.slice(0, -1), singular(n.at(-1)!)] : n));
  }
  const name = `${verb}${pascal(object)}`;
  return family ? `${family}${pascal([name])}` : name;
}

/** operationId per route, in route order: declared, else derived; a clash gets its method appended. */
export function assignOperationIds(routes: AnyRoute[]): Map<AnyRoute, string> {
  const ids = new Map<AnyRoute, string>();
  const taken = new Set<string>();
  for (const route of routes) {
    let id = route.operationId ?? deriveOperationId(route.method, route.url);
    if (taken.has(id)) id = `${id}${pascal([route.method.toLowerCase()])}`;
    for (let n = 2; taken.has(id); n++) id = `${id}${n}`;
    taken.add(id);
    ids.set(route, id);
  }
  return ids;
}
