/**
 * `order_by` of MLflow's registered-models/search and model-versions/search, as MLflow 2.12's SQL
 * store reads it (mlflow/store/model_registry/sqlalchemy_store.py `_parse_search_*_order_by`, and
 * mlflow/utils/search_utils.py): a key and an optional ASC/DESC, only the keys listed below, and
 * the natural order as tie-breakers. An unknown key is 400 INVALID_PARAMETER_VALUE with MLflow's
 * message (before, any other key silently sorted by the last update). Two clauses on one field
 * (`name` and `name DESC`; `timestamp` and `last_updated_timestamp`) are refused, as MLflow refuses
 * them, with its message.
 */
import { InvalidInputError } from "../../core/errors.js";
import { compareCodePoints } from "../../core/tracking/filter/evaluate.js";

export interface OrderClause {
  /** The field sorted on (`name`, `version`, `createdAt`, `updatedAt`). */
  field: string;
  asc: boolean;
}

/** `_parse_order_by_string`: one token, or a token and a direction. */
function keyAndDirection(clause: string): { key: string; asc: boolean } {
  const tokens = clause.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0 || tokens.length > 2)
    throw new InvalidInputError(`Invalid order_by clause '${clause}'. Could not be parsed.`);
  const direction = tokens[1]?.toLowerCase() ?? "asc";
  if (direction !== "asc" && direction !== "desc")
    throw new InvalidInputError(`Invalid ordering key in order_by clause '${clause}'.`);
  // shlex.split (with backticks as double quotes) takes quotes off the key.
  return { key: tokens[0]!.replace(/[`"']/g, ""), asc: direction === "asc" };
}

/** Python's repr of a str, as MLflow's message prints the order_by list. */
function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

/**
 * `_parse_search_*_order_by`: each field once. MLflow raises this without an error code, so its
 * server answers 500 INTERNAL_ERROR, which its client retries (5 times, backoff factor 2: tens of
 * seconds) before raising; here the same message is a 400 INVALID_PARAMETER_VALUE, raised at once.
 */
function refuseDuplicates(clauses: OrderClause[], orderBy: string[]): void {
  const seen = new Set(clauses.map((c) => c.field));
  if (seen.size < clauses.length)
    throw new InvalidInputError(`\`order_by\` contains duplicate fields: [${orderBy.map(pythonRepr).join(", ")}]`);
}

/**
 * Registered models: `name`, `timestamp` and `last_updated_timestamp` (both the last update in the
 * SQL store); the message names the keys MLflow recommends, as a Python set.
 */
const MODEL_FIELDS = new Map([
  ["name", "name"],
  ["timestamp", "updatedAt"],
  ["last_updated_timestamp", "updatedAt"],
]);

export function registeredModelsOrder(orderBy: string[] | undefined): OrderClause[] {
  const clauses = (orderBy ?? []).map((clause) => {
    const { key, asc } = keyAndDirection(clause);
    const field = MODEL_FIELDS.get(key);
    if (field === undefined)
      throw new InvalidInputError(`Invalid order by key '${key}' specified. Valid keys are '{'name', 'timestamp'}'`);
    return { field, asc };
  });
  refuseDuplicates(clauses, orderBy ?? []);
  if (!clauses.some((c) => c.field === "name")) clauses.push({ field: "name", asc: true });
  return clauses;
}

/** Model versions: these attribute keys, optionally as `attribute.<key>` (tags are no order key). */
const VERSION_FIELDS = new Map([
  ["name", "name"],
  ["version_number", "version"],
  ["creation_timestamp", "createdAt"],
  ["last_updated_timestamp", "updatedAt"],
]);
const VERSION_KEYS = `{${[...VERSION_FIELDS.keys()].map((k) => `'${k}'`).join(", ")}}`;
const ENTITY_TYPES = new Map([
  ["attribute", "attribute"],
  ["tag", "tag"],
  ["tags", "tag"],
]);

/**
 * MLflow's default when no order_by is given (search_model_versions): the last updated first, then
 * its tie-breakers. Without it here, versions came by name (a name's newest version first).
 */
const VERSIONS_DEFAULT = ["last_updated_timestamp DESC", "name ASC", "version_number DESC"];

export function modelVersionsOrder(orderBy: string[] | undefined): OrderClause[] {
  const given = orderBy?.length ? orderBy : VERSIONS_DEFAULT;
  const clauses = given.map((clause) => {
    const { key: token, asc } = keyAndDirection(clause);
    // SearchExperimentsUtils._get_identifier: an entity type before the first dot.
    const dot = token.indexOf(".");
    const entity = dot < 0 ? "attribute" : ENTITY_TYPES.get(token.slice(0, dot));
    if (entity === undefined)
      throw new InvalidInputError(
        `Invalid entity type '${token.slice(0, dot)}'. Valid entity types are ('attribute', 'tag', 'tags')`,
      );
    const key = dot < 0 ? token : token.slice(dot + 1);
    const field = VERSION_FIELDS.get(key);
    if (field === undefined)
      throw new InvalidInputError(
        entity === "attribute"
          ? `Invalid attribute key '${key}' specified. Valid keys are '${VERSION_KEYS}'`
          : `Invalid order by key '${key}' specified. Valid keys are ${VERSION_KEYS}`,
      );
    return { field, asc };
  });
  refuseDuplicates(clauses, given);
  if (!clauses.some((c) => c.field === "name")) clauses.push({ field: "name", asc: true });
  if (!clauses.some((c) => c.field === "version")) clauses.push({ field: "version", asc: false });
  return clauses;
}

/** Items sorted by the clauses (`value` reads a clause's field); ties keep their order. */
export function sortByClauses<T>(
  items: T[],
  clauses: OrderClause[],
  value: (item: T, field: string) => string | number,
): T[] {
  return [...items].sort((a, b) => {
    for (const o of clauses) {
      const x = value(a, o.field);
      const y = value(b, o.field);
      const c = typeof x === "number" ? x - (y as number) : compareCodePoints(x, y as string);
      if (c) return o.asc ? c : -c;
    }
    return 0;
  });
}
